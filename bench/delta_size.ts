/**
 * "Delta size": how many bytes a change takes as a `patch` message against the whole game in an
 * `update`, measured with the service's own message encoder (core/messages.ts) on games shaped
 * as API.md v2 describes them (a running timer, a timeline of events). `deno task bench` prints
 * this table; `deno run bench/delta_size.ts` prints it alone, in a second.
 *
 * The games are built here rather than written through the service, because the timeline's
 * routes belong to another part of the work: the encoder, which is what is measured, takes any
 * game the store hands it.
 */
import { changeMessage, type Message } from "../core/messages.ts";
import type { Game } from "../core/schema.ts";

export interface DeltaSizeRow {
  change: string;
  /** Bytes of the `update` message (one NDJSON line or WebSocket frame, newline included). */
  update: number;
  /** Bytes of the `patch` message for the same change. */
  patch: number;
  /** The same two as SSE frames (event:, id:, data: lines). */
  sseUpdate: number;
  ssePatch: number;
  /** patch ÷ update. */
  ratio: number;
}

const BASE_MS = Date.UTC(2026, 11, 7, 17, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

/** A match in its second half: `events` events so far, all goals and cards of real-looking text. */
function match(events: number, version: number): Game {
  const timeline = Array.from({ length: events }, (_, i) => ({
    id: i + 1,
    kind: i % 5 === 4 ? "card" : "goal",
    side: i % 2 ? "away" : "home",
    ...(i % 5 === 4 ? {} : { points: 1 }),
    text: i % 2 ? "Tigers' number 9, from the edge of the box" : "Okafor, header from a corner",
    elapsedMs: 60_000 * (i + 1),
    version: version - events + 1 + i, // the last one is this change's
    time: iso(BASE_MS + 60_000 * (i + 1)),
  }));
  const goals = (side: string) =>
    timeline.filter((e) => e.side === side && e.kind === "goal").length;
  return {
    id: "cup-final",
    title: "Cup Final",
    status: "live",
    period: "2nd half",
    competition: "cup-2026",
    startsAt: iso(BASE_MS),
    timer: {
      running: true,
      elapsedMs: 2_700_000,
      at: iso(BASE_MS + 3_600_000),
      direction: "up",
      limitMs: 5_400_000,
    },
    home: { name: "Lions", score: goals("home") },
    away: { name: "Tigers", score: goals("away"), detail: "10 men" },
    events: timeline,
    version,
    updatedAt: iso(BASE_MS + 60_000 * events),
  } as unknown as Game;
}

/** The previous state and the next, as the hub announces them. */
function sizes(change: string, before: Game, after: Game): DeltaSizeRow {
  const first = changeMessage({ type: "update", version: before.version, game: before });
  const next: Message = changeMessage({ type: "update", version: after.version, game: after });
  next.setBase(before, { patches: 0 });
  const patch = next.delta;
  if (patch === next || first === next) throw new Error(`${change}: no patch was made`);
  return {
    change,
    update: next.ndjson.length,
    patch: patch.ndjson.length,
    sseUpdate: next.sse.length,
    ssePatch: patch.sse.length,
    ratio: patch.ndjson.length / next.ndjson.length,
  };
}

/** A goal added through the timeline: one event appended, the score up, version and time. */
export function goalAfter(events: number): { before: Game; after: Game } {
  const before = match(events, 1_795_291_929_409_000 + events);
  const after = match(events + 1, before.version + 1);
  return { before, after };
}

export function deltaSizes(): DeltaSizeRow[] {
  const rows: DeltaSizeRow[] = [];
  for (const events of [0, 10, 40, 200]) {
    const { before, after } = goalAfter(events);
    rows.push(sizes(`a goal added to a game with ${events} events`, before, after));
  }
  const { after: game } = goalAfter(40);
  const bump = (g: Game, extra: Record<string, unknown>) =>
    ({ ...g, ...extra, version: g.version + 1, updatedAt: iso(BASE_MS + 7_200_000) }) as Game;
  rows.push(
    sizes(
      "the timer stopped, 40 events",
      game,
      bump(game, {
        timer: {
          ...(game as unknown as { timer: object }).timer,
          running: false,
          elapsedMs: 2_820_000,
          at: iso(BASE_MS + 7_200_000),
        },
      }),
    ),
  );
  rows.push(sizes("the period changed, 40 events", game, bump(game, { period: "extra time" })));
  return rows;
}

export function deltaSizeMarkdown(rows: DeltaSizeRow[]): string {
  const out = [
    "## Delta size",
    "",
    "Bytes of one change as a whole game (`update`) and as a `patch` (`?delta=1`), from the " +
    "service's message encoder: the NDJSON line / WebSocket frame, and the SSE frame.",
    "",
    "| change | update | patch | patch ÷ update | SSE update | SSE patch |",
    "|---|--:|--:|--:|--:|--:|",
  ];
  for (const r of rows) {
    out.push(
      `| ${r.change} | ${r.update} | ${r.patch} | ${
        (r.ratio * 100).toFixed(1)
      } % | ${r.sseUpdate} | ${r.ssePatch} |`,
    );
  }
  return out.join("\n") + "\n";
}

if (import.meta.main) console.log(deltaSizeMarkdown(deltaSizes()));
