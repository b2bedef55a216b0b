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
import type { Refusal } from "./contract_oracle.ts";
import {
  badAuthorization,
  badContentType,
  badCursor,
  badEntityTags,
  badForwardedFor,
  badId,
  badIdempotencyKey,
  badRefresh,
  badTheme,
  badTimeout,
  badZone,
  foreignOrigin,
  goodContentType,
  type Json,
  mutateBytes,
  mutateText,
  mutateValue,
  noiseHeaders,
  validDelta,
  validGame,
  validPatch,
} from "./hostile_values.ts";
import type { Random } from "./random.ts";

export type RouteKind =
  | "put"
  | "patch"
  | "score"
  | "delete"
  | "game"
  | "list"
  | "poll"
  | "sse"
  | "ndjson"
  | "ws"
  | "ops"
  | "problem-page"
  | "page"
  | "embed";

export interface HostileRoute {
  kind: RouteKind;
  /** The path, for a game id when `id` is set. */
  path: (id: string) => string;
  id: boolean;
  /** The methods this path answers; any other is `wrongMethod`. */
  methods: readonly string[];
  wrongMethod: 404 | 405;
  /** How refusals look: problem+json (the API, ops) or an HTML page (pages). */
  errors: "problem" | "html";
}

const GAME = ["GET", "HEAD", "PUT", "PATCH", "DELETE"];
const READ = ["GET", "HEAD"];
const api = (kind: RouteKind, path: (id: string) => string, id: boolean, methods = READ) => ({
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
  api("game", (id) => `/api/games/${id}`, true, GAME),
  api("list", () => "/api/games", false),
  api("poll", () => "/api/poll", false),
  api("poll", (id) => `/api/games/${id}/poll`, true),
  api("sse", () => "/api/events", false),
  api("sse", (id) => `/api/games/${id}/events`, true),
  api("ndjson", () => "/api/stream", false),
  api("ndjson", (id) => `/api/games/${id}/stream`, true),
  api("ws", () => "/api/ws", false),
  api("ws", (id) => `/api/games/${id}/ws`, true),
  api("ops", () => "/healthz", false),
  api("ops", () => "/readyz", false),
  { ...api("problem-page", (code) => `/problems/${code}`, true), wrongMethod: 404 },
  { ...api("page", () => "/", false), errors: "html" },
  { ...api("page", (id) => `/games/${id}`, true), errors: "html" },
  { ...api("embed", (id) => `/embed/games/${id}`, true), errors: "html" },
];

const WRITE_METHODS = ["PUT", "PATCH", "POST", "DELETE"];
const KIND_METHOD: Partial<Record<RouteKind, string>> = {
  put: "PUT",
  patch: "PATCH",
  score: "POST",
  delete: "DELETE",
};
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
  games: ReadonlyMap<string, { version: number; home: number; away: number }>;
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
  /** Replaces the route's path (an unknown route). */
  path?: string;
  query: [string, string][];
  headers: Record<string, string>;
  body?: { value: Json } | { text: string } | { bytes: Uint8Array<ArrayBuffer> };
  chunked: boolean;
  faults: string[];
}

const encoder = new TextEncoder();

function bodyBytes(body: Draft["body"]): Uint8Array<ArrayBuffer> | undefined {
  if (!body) return undefined;
  if ("bytes" in body) return body.bytes;
  return encoder.encode("text" in body ? body.text : JSON.stringify(body.value));
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
    query: [],
    headers: noiseHeaders(random),
    chunked: false,
    faults: [],
  };
  if (route.kind === "problem-page") d.id = `nope-${random.int(0, 1e6)}`;
  if (writer) {
    d.headers.authorization = `Bearer ${scene.token}`;
    if (random.chance(0.3)) d.headers.origin = random.pick(scene.writeOrigins);
    if (random.chance(0.3)) {
      d.headers["idempotency-key"] = `k-${random.int(0, 2 ** 31)}-${random.int(0, 2 ** 31)}`;
    }
    if (writer !== "DELETE") {
      d.headers["content-type"] = goodContentType(random);
      const value = route.kind === "put"
        ? validGame(random)
        : route.kind === "patch"
        ? validPatch(random)
        : validDelta(random);
      d.body = { value };
    }
    if (random.chance(0.2)) d.query.push(["since", "junk"]); // writes ignore the query
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
    const side = random.pick(["home", "away"] as const);
    const score = game[side];
    let points: number;
    if (score < 100) points = -random.int(score + 1, 100);
    else if (score > oracle.MAX_SCORE - 100) points = random.int(oracle.MAX_SCORE - score + 1, 100);
    else return; // no delta of at most 100 takes this side out of range
    d.body = { value: { side, points } };
    d.faults.push(`${side} ${points} on ${id}`);
  },
  since(random, d) {
    d.query.push(["since", badCursor(random)]);
    d.faults.push(`since ${JSON.stringify(d.query.at(-1)![1].slice(0, 20))}`);
  },
  lastEventId(random, d) {
    d.headers["last-event-id"] = badCursor(random).replace(/[^\x20-\xff]/g, "x");
    d.faults.push(`Last-Event-ID ${JSON.stringify(d.headers["last-event-id"].slice(0, 20))}`);
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
  switch (kind) {
    case "put":
      return [...write, ...body, ...body, fault.ifNoneMatch];
    case "patch":
      return [...write, ...body, ...body, fault.missingGame];
    case "score":
      return [...write, ...body, ...body, fault.missingGame, fault.outOfRange, fault.outOfRange];
    case "delete":
      return [...write, fault.missingGame];
    case "game":
      return [fault.id, fault.missingGame];
    case "poll":
      return [fault.id, fault.since, fault.timeout, fault.forwardedFor];
    case "sse":
      return [fault.id, fault.since, fault.lastEventId, fault.forwardedFor];
    case "ndjson":
      return [fault.id, fault.since, fault.forwardedFor];
    case "ws":
      return [fault.id, fault.since];
    case "problem-page":
      return [fault.id];
    case "page":
      return [fault.id, fault.missingGame, fault.refresh, fault.zone];
    case "embed":
      return [fault.id, fault.missingGame, fault.refresh, fault.zone, fault.theme];
    case "list":
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
  switch (route.kind) {
    case "put":
    case "patch":
    case "score":
    case "delete":
      if (crossWrite) return no(403, "foreign origin");
      return writeVerdict(d, scene);
    case "game":
      if (!oracle.idOk(d.id)) return no(400, "id");
      return scene.games.has(d.id) ? null : no(404, "no such game");
    case "problem-page":
      return no(404, "no such problem type"); // only unknown codes are drawn
    case "page":
    case "embed":
      return pageVerdict(d, scene, query);
    case "list":
    case "ops":
      return null;
  }
  if (route.id && !oracle.idOk(d.id)) return no(400, "id");
  const since = query.get("since");
  const lastEventId = headers["last-event-id"];
  if (route.kind === "sse" && lastEventId !== undefined) {
    if (!oracle.cursorOk(lastEventId)) return no(400, "cursor");
  } else if (since !== undefined && !oracle.cursorOk(since)) return no(400, "cursor");
  const timeout = query.get("timeout");
  if (route.kind === "poll" && timeout !== undefined && !oracle.timeoutOk(timeout)) {
    return no(400, "timeout");
  }
  // Never upgraded: every request here is plain HTTP.
  if (route.kind === "ws") return no(426, "not a WebSocket");
  // A feed about to open counts its client: HEAD opens none, so reads no address.
  const forwarded = headers["x-forwarded-for"];
  if (method === "GET" && forwarded !== undefined) {
    if (!oracle.forwardedForOk(forwarded, scene.trustedProxies)) return no(400, "X-Forwarded-For");
  }
  return null;
}

/** Pages: their query first, then the id, then the game (a missing one gets the waiting page). */
function pageVerdict(d: Draft, scene: Scene, query: Map<string, string>): Refusal | null {
  const refresh = query.get("refresh");
  const zone = query.get("tz");
  const theme = query.get("theme");
  if (refresh !== undefined && !oracle.refreshOk(refresh)) return no(400, "refresh");
  if (zone !== undefined && !oracle.zoneOk(zone)) return no(400, "tz");
  if (d.route.kind === "embed" && theme !== undefined && !oracle.themeOk(theme)) {
    return no(400, "theme");
  }
  if (!d.route.id) return null;
  if (!oracle.idOk(d.id)) return no(400, "id");
  return scene.games.has(d.id) ? null : no(404, "waiting for this game");
}

function writeVerdict(d: Draft, scene: Scene): Refusal | null {
  const { headers } = d;
  const kind = d.route.kind as "put" | "patch" | "score" | "delete";
  const auth = headers.authorization;
  const scoped = auth === `Bearer ${scene.scopedToken}`;
  if (auth !== `Bearer ${scene.token}` && !scoped) return no(401, "token");
  if (!oracle.idOk(d.id)) return no(400, "id");
  if (scoped && !scene.scopedGames.includes(d.id)) return no(403, "token scope");
  const ifMatch = headers["if-match"];
  const ifNoneMatch = headers["if-none-match"];
  if (ifMatch !== undefined && !oracle.entityTagsOk(ifMatch)) return no(400, "If-Match syntax");
  if (ifNoneMatch !== undefined && !oracle.entityTagsOk(ifNoneMatch)) {
    return no(400, "If-None-Match syntax");
  }
  const key = headers["idempotency-key"];
  if (key !== undefined && !oracle.idempotencyKeyOk(key)) return no(400, "Idempotency-Key");
  let delta: { side: "home" | "away"; points: number } | undefined;
  if (kind !== "delete") {
    if (!oracle.jsonContentTypeOk(headers["content-type"])) return no(415, "Content-Type");
    const bytes = bodyBytes(d.body) ?? new Uint8Array();
    const refused = oracle.bodyVerdict(kind, bytes, d.id);
    if (refused !== null) return refused;
    if (kind === "score") delta = JSON.parse(new TextDecoder().decode(bytes));
  }
  // The game itself: preconditions first (RFC 9110), then existence, then the score's range.
  const game = scene.games.get(d.id);
  if (ifMatch !== undefined) {
    const tags = oracle.taggedVersions(ifMatch, false);
    if (!game || (tags !== "*" && !tags.includes(game.version))) return no(412, "precondition");
  }
  if (ifNoneMatch !== undefined && game) {
    const tags = oracle.taggedVersions(ifNoneMatch, false);
    if (tags === "*" || tags.includes(game.version)) return no(412, "precondition");
  }
  if (!game) return kind === "put" ? null : no(404, "no such game");
  if (delta) {
    const score = game[delta.side] + delta.points;
    if (score < 0 || score > oracle.MAX_SCORE) return no(422, "score range");
  }
  return null;
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
    const path = d.path ?? d.route.path(encodeURIComponent(d.id));
    const query = d.query.length > 0 ? `?${new URLSearchParams(d.query)}` : "";
    const bodiless = d.method === "GET" || d.method === "HEAD"; // fetch refuses them a body
    return {
      index,
      route: d.route,
      method: d.method,
      target: path + query,
      headers: d.headers,
      body: bodiless ? undefined : bodyBytes(d.body),
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
