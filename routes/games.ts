/**
 * REST for games: the short-poll reads and the authenticated writes (the game's four, and the
 * match's three: timer, add event, remove event). Every write goes through one pipeline, checked
 * in the order a client can act on (who, which game, how fast, which version, what body), and is
 * acknowledged only with what the store made durable.
 */
import { createHash } from "node:crypto";
import { Hono } from "hono";
import type { Context } from "hono";
import type { z } from "zod";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { type Principal, withinScope, writeAccess } from "../core/auth.ts";
import { gameJson } from "../core/messages.ts";
import { RateLimiter } from "../core/rate_limit.ts";
import {
  addPoints,
  deleteGame,
  type Mutation,
  patchGame,
  replaceGame,
  type WriteOutcome,
} from "../core/scoreboard.ts";
import {
  eventInputSchema,
  gameInputSchema,
  gamePatchSchema,
  scoreDeltaSchema,
  timerActionSchema,
  validate,
} from "../core/schema.ts";
import { addEvent, changeTimer, removeEvent } from "../core/timeline.ts";
import { IDEMPOTENCY_KEY_PATTERN, type IdempotencyKey } from "../core/idempotency.ts";
import type { Scope } from "../core/scope.ts";
import { readJsonBody } from "../http/body.ts";
import { etag, notModified, writeConditions } from "../http/conditions.ts";
import { eventId, gameId } from "../http/params.ts";
import { filterScope } from "../http/scope_params.ts";
import {
  HttpProblem,
  invalid,
  invalidBody,
  problemResponse,
  rejectionProblem,
} from "../http/problem.ts";

type WriteAction = "put" | "patch" | "score" | "delete" | "timer" | "event" | "unevent";

export function gameRoutes(deps: AppDeps): Hono<AppEnv> {
  const { store, config, clock, credentials } = deps;
  const limiter = new RateLimiter(config.writeRate, config.writeRate * 2, clock);
  const app = new Hono<AppEnv>();
  let listCache: { version: number; body: string } | undefined;

  app.get("/games", async (c) => {
    const scope = filterScope((name) => c.req.queries(name));
    if (scope.kind !== "all") return filteredList(c, scope);
    const { version, games } = await store.snapshot();
    if (notModified(c.req.raw.headers, version)) return unchanged(version);
    if (listCache?.version !== version) {
      listCache = {
        version,
        body: `{"version":${version},"games":[${games.map(gameJson).join(",")}]}`,
      };
    }
    return json(200, listCache.body, { etag: etag(version), "cache-control": "no-cache" });
  });

  /**
   * A filtered list, as `GET /api/games` answers it: the games in scope, and the version they are
   * consistent with (a cursor for a feed of the same filter). Not cached: each game's JSON is.
   */
  async function filteredList(c: Context<AppEnv>, scope: Scope): Promise<Response> {
    const resume = await store.resume(null, scope);
    if (resume.kind !== "snapshot") throw new Error("a resume without cursor is a snapshot");
    const { version, games } = resume;
    if (notModified(c.req.raw.headers, version)) return unchanged(version);
    const body = `{"version":${version},"games":[${games.map(gameJson).join(",")}]}`;
    return json(200, body, { etag: etag(version), "cache-control": "no-cache" });
  }

  app.get("/games/:id", async (c) => {
    const id = gameId(c.req.param("id"));
    const game = await store.get(id);
    if (!game) throw new HttpProblem("not-found", `no game "${id}" (yet)`);
    if (notModified(c.req.raw.headers, game.version)) return unchanged(game.version);
    return json(200, gameJson(game), { etag: etag(game.version), "cache-control": "no-cache" });
  });

  app.put("/games/:id", (c) => write(c, "put"));
  app.patch("/games/:id", (c) => write(c, "patch"));
  app.post("/games/:id/score", (c) => write(c, "score"));
  app.delete("/games/:id", (c) => write(c, "delete"));
  // The match (v2): the timer and the timeline, through the same pipeline as every write.
  app.post("/games/:id/timer", (c) => write(c, "timer"));
  app.post("/games/:id/events", (c) => write(c, "event"));
  app.delete("/games/:id/events/:eventId", (c) => write(c, "unevent"));

  async function write(c: Context<AppEnv>, action: WriteAction): Promise<Response> {
    const started = performance.now();
    const principal = await credentials.authenticate(c.req.header("authorization"));
    c.set("scorer", principal.who); // for the log: a digest or a JWT's sub, never the token
    const id = gameId(c.req.param("id") ?? "");
    // The other path parameter, checked with the id: which event a removal is about.
    const event = action === "unevent" ? eventId(c.req.param("eventId") ?? "") : undefined;
    // What the id alone decides is refused before the body is read; a scope by competition is
    // decided inside the commit, against the game as it is then (withinScope).
    if (writeAccess(principal, id) === "denied") {
      throw new HttpProblem("forbidden", `this token may not write game "${id}"`);
    }
    const allowed = limiter.take(principal.scope);
    if (!allowed.ok) {
      throw new HttpProblem("rate-limited", `more than ${config.writeRate} writes a second`, {
        headers: { "retry-after": String(allowed.retryAfter) },
      });
    }
    const headers = c.req.raw.headers;
    const conditions = writeConditions(headers);
    const key = idempotencyKey(headers.get("idempotency-key"), principal);
    const bodiless = action === "delete" || action === "unevent";
    const body = bodiless ? null : await readJsonBody(c.req.raw, { clock });
    const mutate = withinScope(principal, id, decide(action, id, body?.value, conditions, event));

    let fingerprint: string | undefined;
    if (key) {
      fingerprint = createHash("sha256").update(JSON.stringify([
        action,
        event === undefined ? id : `${id}/events/${event}`,
        headers.get("if-match"),
        headers.get("if-none-match"),
        body?.text ?? null,
      ])).digest("hex");
      const claim = await store.claim(key, fingerprint);
      if (claim.kind === "replay") return answer(claim.outcome, true, action);
      if (claim.kind === "in_progress") {
        throw new HttpProblem(
          "request-in-progress",
          "the first request with this key is still running",
          {
            headers: { "retry-after": "1" },
          },
        );
      }
      if (claim.kind === "mismatch") {
        throw new HttpProblem(
          "idempotency-key-reused",
          "this Idempotency-Key was used for a different request",
        );
      }
    }
    let outcome: WriteOutcome;
    try {
      outcome = await store.write({
        id,
        mutate,
        idempotency: key && fingerprint ? { key, fingerprint } : undefined,
        // Recorded with the change, in the same commit: every write route passes through here.
        audit: {
          who: principal.who,
          method: c.req.method,
          path: c.req.path,
          body: body?.value ?? null,
        },
      });
    } catch (error) {
      if (key) await store.release(key).catch(() => {});
      throw error;
    }
    deps.metrics.write({ action, id, outcome, seconds: (performance.now() - started) / 1000 });
    return answer(outcome, false, action);
  }

  return app;
}

/** Parses and validates the body for one kind of write, then returns its pure decision. */
function decide(
  action: WriteAction,
  id: string,
  body: unknown,
  conditions: ReturnType<typeof writeConditions>,
  event: number | undefined,
): Mutation {
  switch (action) {
    case "put": {
      const input = validate(gameInputSchema, body);
      if (!input.ok) throw invalidBody(input.errors);
      checkBodyId(input.value.id, id);
      return replaceGame(input.value, conditions);
    }
    case "patch": {
      const patch = validate(gamePatchSchema, body);
      if (!patch.ok) throw invalidBody(patch.errors);
      checkBodyId(patch.value.id, id);
      return patchGame(patch.value, conditions);
    }
    case "score": {
      const delta = validate(scoreDeltaSchema, body);
      if (!delta.ok) throw invalidBody(delta.errors);
      return addPoints(delta.value, conditions);
    }
    case "delete":
      return deleteGame(conditions);
    case "timer":
      return changeTimer(parsed(timerActionSchema, body), conditions);
    case "event":
      return addEvent(parsed(eventInputSchema, body), conditions);
    case "unevent":
      return removeEvent(event!, conditions);
  }
}

/** A body that passed its schema, or the 400 naming every field that did not. */
function parsed<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = validate(schema, body);
  if (!result.ok) throw invalidBody(result.errors);
  return result.value;
}

function checkBodyId(bodyId: string | undefined, pathId: string): void {
  if (bodyId !== undefined && bodyId !== pathId) {
    throw invalidBody([{
      path: "id",
      message: `must be "${pathId}", the id in the path, or left out`,
    }]);
  }
}

function idempotencyKey(value: string | null, principal: Principal): IdempotencyKey | undefined {
  if (value === null) return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw invalid("Idempotency-Key", "must be 1 to 128 printable ASCII characters");
  }
  return { scope: principal.scope, key: value };
}

/** The HTTP answer for a write outcome, the first time and on every idempotent replay. */
function answer(outcome: WriteOutcome, replayed: boolean, action: WriteAction): Response {
  const extra: Record<string, string> = replayed ? { "idempotent-replayed": "true" } : {};
  if (action === "event" && outcome.kind === "saved") {
    // An added event is a resource of its own: 201 with where it lives (its id is the counter's).
    const { game } = outcome;
    return json(201, gameJson(game), {
      ...extra,
      etag: etag(game.version),
      location: `/api/games/${game.id}/events/${game.lastEventId}`,
    });
  }
  switch (outcome.kind) {
    case "created":
      return json(201, gameJson(outcome.game), {
        ...extra,
        etag: etag(outcome.game.version),
        location: `/api/games/${outcome.game.id}`,
      });
    case "saved":
    case "unchanged":
      return json(200, gameJson(outcome.game), { ...extra, etag: etag(outcome.game.version) });
    case "deleted":
      return new Response(null, {
        status: 204,
        headers: { ...extra, etag: etag(outcome.version) },
      });
    case "rejected":
      return problemResponse(rejectionProblem(outcome.rejection), extra);
  }
}

function json(status: number, body: string, headers: Record<string, string>): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function unchanged(version: number): Response {
  return new Response(null, {
    status: 304,
    headers: { etag: etag(version), "cache-control": "no-cache" },
  });
}
