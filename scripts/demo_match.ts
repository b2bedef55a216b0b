/**
 * Simulated matches for `deno task demo`: pure, seeded, no I/O. Each tick is one minute of play
 * and yields the writes a scorer would send (clock and period, goals, status changes), so the
 * same seed always plays the same games.
 */

export type Sport = "football" | "basketball" | "hockey";

export interface MatchPlan {
  id: string;
  title: string;
  sport: Sport;
  home: string;
  away: string;
  /** Ticks before kick-off: screens show it `scheduled` first. */
  startsAfter: number;
}

/** The score after a write. */
export interface Score {
  home: number;
  away: number;
}

/** One write: what the demo sends, a line for its console, and the score once it is made. */
export type DemoWrite =
  | { kind: "put"; body: Record<string, unknown>; note: string; score: Score }
  | { kind: "patch"; body: Record<string, unknown>; note: string; score: Score }
  | { kind: "score"; side: "home" | "away"; points: number; note: string; score: Score };

export const DEMO_MATCHES: readonly MatchPlan[] = [
  {
    id: "demo-cup-final",
    title: "Cup Final",
    sport: "football",
    home: "Lions",
    away: "Tigers",
    startsAfter: 0,
  },
  {
    id: "demo-derby",
    title: "City Derby",
    sport: "football",
    home: "Rovers",
    away: "United",
    startsAfter: 4,
  },
  {
    id: "demo-hoops",
    title: "League Basketball",
    sport: "basketball",
    home: "Comets",
    away: "Giants",
    startsAfter: 1,
  },
  {
    id: "demo-ice",
    title: "Ice Hockey Semi-final",
    sport: "hockey",
    home: "Wolves",
    away: "Bears",
    startsAfter: 8,
  },
];

interface Rules {
  /** Periods and their length in minutes. */
  periods: { name: string; minutes: number }[];
  /** Ticks of break between periods. */
  breakTicks: number;
  /** Chance per minute per side of a scoring play, and the points it may be worth. */
  chance: number;
  points: number[];
  /** Football's clock runs on through the match; the others' restarts each period. */
  continuousClock: boolean;
}

const RULES: Record<Sport, Rules> = {
  football: {
    periods: [{ name: "1st half", minutes: 45 }, { name: "2nd half", minutes: 45 }],
    breakTicks: 3,
    chance: 0.03,
    points: [1],
    continuousClock: true,
  },
  basketball: {
    periods: [1, 2, 3, 4].map((q) => ({ name: `Q${q}`, minutes: 12 })),
    breakTicks: 1,
    chance: 0.9,
    points: [2, 2, 2, 3, 1],
    continuousClock: false,
  },
  hockey: {
    periods: [1, 2, 3].map((p) => ({ name: `P${p}`, minutes: 20 })),
    breakTicks: 2,
    chance: 0.05,
    points: [1],
    continuousClock: false,
  },
};

/** A small, fast, seedable generator (mulberry32): the demo must be repeatable, not secure. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Phase = "waiting" | "playing" | "break" | "final";

export class Match {
  #phase: Phase = "waiting";
  #tick = 0;
  #period = 0;
  #minute = 0;
  #breakLeft = 0;
  #finalFor = 0;
  #score = { home: 0, away: 0 };
  readonly #rules: Rules;

  constructor(readonly plan: MatchPlan, readonly random: () => number) {
    this.#rules = RULES[plan.sport];
  }

  get score(): Score {
    return { ...this.#score };
  }

  /** The first write: the whole game, scheduled, at 0–0. */
  create(): DemoWrite {
    return {
      kind: "put",
      body: {
        title: this.plan.title,
        status: "scheduled",
        period: "Kick-off soon",
        home: { name: this.plan.home, score: 0 },
        away: { name: this.plan.away, score: 0 },
      },
      note: "scheduled",
      score: { home: 0, away: 0 },
    };
  }

  /** One minute of play: the writes it takes. A match that ended starts again after a while. */
  tick(): DemoWrite[] {
    this.#tick++;
    const rules = this.#rules;
    switch (this.#phase) {
      case "waiting":
        if (this.#tick <= this.plan.startsAfter) return [];
        this.#phase = "playing";
        return [this.#patch({ status: "live", period: rules.periods[0]!.name, clock: "0:00" })];
      case "break":
        if (--this.#breakLeft > 0) return [];
        this.#phase = "playing";
        return [this.#patch({
          status: "live",
          period: rules.periods[this.#period]!.name,
          clock: this.#clockText(),
        })];
      case "final":
        if (++this.#finalFor < 6) return [];
        this.#restart();
        return [this.create(), this.#patch({ status: "live", period: rules.periods[0]!.name })];
      case "playing":
        return this.#play();
    }
  }

  #play(): DemoWrite[] {
    const rules = this.#rules;
    this.#minute++;
    const writes: DemoWrite[] = [];
    for (const side of ["home", "away"] as const) {
      if (this.random() < rules.chance) {
        const points = rules.points[Math.floor(this.random() * rules.points.length)]!;
        this.#score[side] += points;
        const name = side === "home" ? this.plan.home : this.plan.away;
        writes.push({ kind: "score", side, points, note: `+${points} ${name}`, score: this.score });
      }
    }
    const period = rules.periods[this.#period]!;
    const elapsed = rules.periods.slice(0, this.#period).reduce((n, p) => n + p.minutes, 0);
    if (this.#minute - elapsed < period.minutes) {
      writes.push(this.#patch({ clock: this.#clockText() }));
      return writes;
    }
    this.#period++;
    if (this.#period >= rules.periods.length) {
      this.#phase = "final";
      this.#finalFor = 0;
      writes.push(this.#patch({ status: "final", period: "Full time", clock: null }));
    } else {
      this.#phase = "break";
      this.#breakLeft = rules.breakTicks;
      writes.push(this.#patch({ status: "break", period: `End of ${period.name}` }));
    }
    return writes;
  }

  #clockText(): string {
    const rules = this.#rules;
    const elapsed = rules.periods.slice(0, this.#period).reduce((n, p) => n + p.minutes, 0);
    return `${rules.continuousClock ? this.#minute : this.#minute - elapsed}:00`;
  }

  #patch(body: Record<string, unknown>): DemoWrite {
    const note = Object.entries(body).map(([k, v]) => `${k} ${v ?? "—"}`).join(", ");
    return { kind: "patch", body, note, score: this.score };
  }

  #restart(): void {
    this.#phase = "playing";
    this.#period = 0;
    this.#minute = 0;
    this.#score = { home: 0, away: 0 };
  }
}
