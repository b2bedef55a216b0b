/**
 * Simulated matches for `deno task demo`: pure, seeded, no I/O. Each tick is one minute of play
 * and yields the writes a scorer would send (the match timer and period, goals as timeline events
 * with the scorer's name, status changes), so the same seed always plays the same games.
 *
 * The demo plays a minute every second or so, faster than a timer runs, so it sets the timer
 * (stopped) to each minute played instead of letting it run: the screens compute what it shows
 * from it, as they do for a running one.
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
  /** Who scores, by side: the names the timeline shows. */
  players: { home: readonly string[]; away: readonly string[] };
}

/** The score after a write. */
export interface Score {
  home: number;
  away: number;
}

/** One write: what the demo sends, a line for its console, and the score once it is made. */
export type DemoWrite =
  | { kind: "remove"; note: string; score: Score }
  | { kind: "put"; body: Record<string, unknown>; note: string; score: Score }
  | { kind: "patch"; body: Record<string, unknown>; note: string; score: Score }
  | {
    kind: "event";
    body: { kind: string; side: "home" | "away"; points: number; text: string; clock?: string };
    note: string;
    score: Score;
  };

/** The competition every demo game belongs to: `/?competition=demo` is the demo's board. */
export const DEMO_COMPETITION = "demo";

export const DEMO_MATCHES: readonly MatchPlan[] = [
  {
    id: "demo-cup-final",
    title: "Cup Final",
    sport: "football",
    home: "Lions",
    away: "Tigers",
    startsAfter: 0,
    players: { home: ["Okafor", "Adeyemi", "Silva"], away: ["Mensah", "Diallo", "Kowalski"] },
  },
  {
    id: "demo-derby",
    title: "City Derby",
    sport: "football",
    home: "Rovers",
    away: "United",
    startsAfter: 4,
    players: { home: ["Byrne", "Nakamura", "Costa"], away: ["Haaland", "Moreau", "Quinn"] },
  },
  {
    id: "demo-hoops",
    title: "League Basketball",
    sport: "basketball",
    home: "Comets",
    away: "Giants",
    startsAfter: 1,
    players: {
      home: ["Jordan", "Reyes", "Okoye", "Park"],
      away: ["Novak", "Ellis", "Diaz", "Brown"],
    },
  },
  {
    id: "demo-ice",
    title: "Ice Hockey Semi-final",
    sport: "hockey",
    home: "Wolves",
    away: "Bears",
    startsAfter: 8,
    players: { home: ["Lindqvist", "Tremblay", "Kova"], away: ["Petrov", "Hughes", "Laine"] },
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
  /** Football's clock counts up through the match; the others' counts each period down. */
  continuousClock: boolean;
  /** The timeline's word for a scoring play worth these points. */
  eventKind: (points: number) => string;
}

const RULES: Record<Sport, Rules> = {
  football: {
    periods: [{ name: "1st half", minutes: 45 }, { name: "2nd half", minutes: 45 }],
    breakTicks: 3,
    chance: 0.03,
    points: [1],
    continuousClock: true,
    eventKind: () => "goal",
  },
  basketball: {
    periods: [1, 2, 3, 4].map((q) => ({ name: `Q${q}`, minutes: 12 })),
    breakTicks: 1,
    chance: 0.9,
    points: [2, 2, 2, 3, 1],
    continuousClock: false,
    eventKind: (points) => points === 1 ? "free-throw" : "basket",
  },
  hockey: {
    periods: [1, 2, 3].map((p) => ({ name: `P${p}`, minutes: 20 })),
    breakTicks: 2,
    chance: 0.05,
    points: [1],
    continuousClock: false,
    eventKind: () => "goal",
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

  /**
   * The first writes: the game removed (a PUT keeps a game's timeline, and a new match starts
   * with none), then created whole, scheduled, at 0–0.
   */
  create(startsAt?: string): DemoWrite[] {
    return [{ kind: "remove", note: "removed", score: { home: 0, away: 0 } }, {
      kind: "put",
      body: {
        title: this.plan.title,
        competition: DEMO_COMPETITION,
        ...(startsAt ? { startsAt } : {}),
        status: "scheduled",
        period: "Kick-off soon",
        home: { name: this.plan.home, score: 0 },
        away: { name: this.plan.away, score: 0 },
      },
      note: "scheduled",
      score: { home: 0, away: 0 },
    }];
  }

  /** One minute of play: the writes it takes. A match that ended starts again after a while. */
  tick(): DemoWrite[] {
    this.#tick++;
    const rules = this.#rules;
    switch (this.#phase) {
      case "waiting":
        if (this.#tick <= this.plan.startsAfter) return [];
        this.#phase = "playing";
        return [
          this.#patch({ status: "live", period: rules.periods[0]!.name, timer: this.#timer() }),
        ];
      case "break":
        if (--this.#breakLeft > 0) return [];
        this.#phase = "playing";
        return [this.#patch({
          status: "live",
          period: rules.periods[this.#period]!.name,
          timer: this.#timer(),
        })];
      case "final":
        if (++this.#finalFor < 6) return [];
        this.#restart();
        return [
          ...this.create(),
          this.#patch({ status: "live", period: rules.periods[0]!.name, timer: this.#timer() }),
        ];
      case "playing":
        return this.#play();
    }
  }

  #play(): DemoWrite[] {
    const rules = this.#rules;
    this.#minute++;
    // The timer first, so that the minute's goals are recorded at this minute's time.
    const writes: DemoWrite[] = [this.#patch({ timer: this.#timer() })];
    for (const side of ["home", "away"] as const) {
      if (this.random() < rules.chance) {
        const points = rules.points[Math.floor(this.random() * rules.points.length)]!;
        this.#score[side] += points;
        const team = side === "home" ? this.plan.home : this.plan.away;
        const players = this.plan.players[side];
        const text = players[Math.floor(this.random() * players.length)]!;
        const clock = rules.continuousClock ? { clock: `${this.#minute}'` } : {};
        writes.push({
          kind: "event",
          body: { kind: rules.eventKind(points), side, points, text, ...clock },
          note: `+${points} ${team} (${text})`,
          score: this.score,
        });
      }
    }
    const period = rules.periods[this.#period]!;
    const elapsed = rules.periods.slice(0, this.#period).reduce((n, p) => n + p.minutes, 0);
    if (this.#minute - elapsed < period.minutes) return writes;
    // The period's last minute (its timer at 45:00, or a down timer's 00:00) ends it.
    this.#period++;
    if (this.#period >= rules.periods.length) {
      this.#phase = "final";
      this.#finalFor = 0;
      writes.push(this.#patch({ status: "final", period: "Full time" }));
    } else {
      this.#phase = "break";
      this.#breakLeft = rules.breakTicks;
      writes.push(this.#patch({ status: "break", period: `End of ${period.name}` }));
    }
    return writes;
  }

  /** The match timer at the minute played: stopped there (see the top of this file). */
  #timer(): Record<string, unknown> {
    const rules = this.#rules;
    const period = rules.periods[this.#period]!;
    const before = rules.periods.slice(0, this.#period).reduce((n, p) => n + p.minutes, 0);
    if (rules.continuousClock) {
      return { running: false, elapsedMs: this.#minute * 60_000, direction: "up" };
    }
    return {
      running: false,
      elapsedMs: Math.min(this.#minute - before, period.minutes) * 60_000,
      direction: "down",
      limitMs: period.minutes * 60_000,
    };
  }

  #patch(body: Record<string, unknown>): DemoWrite {
    const note = Object.entries(body).filter(([k]) => k !== "timer")
      .map(([k, v]) => `${k} ${v ?? "—"}`).join(", ");
    return { kind: "patch", body, note, score: this.score };
  }

  #restart(): void {
    this.#phase = "playing";
    this.#period = 0;
    this.#minute = 0;
    this.#score = { home: 0, away: 0 };
  }
}
