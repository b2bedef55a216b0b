/**
 * Export and import: every game, one JSON game per line (NDJSON), for moving a board between
 * stores or instances and for keeping a copy that any store can take back. Only a token for
 * every game may do either. An import is all or nothing: every line is read and checked before
 * anything is written, one bad line is a 400 naming it, and the games are then committed in one
 * atomic commit of the store (Store.importGames), each re-stamped with a new version.
 */
import { Hono } from "hono";
import type { Clock } from "../core/clock.ts";
import { competitionChange, keepCompetition } from "../core/competition.ts";
import { type ImportedGame, importedGame } from "../core/import.ts";
import { gameJson } from "../core/messages.ts";
import type { FieldError, Game } from "../core/schema.ts";
import { requireUnscoped } from "../http/auth.ts";
import { requireMediaType } from "../http/body.ts";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { type NdjsonLimits, ndjsonLines } from "../http/ndjson_body.ts";
import { HttpProblem, invalidBody } from "../http/problem.ts";

export const NDJSON = "application/x-ndjson";

/**
 * The bounds of an import. A game with a full timeline (500 events) is under 300 KB of JSON, so a
 * line gets 1 MiB; a whole body 32 MiB, a season of a few thousand games with their timelines,
 * which this service holds in memory anyway; at most 10,000 games, the length of the change
 * stream in Redis mode. The body may take 2 minutes (32 MiB at about 2 Mbit/s), not the 10 s of
 * a write.
 */
export const IMPORT_LIMITS: NdjsonLimits & { games: number } = {
  bodyBytes: 32 * 1024 * 1024,
  lineBytes: 1024 * 1024,
  timeoutMs: 120_000,
  games: 10_000,
};

/** Bad lines reported, at most: enough to fix a file in one go, not a second file of errors. */
const MAX_ERRORS = 20;
/** Imports waiting for the one running, at most; past it, 503. */
const MAX_WAITING = 64;
/** Games encoded per chunk of an export. */
const EXPORT_BATCH = 64;

export function transferRoutes(deps: AppDeps): Hono<AppEnv> {
  const { store, clock, credentials } = deps;
  const app = new Hono<AppEnv>();
  const turns = new Turns(MAX_WAITING);

  app.get("/export", async (c) => {
    const principal = await credentials.authenticate(c.req.header("authorization"));
    requireUnscoped(principal, "export the games");
    const { games } = await store.snapshot();
    const headers = {
      "content-type": NDJSON,
      "cache-control": "no-store",
      "content-disposition": 'attachment; filename="scoreline-export.ndjson"',
    };
    if (c.req.method === "HEAD") return new Response(null, { headers });
    return new Response(exportStream(games), { headers });
  });

  app.post("/import", async (c) => {
    const principal = await credentials.authenticate(c.req.header("authorization"));
    const { who } = principal;
    c.set("scorer", who);
    requireUnscoped(principal, "import games");
    await requireMediaType(c.req.raw, [NDJSON]);
    // One import at a time: each may hold a season in memory while it is read and checked.
    const done = await turns.take();
    if (!done) {
      await c.req.raw.body?.cancel();
      throw new HttpProblem("unavailable", "too many imports are waiting; try again later", {
        headers: { "retry-after": "5" },
      });
    }
    try {
      const lines = keepCompetitions(await readImport(c.req.raw, clock), await store.snapshot());
      const games = lines.map(({ line, game }): ImportedGame => ({
        ...game,
        // A summary, not the whole line: the version points to the game as it was stored.
        audit: { who, method: "POST", path: c.req.path, body: { line, games: lines.length } },
      }));
      const outcome = await store.importGames({ games });
      const created = outcome.games.filter((g) => g.kind === "created").length;
      return Response.json({
        version: outcome.version,
        imported: outcome.games.length,
        created,
        replaced: outcome.games.length - created,
      }, { headers: { "cache-control": "no-store" } });
    } finally {
      done();
    }
  });

  return app;
}

/** The export's body: one game per line, encoded as the stream is read, not all at once. */
function exportStream(games: readonly Game[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next = 0;
  return new ReadableStream({
    pull(controller) {
      if (next >= games.length) return controller.close();
      const batch = games.slice(next, next += EXPORT_BATCH);
      controller.enqueue(encoder.encode(batch.map((game) => `${gameJson(game)}\n`).join("")));
    },
  });
}

/**
 * Every line read and checked: the games with their line numbers, or a 400 naming each bad line
 * (up to MAX_ERRORS) with what is wrong in it. Blank lines are allowed and skipped.
 */
async function readImport(
  request: Request,
  clock: Clock,
): Promise<{ line: number; game: ImportedGame }[]> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const games: { line: number; game: ImportedGame }[] = [];
  const lineOf = new Map<string, number>();
  const errors: FieldError[] = [];
  for await (const { number, bytes } of ndjsonLines(request, clock, IMPORT_LIMITS)) {
    const { game, problems } = checkLine(decoder, bytes, number, clock.now());
    const first = game && lineOf.get(game.id);
    if (first !== undefined) {
      problems.push(`names the game "${game!.id}" again (see line ${first})`);
    }
    for (const message of problems) errors.push({ path: `line ${number}`, message });
    if (errors.length >= MAX_ERRORS) break;
    if (!game || problems.length > 0) continue;
    lineOf.set(game.id, number);
    games.push({ line: number, game });
    if (games.length > IMPORT_LIMITS.games) {
      throw new HttpProblem(
        "payload-too-large",
        `an import holds at most ${IMPORT_LIMITS.games} games`,
      );
    }
  }
  if (errors.length > 0) throw invalidBody(errors.slice(0, MAX_ERRORS));
  return games;
}

/**
 * The rule of `PUT` for a game's competition (core/competition.ts), against the games as they are
 * once the file is read: a line without one keeps the game's, and a line that would move a game
 * to another competition is a bad line (delete the game first), so that no competition's feed
 * loses a game without being told.
 */
function keepCompetitions(
  lines: { line: number; game: ImportedGame }[],
  board: { games: readonly Game[] },
): { line: number; game: ImportedGame }[] {
  const current = new Map(board.games.map((game) => [game.id, game]));
  const errors: FieldError[] = [];
  const kept = lines.map(({ line, game }) => {
    const now = current.get(game.id);
    const body = game.body.competition === undefined ? keepCompetition(now, game.body) : game.body;
    const refused = competitionChange(now, body);
    if (refused) {
      errors.push({ path: `line ${line}`, message: `competition: ${refused.rejection.detail}` });
    }
    return { line, game: { ...game, body } };
  });
  if (errors.length > 0) throw invalidBody(errors.slice(0, MAX_ERRORS));
  return kept;
}

/** One line: its game, or what is wrong with it; neither for a blank line. */
function checkLine(
  decoder: TextDecoder,
  bytes: Uint8Array | null,
  number: number,
  nowMs: number,
): { game?: ImportedGame; problems: string[] } {
  if (bytes === null) return { problems: [`is longer than ${IMPORT_LIMITS.lineBytes} bytes`] };
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { problems: ["is not valid UTF-8"] };
  }
  if (number === 1 && text.startsWith("\uFEFF")) text = text.slice(1);
  if (text.trim() === "") return { problems: [] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? `: ${error.message.slice(0, 200)}` : "";
    return { problems: [`is not well-formed JSON${reason}`] };
  }
  const checked = importedGame(value, nowMs);
  if (checked.ok) return { game: checked.game, problems: [] };
  return {
    problems: checked.errors.map((e) => e.path ? `${e.path}: ${e.message}` : "must be a game"),
  };
}

/** A one-at-a-time lock with a bounded queue: `take` resolves with a release, or null when full. */
class Turns {
  #tail: Promise<void> = Promise.resolve();
  #waiting = 0;

  constructor(private readonly maxWaiting: number) {}

  async take(): Promise<(() => void) | null> {
    if (this.#waiting >= this.maxWaiting) return null;
    this.#waiting++;
    let release!: () => void;
    const previous = this.#tail;
    this.#tail = new Promise((resolve) => (release = resolve));
    await previous;
    this.#waiting--;
    return release;
  }
}
