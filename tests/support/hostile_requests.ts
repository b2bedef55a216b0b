/**
 * Hostile requests, generated from a seed against a table of routes. Each case starts as a valid
 * request for its route and gets one to three faults (and some harmless noise); then the oracle
 * computes, from the contract alone, what the service must answer, checking in the order the
 * service checks: origin, route and method, token, id, token scope, If-Match syntax,
 * Idempotency-Key, Content-Type, size, UTF-8, JSON, the body's rules, and last the game itself
 * (preconditions, existence, score range). A case the oracle finds valid is thrown away and drawn
 * again: every request sent deserves a refusal.
 *
 * To cover a new route, add it to HOSTILE_ROUTES with the kind whose rules it follows (pages that
 * answer refusals as HTML say so with `errors: "html"`); a new kind needs its faults in
 * `faultsFor` and its rules in `verdict`.
 */
import * as oracle from "./contract_oracle.ts";
import type { Grant, JwtTrust, Refusal } from "./contract_oracle.ts";
import {
  badAuthorization,
  badCompetition,
  badContentType,
  badCursor,
  badDelta,
  badEntityTags,
  badEventId,
  badForwardedFor,
  badGames,
  badId,
  badIdempotencyKey,
  badPage,
  badPer,
  badRefresh,
  badStartsAt,
  badTheme,
  badTimeout,
  badViewers,
  badZone,
  COMPETITIONS,
  foreignOrigin,
  goodContentType,
  hostileJwt,
  type Json,
  type JwtSigner,
  MAX_TIMER_MS,
  mutateBytes,
  mutateText,
  mutateValue,
  noiseHeaders,
  validDelta,
  validEvent,
  validGame,
  validPatch,
  validTimer,
  validTimerAction,
} from "./hostile_values.ts";
import type { Random } from "./random.ts";

export type RouteKind =
  | "put"
  | "patch"
  | "score"
  | "delete"
  | "timer"
  | "event"
  | "unevent"
  | "game"
  | "list"
  | "poll"
  | "sse"
  | "ndjson"
  | "ws"
  | "ops"
  | "problem-page"
  | "page"
  | "embed"
  | "export"
  | "import"
  | "history"
  | "viewers";

export interface HostileRoute {
  kind: RouteKind;
  /** The path, for a game id when `id` is set (and an event id, for an event's own route). */
  path: (id: string, eventId: string) => string;
  id: boolean;
  /** The methods this path answers; any other is `wrongMethod`. */
  methods: readonly string[];
  wrongMethod: 404 | 405;
  /** How refusals look: problem+json (the API, ops) or an HTML page (pages). */
  errors: "problem" | "html";
}

const GAME = ["GET", "HEAD", "PUT", "PATCH", "DELETE"];
const READ = ["GET", "HEAD"];
const api = (
  kind: RouteKind,
  path: (id: string, eventId: string) => string,
  id: boolean,
  methods = READ,
) => ({
  kind,
  path,
  id,
  methods,
  wrongMethod: 405 as const,
  errors: "problem" as const,
});

/** Every route the service has, by the rules it follows. */
export const HOSTILE_ROUTES: HostileRoute[] = [
  api("put", (id) => `/api/games/${id}`, true, GAME),
  api("patch", (id) => `/api/games/${id}`, true, GAME),
  api("delete", (id) => `/api/games/${id}`, true, GAME),
  api("score", (id) => `/api/games/${id}/score`, true, ["POST"]),
  api("timer", (id) => `/api/games/${id}/timer`, true, ["POST"]),
  api("event", (id) => `/api/games/${id}/events`, true, ["GET", "HEAD", "POST"]),
  api("unevent", (id, eventId) => `/api/games/${id}/events/${eventId}`, true, ["DELETE"]),
  api("game", (id) => `/api/games/${id}`, true, GAME),
  api("list", () => "/api/games", false),
  api("poll", () => "/api/poll", false),
  api("poll", (id) => `/api/games/${id}/poll`, true),
  api("sse", () => "/api/events", false),
  // POST on this path is the timeline (route "event"), not a wrong method.
  api("sse", (id) => `/api/games/${id}/events`, true, ["GET", "HEAD", "POST"]),
  api("ndjson", () => "/api/stream", false),
  api("ndjson", (id) => `/api/games/${id}/stream`, true),
  api("ws", () => "/api/ws", false),
  api("ws", (id) => `/api/games/${id}/ws`, true),
  api("export", () => "/api/export", false),
  api("import", () => "/api/import", false, ["POST"]),
  api("history", (id) => `/api/games/${id}/history`, true),
  api("viewers", () => "/api/viewers", false),
  api("viewers", (id) => `/api/games/${id}/viewers`, true),
  api("ops", () => "/healthz", false),
  api("ops", () => "/readyz", false),
  { ...api("problem-page", (code) => `/problems/${code}`, true), wrongMethod: 404 },
  { ...api("page", () => "/", false), errors: "html" },
  { ...api("page", (id) => `/games/${id}`, true), errors: "html" },
  { ...api("embed", (id) => `/embed/games/${id}`, true), errors: "html" },
];

const WRITE_METHODS = ["PUT", "PATCH", "POST", "DELETE"];
/** The push feeds: every one takes `?delta=`. */
const FEED_KINDS: readonly RouteKind[] = ["poll", "sse", "ndjson", "ws"];
const KIND_METHOD: Partial<Record<RouteKind, string>> = {
  put: "PUT",
  patch: "PATCH",
  score: "POST",
  delete: "DELETE",
  import: "POST",
  timer: "POST",
  event: "POST",
  unevent: "DELETE",
};
/** Reads that need a token for every game. */
const OPERATOR_READS: readonly RouteKind[] = ["export", "history"];
const NDJSON_TYPES = [
  "application/x-ndjson",
  "Application/X-NDJSON",
  "application/x-ndjson; charset=utf-8",
];
/** Methods a route may not have: custom ones, and a lowercase one (methods are case-sensitive). */
const OTHER_METHODS = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "FOO", "PROPFIND", "patch"];

/** What the suite knows about the service while it runs (nothing it sends changes it). */
export interface Scene {
  token: string;
  /** A token that may write only `scopedGames`. */
  scopedToken: string;
  scopedGames: readonly string[];
  /** Origins allowed to write: the service's own and the listed ones. */
  writeOrigins: readonly string[];
  /** SCORELINE_TRUSTED_PROXIES, as plain addresses (the suite's own peer among them). */
  trustedProxies: readonly string[];
  /** JWTs: how the suite signs them, and what the service trusts (for the oracle). */
  jwt: { signer: JwtSigner; trust: JwtTrust };
  games: ReadonlyMap<string, SceneGame>;
}

/** A game on the board during a run, with what the match's rules look at. */
export interface SceneGame {
  version: number;
  home: number;
  away: number;
  /** Its timeline: event id → the side and points it carries. */
  events: ReadonlyMap<number, { side?: "home" | "away"; points?: number }>;
  /** Its timer's limitMs, if it has a timer with one. */
  limitMs?: number;
  competition?: string;
}

export interface HostileCase {
  index: number;
  route: HostileRoute;
  method: string;
  /** Path and query, encoded. */
  target: string;
  headers: Record<string, string>;
  body?: Uint8Array<ArrayBuffer>;
  /** Sent as a stream, so without Content-Length. */
  chunked: boolean;
  /** What was done to the valid request, for the report. */
  faults: string[];
  /** The status the contract gives this request, and the rule that decides it. */
  expect: number;
  because: string;
  /**
   * How the refusal looks: the route's own form, except where the request is refused before it
   * reaches the route (no such route, a foreign origin writing), which is problem+json everywhere.
   */
  errors: "problem" | "html";
}

interface Draft {
  route: HostileRoute;
  method: string;
  id: string;
  /** The event of an event's own route. */
  eventId: string;
  /** Replaces the route's path (an unknown route). */
  path?: string;
  query: [string, string][];
  headers: Record<string, string>;
  body?: Body;
  /** An import's lines, joined by `lineBreak` into its body. */
  lines?: Body[];
  lineBreak: string;
  chunked: boolean;
  faults: string[];
}

type Body = { value: Json } | { text: string } | { bytes: Uint8Array<ArrayBuffer> };

const encoder = new TextEncoder();

function bodyBytes(body: Body | undefined): Uint8Array<ArrayBuffer> | undefined {
  if (!body) return undefined;
  if ("bytes" in body) return body.bytes;
  return encoder.encode("text" in body ? body.text : JSON.stringify(body.value));
}

/** What the draft sends as its body: its lines joined, for an import. */
function draftBody(d: Draft): Uint8Array<ArrayBuffer> | undefined {
  if (!d.lines) return bodyBytes(d.body);
  const parts = d.lines.map((line) => bodyBytes(line)!);
  const gap = encoder.encode(d.lineBreak);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength + gap.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    out.set(gap, at += part.byteLength);
    at += gap.byteLength;
  }
  return out;
}

function setHeader(draft: Draft, name: string, value: string | undefined): void {
  if (value === undefined) delete draft.headers[name];
  else draft.headers[name] = value;
}

/** A valid request for the route, then faults and noise. */
function draft(random: Random, route: HostileRoute, scene: Scene): Draft {
  const known = [...scene.games.keys()];
  const writer = KIND_METHOD[route.kind];
  const d: Draft = {
    route,
    method: writer ?? random.pick(READ),
    id: random.chance(0.7) ? random.pick(known) : `new-${random.int(0, 1e6)}`,
    eventId: "1",
    query: [],
    headers: noiseHeaders(random),
    lineBreak: random.chance(0.2) ? "\r\n" : "\n",
    chunked: false,
    faults: [],
  };
  if (route.kind === "problem-page") d.id = `nope-${random.int(0, 1e6)}`;
  const events = [...(scene.games.get(d.id)?.events.keys() ?? [])];
  if (events.length > 0 && random.chance(0.8)) d.eventId = String(random.pick(events));
  if (writer) {
    d.headers.authorization = `Bearer ${scene.token}`;
    if (random.chance(0.3)) d.headers.origin = random.pick(scene.writeOrigins);
    if (random.chance(0.3)) {
      d.headers["idempotency-key"] = `k-${random.int(0, 2 ** 31)}-${random.int(0, 2 ** 31)}`;
    }
    if (route.kind === "import") {
      d.headers["content-type"] = random.pick(NDJSON_TYPES);
      d.lines = Array.from({ length: random.int(1, 4) }, (_, i) => {
        const game: { [key: string]: Json } = {
          id: `imported-${i}-${random.int(0, 1e6)}`,
          ...validGame(random),
        };
        if (random.chance(0.3)) {
          // A timeline as an export writes it: what an import keeps, and a PUT ignores.
          game.events = [
            {
              id: 1,
              kind: "goal",
              side: "home",
              points: 1,
              version: 5,
              time: "2026-11-21T18:00:00Z",
            },
            { id: 4, kind: "card", elapsedMs: 61_000, time: "2026-11-21T18:10:00+01:00" },
          ];
          game.lastEventId = random.pick([4, 7]);
        }
        return { value: game };
      });
      if (random.chance(0.2)) d.lines.splice(random.int(0, d.lines.length), 0, { text: "" });
    } else if (writer !== "DELETE") {
      d.headers["content-type"] = goodContentType(random);
      const value = route.kind === "put"
        ? validGame(random)
        : route.kind === "patch"
        ? validPatch(random)
        : route.kind === "timer"
        ? validTimerAction(random)
        : route.kind === "event"
        ? validEvent(random)
        : validDelta(random);
      d.body = { value };
    }
    if (random.chance(0.2)) d.query.push(["since", "junk"]); // writes ignore the query
  }
  if (OPERATOR_READS.includes(route.kind)) d.headers.authorization = `Bearer ${scene.token}`;
  if (FEED_KINDS.includes(route.kind) && random.chance(0.3)) {
    d.query.push(["delta", random.pick(["1", "0"])]); // valid: only a fault makes it wrong
  }

  // A wrong route or method now and then; then one to three faults of the route's own kind.
  if (random.chance(0.05)) fault.method(random, d);
  if (random.chance(0.05)) fault.route(random, d);
  const faults = faultsFor(route.kind);
  if (faults.length === 0 && d.faults.length === 0) {
    random.pick([fault.method, fault.route])(random, d);
  }
  for (let n = faults.length === 0 ? 0 : random.int(1, 3); n > 0; n--) {
    random.pick(faults)(random, d, scene);
  }
  return d;
}

type Fault = (random: Random, d: Draft, scene: Scene) => void;

const fault = {
  method(random, d) {
    d.method = random.pick(OTHER_METHODS.filter((m) => !d.route.methods.includes(m)));
    d.faults.push(`method ${d.method}`);
  },
  route(random, d) {
    const id = encodeURIComponent(d.id);
    d.path = random.pick([
      `/api/games/${id}/scores`,
      `/api/gamez/${id}`,
      `/api/games/${id}/`,
      `/API/games/${id}`,
      `/api/games/${id}/score/x`,
      `/${random.text(random.int(1, 12), "abcxyz-_")}`,
    ]);
    d.faults.push(`unknown route ${d.path}`);
  },
  origin(random, d) {
    d.headers.origin = foreignOrigin(random);
    d.faults.push(`Origin ${d.headers.origin}`);
  },
  auth(random, d, scene) {
    setHeader(d, "authorization", badAuthorization(random, scene.token));
    d.faults.push(`Authorization ${d.headers.authorization?.slice(0, 40)}`);
  },
  id(random, d) {
    if (!d.route.id) return; // a route without an id has none to spoil
    d.id = badId(random);
    d.faults.push(`id ${JSON.stringify(d.id.slice(0, 40))}`);
  },
  scope(_random, d, scene) {
    d.headers.authorization = `Bearer ${scene.scopedToken}`;
    d.faults.push("token scoped to other games");
  },
  jwt(random, d, scene) {
    const { token, label } = hostileJwt(random, scene.jwt.signer, [...scene.games.keys()]);
    d.headers.authorization = `Bearer ${token}`;
    d.faults.push(`JWT ${label}`);
  },
  ifMatch(random, d, scene) {
    const current = scene.games.get(d.id)?.version ?? 1;
    d.headers["if-match"] = random.chance(0.5) ? badEntityTags(random) : random.pick([
      `"${current + 1}"`,
      `"0"`,
      `W/"${current}"`,
      `"${current}x"`,
      `"1", "2"`,
    ]);
    d.faults.push(`If-Match ${d.headers["if-match"]}`);
  },
  ifNoneMatch(random, d) {
    d.headers["if-none-match"] = random.chance(0.5) ? badEntityTags(random) : "*";
    d.faults.push(`If-None-Match ${d.headers["if-none-match"]}`);
  },
  idempotencyKey(random, d) {
    d.headers["idempotency-key"] = badIdempotencyKey(random);
    d.faults.push(`Idempotency-Key ${JSON.stringify(d.headers["idempotency-key"].slice(0, 20))}`);
  },
  contentType(random, d) {
    setHeader(d, "content-type", badContentType(random));
    d.faults.push(`Content-Type ${d.headers["content-type"]}`);
  },
  value(random, d) {
    const base = d.body && "value" in d.body ? d.body.value : validGame(random);
    const { value, labels } = mutateValue(random, base);
    d.body = { value };
    d.faults.push(...labels);
  },
  text(random, d) {
    const { text, label } = mutateText(random, new TextDecoder().decode(bodyBytes(d.body)));
    d.body = { text };
    d.faults.push(label);
  },
  bytes(random, d) {
    const { bytes, label } = mutateBytes(random, bodyBytes(d.body) ?? new Uint8Array());
    d.body = { bytes };
    d.faults.push(label);
  },
  oversize(random, d) {
    const text = new TextDecoder().decode(bodyBytes(d.body) ?? encoder.encode("{}"));
    const padding = " ".repeat(random.int(oracle.MAX_BODY_BYTES, 3 * oracle.MAX_BODY_BYTES));
    d.body = { text: `${text.slice(0, -1)}${padding}}` };
    d.chunked = random.chance(0.5);
    d.faults.push(`${padding.length} bytes of padding${d.chunked ? ", chunked" : ""}`);
  },
  ndjsonType(random, d) {
    setHeader(d, "content-type", random.pick([goodContentType(random), badContentType(random)]));
    d.faults.push(`Content-Type ${d.headers["content-type"]}`);
  },
  importLine(random, d) {
    const lines = d.lines!;
    const i = random.int(0, lines.length - 1);
    const line = lines[i]!;
    const how = random.int(0, 5);
    if (how <= 2 && "value" in line) {
      const { value, labels } = mutateValue(random, line.value);
      lines[i] = { value };
      d.faults.push(...labels.map((label) => `line ${i + 1}: ${label}`));
    } else if (how <= 4) {
      const { text, label } = mutateText(random, new TextDecoder().decode(bodyBytes(line)));
      lines[i] = { text };
      d.faults.push(`line ${i + 1}: ${label}`);
    } else {
      const { bytes, label } = mutateBytes(random, bodyBytes(line)!);
      lines[i] = { bytes };
      d.faults.push(`line ${i + 1}: ${label}`);
    }
  },
  duplicate(random, d) {
    const lines = d.lines!;
    const copy = random.pick(lines);
    lines.splice(random.int(0, lines.length), 0, copy);
    d.faults.push("a line twice");
  },
  longLine(random, d) {
    const lines = d.lines!;
    const i = random.int(0, lines.length - 1);
    // Rare: each one is over a megabyte on the wire.
    if (!random.chance(0.3)) return fault.importLine(random, d);
    const text = new TextDecoder().decode(bodyBytes(lines[i]));
    const padding = " ".repeat(
      random.int(oracle.MAX_IMPORT_LINE_BYTES, oracle.MAX_IMPORT_LINE_BYTES + 4096),
    );
    lines[i] = { text: text.endsWith("}") ? `${text.slice(0, -1)}${padding}}` : text + padding };
    d.faults.push(`line ${i + 1}: ${padding.length} bytes of padding`);
  },
  missingGame(random, d) {
    d.id = random.pick([
      "nope",
      "constructor",
      "prototype",
      "hasownproperty",
      `gone-${random.int(0, 1e6)}`,
    ]);
    d.faults.push(`no game ${d.id}`);
  },
  outOfRange(random, d, scene) {
    const [id, game] = random.pick([...scene.games]);
    d.id = id;
    if (d.route.kind === "unevent") {
      // An event whose points, taken back, would take its side's score out of range.
      const taken = [...game.events].find(([, e]) =>
        e.side !== undefined && e.points !== undefined &&
        (game[e.side] - e.points < 0 || game[e.side] - e.points > oracle.MAX_SCORE)
      );
      if (!taken) return;
      d.eventId = String(taken[0]);
      d.faults.push(`event ${taken[0]} of ${id} taken back`);
      return;
    }
    const side = random.pick(["home", "away"] as const);
    const score = game[side];
    let points: number;
    if (score < 100) points = -random.int(score + 1, 100);
    else if (score > oracle.MAX_SCORE - 100) points = random.int(oracle.MAX_SCORE - score + 1, 100);
    else return; // no delta of at most 100 takes this side out of range
    d.body = {
      value: d.route.kind === "event" ? { kind: "goal", side, points } : { side, points },
    };
    d.faults.push(`${side} ${points} on ${id}`);
  },
  eventId(random, d) {
    d.eventId = badEventId(random);
    d.faults.push(`event id ${JSON.stringify(d.eventId.slice(0, 40))}`);
  },
  missingEvent(random, d) {
    d.eventId = String(random.pick([600, 501, 99999, random.int(1000, 1e9)]));
    d.faults.push(`no event ${d.eventId}`);
  },
  timelineFull(_random, d, scene) {
    const full = [...scene.games].find(([, game]) => game.events.size >= oracle.MAX_EVENTS);
    if (full) d.id = full[0];
    d.faults.push(`an event for ${d.id}`);
  },
  /** A timer whose limit is below its time: written whole, or set past the stored limit. */
  timerLimit(random, d, scene) {
    if (d.route.kind === "timer") {
      const limited = [...scene.games].filter(([, game]) => game.limitMs !== undefined);
      if (limited.length === 0) return;
      const [id, game] = random.pick(limited);
      d.id = id;
      d.body = { value: { action: "set", elapsedMs: random.int(game.limitMs! + 1, MAX_TIMER_MS) } };
      d.faults.push(`set past the limit of ${id}`);
      return;
    }
    const timer = validTimer(random);
    const elapsedMs = random.int(2, MAX_TIMER_MS);
    timer.elapsedMs = elapsedMs;
    if (random.chance(0.5)) {
      timer.limitMs = random.int(1, elapsedMs - 1);
    } else {
      timer.direction = "down";
      delete timer.limitMs;
    }
    const base = d.body && "value" in d.body ? d.body.value : validGame(random);
    d.body = { value: { ...(base as Record<string, Json>), timer } };
    d.faults.push(`timer ${JSON.stringify(timer)}`);
  },
  since(random, d) {
    d.query.push(["since", badCursor(random)]);
    d.faults.push(`since ${JSON.stringify(d.query.at(-1)![1].slice(0, 20))}`);
  },
  lastEventId(random, d) {
    d.headers["last-event-id"] = badCursor(random).replace(/[^\x20-\xff]/g, "x");
    d.faults.push(`Last-Event-ID ${JSON.stringify(d.headers["last-event-id"].slice(0, 20))}`);
  },
  delta(random, d) {
    d.query = d.query.filter(([name]) => name !== "delta");
    d.query.push(["delta", badDelta(random)]);
    d.faults.push(`delta ${JSON.stringify(d.query.at(-1)![1])}`);
  },
  timeout(random, d) {
    d.query.push(["timeout", badTimeout(random)]);
    d.faults.push(`timeout ${JSON.stringify(d.query.at(-1)![1])}`);
  },
  refresh(random, d) {
    d.query.push(["refresh", badRefresh(random)]);
    d.faults.push(`refresh ${JSON.stringify(d.query.at(-1)![1])}`);
  },
  zone(random, d) {
    d.query.push(["tz", badZone(random)]);
    d.faults.push(`tz ${JSON.stringify(d.query.at(-1)![1].slice(0, 20))}`);
  },
  theme(random, d) {
    d.query.push(["theme", badTheme(random)]);
    d.faults.push(`theme ${JSON.stringify(d.query.at(-1)![1])}`);
  },
  games(random, d) {
    // A bad list, or the list given twice (`games=a&games=b`).
    if (random.chance(0.8)) d.query.push(["games", badGames(random)]);
    else d.query.push(["games", "a"], ["games", "b"]);
    d.faults.push(`games ${JSON.stringify(d.query.at(-1)![1].slice(0, 30))}`);
  },
  competition(random, d) {
    if (random.chance(0.8)) d.query.push(["competition", badCompetition(random)]);
    else d.query.push(["competition", "cup"], ["competition", "cup"]);
    d.faults.push(`competition ${JSON.stringify(d.query.at(-1)![1].slice(0, 30))}`);
  },
  bothFilters(random, d) {
    d.query.push(["games", random.pick(["a", "alpha,zero"])], ["competition", "cup"]);
    d.faults.push("games and competition");
  },
  viewers(random, d) {
    d.query.push(["viewers", badViewers(random)]);
    d.faults.push(`viewers ${JSON.stringify(d.query.at(-1)![1])}`);
  },
  per(random, d) {
    d.query.push(["per", badPer(random)]);
    d.faults.push(`per ${JSON.stringify(d.query.at(-1)![1])}`);
  },
  page(random, d) {
    d.query.push(["page", badPage(random)]);
    d.faults.push(`page ${JSON.stringify(d.query.at(-1)![1])}`);
  },
  startsAt(random, d) {
    const body = d.body && "value" in d.body ? d.body.value : validGame(random);
    if (body === null || typeof body !== "object" || Array.isArray(body)) return;
    body.startsAt = badStartsAt(random);
    d.body = { value: body };
    d.faults.push(`startsAt ${JSON.stringify(body.startsAt)}`);
  },
  competitionChange(random, d, scene) {
    // Another (valid) competition for a game that has one, or has none: fixed once created.
    const [id, game] = random.pick([...scene.games]);
    d.id = id;
    const body = d.body && "value" in d.body ? d.body.value : validGame(random);
    if (body === null || typeof body !== "object" || Array.isArray(body)) return;
    const others = [...COMPETITIONS.filter((c) => c !== game.competition)];
    body.competition = d.route.kind === "patch" && game.competition && random.chance(0.3)
      ? null
      : random.pick(others);
    d.body = { value: body };
    d.faults.push(`competition ${JSON.stringify(body.competition)} for ${id}`);
  },
  forwardedFor(random, d) {
    d.headers["x-forwarded-for"] = badForwardedFor(random);
    d.faults.push(`X-Forwarded-For ${JSON.stringify(d.headers["x-forwarded-for"].slice(0, 40))}`);
  },
} satisfies Record<string, Fault>;

/** The faults a route's requests can get, as often as they appear here. */
function faultsFor(kind: RouteKind): Fault[] {
  const write = [
    fault.origin,
    fault.auth,
    fault.id,
    fault.scope,
    fault.jwt,
    fault.jwt,
    fault.ifMatch,
    fault.idempotencyKey,
  ];
  // Bodies have the most to get wrong: their faults come up most, mutations of values above all.
  const body = [
    fault.contentType,
    fault.value,
    fault.value,
    fault.value,
    fault.value,
    fault.value,
    fault.text,
    fault.text,
    fault.bytes,
    fault.oversize,
  ];
  const fields = [fault.startsAt, fault.competitionChange, fault.competitionChange];
  const filters = [fault.games, fault.competition, fault.bothFilters];
  switch (kind) {
    case "put":
      return [...write, ...body, ...body, ...fields, fault.ifNoneMatch, fault.timerLimit];
    case "patch":
      return [...write, ...body, ...body, ...fields, fault.missingGame, fault.timerLimit];
    case "timer":
      return [...write, ...body, ...body, fault.missingGame, fault.timerLimit, fault.timerLimit];
    case "event":
      return [
        ...write,
        ...body,
        ...body,
        fault.missingGame,
        fault.outOfRange,
        fault.outOfRange,
        fault.timelineFull,
      ];
    case "unevent":
      return [
        ...write,
        fault.missingGame,
        fault.eventId,
        fault.eventId,
        fault.missingEvent,
        fault.outOfRange,
      ];
    case "score":
      return [...write, ...body, ...body, fault.missingGame, fault.outOfRange, fault.outOfRange];
    case "delete":
      return [...write, fault.missingGame];
    case "game":
      return [fault.id, fault.missingGame];
    case "poll":
      return [
        fault.id,
        fault.since,
        fault.timeout,
        fault.viewers,
        fault.delta,
        fault.forwardedFor,
        ...filters,
      ];
    case "sse":
      return [
        fault.id,
        fault.since,
        fault.lastEventId,
        fault.viewers,
        fault.delta,
        fault.forwardedFor,
        ...filters,
      ];
    case "ndjson":
      return [fault.id, fault.since, fault.viewers, fault.delta, fault.forwardedFor, ...filters];
    case "ws":
      return [fault.id, fault.since, fault.viewers, fault.delta, ...filters];
    case "problem-page":
      return [fault.id];
    case "page":
      return [
        fault.id,
        fault.missingGame,
        fault.refresh,
        fault.zone,
        ...filters,
        fault.per,
        fault.page,
      ];
    case "embed":
      return [fault.id, fault.missingGame, fault.refresh, fault.zone, fault.theme];
    case "import":
      return [
        fault.origin,
        fault.auth,
        fault.scope,
        fault.jwt,
        fault.ndjsonType,
        fault.importLine,
        fault.importLine,
        fault.importLine,
        fault.importLine,
        fault.duplicate,
        fault.longLine,
      ];
    case "export":
      return [fault.auth, fault.scope, fault.jwt];
    case "history":
      return [fault.auth, fault.id, fault.scope, fault.jwt, fault.missingGame];
    case "list":
      return filters;
    case "viewers":
      return [fault.id];
    case "ops":
      return [];
  }
}

const no = (status: number, because: string): Refusal => ({ status, because });

/** What the contract makes of a draft: the refusal it must get, or null if it is valid. */
function verdict(d: Draft, scene: Scene): Refusal | null {
  const { route, method, headers } = d;
  const origin = headers.origin;
  const foreign = origin !== undefined && !scene.writeOrigins.includes(origin);
  const crossWrite = WRITE_METHODS.includes(method) && foreign;
  if (d.path !== undefined || !route.methods.includes(method)) {
    if (crossWrite) return no(403, "foreign origin");
    return d.path !== undefined ? no(404, "no such route") : no(route.wrongMethod, "method");
  }
  const query = new Map(d.query);
  const values = (name: string) => d.query.filter(([key]) => key === name).map(([, v]) => v);
  const filter = route.id ? null : oracle.filterVerdict(values("games"), values("competition"));
  switch (route.kind) {
    case "put":
    case "patch":
    case "score":
    case "delete":
    case "timer":
    case "event":
    case "unevent":
      if (crossWrite) return no(403, "foreign origin");
      return writeVerdict(d, scene);
    case "import":
      if (crossWrite) return no(403, "foreign origin");
      return importVerdict(d, scene);
    case "export":
    case "history":
      return operatorVerdict(d, scene);
    case "game":
      if (!oracle.idOk(d.id)) return no(400, "id");
      return scene.games.has(d.id) ? null : no(404, "no such game");
    case "problem-page":
      return no(404, "no such problem type"); // only unknown codes are drawn
    case "page":
    case "embed":
      return pageVerdict(d, scene, query, filter);
    case "list":
      return filter ? no(400, filter) : null;
    case "viewers":
      return route.id && !oracle.idOk(d.id) ? no(400, "id") : null;
    case "ops":
      return null;
  }
  // Feeds: the id or the filter (checked where the route is matched), then the parameters.
  if (route.id && !oracle.idOk(d.id)) return no(400, "id");
  if (filter) return no(400, filter);
  const since = query.get("since");
  const lastEventId = headers["last-event-id"];
  if (route.kind === "sse" && lastEventId !== undefined) {
    if (!oracle.cursorOk(lastEventId)) return no(400, "cursor");
  } else if (since !== undefined && !oracle.cursorOk(since)) return no(400, "cursor");
  const timeout = query.get("timeout");
  if (route.kind === "poll" && timeout !== undefined && !oracle.timeoutOk(timeout)) {
    return no(400, "timeout");
  }
  const viewers = values("viewers")[0];
  if (viewers !== undefined && !oracle.viewersOk(viewers)) return no(400, "viewers");
  const delta = query.get("delta");
  if (delta !== undefined && !oracle.deltaOk(delta)) return no(400, "delta");
  // Never upgraded: every request here is plain HTTP.
  if (route.kind === "ws") return no(426, "not a WebSocket");
  // A feed about to open counts its client: HEAD opens none, so reads no address.
  const forwarded = headers["x-forwarded-for"];
  if (method === "GET" && forwarded !== undefined) {
    if (!oracle.forwardedForOk(forwarded, scene.trustedProxies)) return no(400, "X-Forwarded-For");
  }
  return null;
}

/**
 * Pages: their query first (the board's own after the common ones: its filter, `per`, `page`),
 * then the id, then the game (a missing one gets the waiting page).
 */
function pageVerdict(
  d: Draft,
  scene: Scene,
  query: Map<string, string>,
  filter: string | null,
): Refusal | null {
  const refresh = query.get("refresh");
  const zone = query.get("tz");
  const theme = query.get("theme");
  if (refresh !== undefined && !oracle.refreshOk(refresh)) return no(400, "refresh");
  if (zone !== undefined && !oracle.zoneOk(zone)) return no(400, "tz");
  if (d.route.kind === "embed" && theme !== undefined && !oracle.themeOk(theme)) {
    return no(400, "theme");
  }
  if (!d.route.id) {
    if (filter) return no(400, filter);
    const per = d.query.find(([key]) => key === "per")?.[1];
    const page = d.query.find(([key]) => key === "page")?.[1];
    if (per !== undefined && !oracle.perOk(per)) return no(400, "per");
    if (page !== undefined && !oracle.pageOk(page)) return no(400, "page");
    return null;
  }
  if (!oracle.idOk(d.id)) return no(400, "id");
  return scene.games.has(d.id) ? null : no(404, "waiting for this game");
}

/** Who may act on the whole board: a token or JWT for every game (a scoped one is 403). */
function bearer(d: Draft, scene: Scene): "all" | "scoped" | Refusal {
  const grant = bearerGrant(d.headers.authorization, scene);
  if (grant === null) return no(401, d.headers.authorization?.includes(".") ? "JWT" : "token");
  return grant === "*" ? "all" : "scoped";
}

/** An import: token, then scope, then media type, then every line (API.md, Trust and operations). */
function importVerdict(d: Draft, scene: Scene): Refusal | null {
  const who = bearer(d, scene);
  if (typeof who === "object") return who;
  if (who === "scoped") return no(403, "token scope");
  if (!oracle.ndjsonContentTypeOk(d.headers["content-type"])) return no(415, "Content-Type");
  return oracle.importVerdict(draftBody(d) ?? new Uint8Array());
}

/** Export and history: token, then the id, then scope, then (history) a game that has one. */
function operatorVerdict(d: Draft, scene: Scene): Refusal | null {
  const who = bearer(d, scene);
  if (typeof who === "object") return who;
  if (d.route.id && !oracle.idOk(d.id)) return no(400, "id");
  if (who === "scoped") return no(403, "token scope");
  if (d.route.kind === "history" && !scene.games.has(d.id)) return no(404, "no such game");
  return null;
}

function writeVerdict(d: Draft, scene: Scene): Refusal | null {
  const { headers } = d;
  const kind = d.route.kind as "put" | "patch" | "score" | "delete" | "timer" | "event" | "unevent";
  const grant = bearerGrant(headers.authorization, scene);
  if (grant === null) {
    return no(401, headers.authorization?.includes(".") ? "JWT" : "token");
  }
  if (!oracle.idOk(d.id)) return no(400, "id");
  if (kind === "unevent" && !oracle.eventIdOk(d.eventId)) return no(400, "event id");
  // By the id alone: every game, a listed game, or, with no competition to go by, refused.
  const listed = grant === "*" || grant.games.includes(d.id);
  if (!listed && grant.competitions.length === 0) return no(403, "token scope");
  const ifMatch = headers["if-match"];
  const ifNoneMatch = headers["if-none-match"];
  if (ifMatch !== undefined && !oracle.entityTagsOk(ifMatch)) return no(400, "If-Match syntax");
  if (ifNoneMatch !== undefined && !oracle.entityTagsOk(ifNoneMatch)) {
    return no(400, "If-None-Match syntax");
  }
  const key = headers["idempotency-key"];
  if (key !== undefined && !oracle.idempotencyKeyOk(key)) return no(400, "Idempotency-Key");
  let delta: { side?: "home" | "away"; points?: number } | undefined;
  let body: Record<string, unknown> | undefined;
  if (kind !== "delete" && kind !== "unevent") {
    if (!oracle.jsonContentTypeOk(headers["content-type"])) return no(415, "Content-Type");
    const bytes = draftBody(d) ?? new Uint8Array();
    const refused = oracle.bodyVerdict(kind, bytes, d.id);
    if (refused !== null) return refused;
    body = JSON.parse(new TextDecoder().decode(bytes));
    if (kind === "score" || kind === "event") delta = body;
  }
  // The game itself: a competition scope first (the game's competition as it stands), then
  // preconditions (RFC 9110), then existence, then a change of competition, then the scope of
  // what a PUT would create, then the score's range.
  const game = scene.games.get(d.id);
  const inScope = (competition: string | undefined) =>
    grant !== "*" && competition !== undefined && grant.competitions.includes(competition);
  if (!listed && game && !inScope(game.competition)) return no(403, "competition scope");
  if (ifMatch !== undefined) {
    const tags = oracle.taggedVersions(ifMatch, false);
    if (!game || (tags !== "*" && !tags.includes(game.version))) return no(412, "precondition");
  }
  if (ifNoneMatch !== undefined && game) {
    const tags = oracle.taggedVersions(ifNoneMatch, false);
    if (tags === "*" || tags.includes(game.version)) return no(412, "precondition");
  }
  if (!game) {
    if (kind !== "put") return no(404, "no such game");
    if (listed) return null;
    const created = JSON.parse(new TextDecoder().decode(bodyBytes(d.body)));
    return inScope(created.competition) ? null : no(403, "competition scope");
  }
  if ((kind === "put" || kind === "patch") && oracle.changesCompetition(body, game)) {
    return no(422, "competition fixed");
  }
  if (kind === "event" && game.events.size >= oracle.MAX_EVENTS) return no(422, "timeline full");
  if (kind === "unevent") {
    const event = game.events.get(Number(d.eventId));
    if (!event) return no(404, "no such event");
    if (event.side !== undefined && event.points !== undefined) {
      delta = { side: event.side, points: -event.points };
    }
  }
  if (delta?.side !== undefined && delta.points !== undefined) {
    const score = game[delta.side] + delta.points;
    if (score < 0 || score > oracle.MAX_SCORE) return no(422, "score range");
  }
  if (kind === "timer" && body?.action === "set" && game.limitMs !== undefined) {
    if ((body.elapsedMs as number) > game.limitMs) return no(400, "timer limit");
  }
  return null;
}

/** What the Authorization header grants: a static token, the scoped one, a JWT, or nothing. */
function bearerGrant(authorization: string | undefined, scene: Scene): Grant | null {
  if (authorization === `Bearer ${scene.token}`) return "*";
  if (authorization === `Bearer ${scene.scopedToken}`) {
    return { games: scene.scopedGames, competitions: [] };
  }
  const jwt = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
  return jwt === undefined ? null : oracle.jwtGrant(jwt, scene.jwt.trust);
}

/** Each route as often as it has things to get wrong: writes most. */
const weighted = HOSTILE_ROUTES.flatMap((route) => {
  const weight = KIND_METHOD[route.kind]
    ? 6
    : route.kind === "ops" || route.kind === "list"
    ? 1
    : 2;
  return Array<HostileRoute>(weight).fill(route);
});

/** Case number `index` of a run: invalid by the oracle, with the status it must get. */
export function generateCase(random: Random, index: number, scene: Scene): HostileCase {
  for (;;) {
    const d = draft(random, random.pick(weighted), scene);
    // What goes on the wire: fetch trims spaces and tabs around header values.
    for (const [name, value] of Object.entries(d.headers)) {
      d.headers[name] = value.replace(/^[ \t]+|[ \t]+$/g, "");
    }
    const refusal = verdict(d, scene);
    if (refusal === null) continue; // a mutation that stayed valid: draw again
    const path = d.path ?? d.route.path(encodeURIComponent(d.id), encodeURIComponent(d.eventId));
    const query = d.query.length > 0 ? `?${new URLSearchParams(d.query)}` : "";
    const bodiless = d.method === "GET" || d.method === "HEAD"; // fetch refuses them a body
    return {
      index,
      route: d.route,
      method: d.method,
      target: path + query,
      headers: d.headers,
      body: bodiless ? undefined : draftBody(d),
      chunked: d.chunked,
      faults: d.faults,
      expect: refusal.status,
      because: refusal.because,
      errors: d.path !== undefined || refusal.because === "foreign origin"
        ? "problem"
        : d.route.errors,
    };
  }
}
