// @ts-self-types="./scoreline.d.ts"
/**
 * Scoreline client: the one implementation of the feed protocol, for browsers, Deno and Node 20+.
 *
 *   import { watch, timerMs, Scorer } from "https://scores.example/client.js";
 *   const scores = watch({ game: "cup-final" });
 *   scores.addEventListener("change", (e) => render(e.detail.games.get("cup-final")));
 *
 * No dependencies and no build step: this file is what browsers, Deno and Node run. Types are in
 * scoreline.d.ts (served as /client.d.ts). The WebSocket is never written to: the service closes a
 * socket that sends more than a small budget, and a read-only feed has nothing to say.
 */

const GAME_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** The most a timer counts without a limit (the service's MAX_TIMER_MS: 24 hours). */
const MAX_TIMER_MS = 86_400_000;
const MAX_FILTER_GAMES = 100;
const TRANSPORTS = ["auto", "websocket", "sse", "ndjson", "poll"];
/** Where each transport is mounted, after `/api` (all games) or `/api/games/{id}` (one game). */
const FEED_PATH = {
  websocket: "/ws",
  sse: "/events",
  ndjson: "/stream",
  poll: "/poll",
};

const DEFAULTS = {
  pollTimeout: 25,
  openTimeoutMs: 10_000,
  retryMinMs: 1_000,
  retryMaxMs: 30_000,
  preferredRetryMs: 60_000,
  preferredRetryMaxMs: 15 * 60_000,
};
/**
 * Failures in a row, none of which got a first message, after which every retry tries the next
 * transport: high enough that a service restart (a few seconds, two or three retries) leaves
 * clients on their preferred transport, low enough that a network that resets streams reaches
 * long polling within about a minute.
 */
const ROTATE_AFTER_FAILURES = 5;
/** Pings kept to estimate the server's clock: the best of the last few minutes. */
const CLOCK_SAMPLES = 10;
const CLOCK_SAMPLE_MAX_AGE_MS = 10 * 60_000;

/** What a module served by the service itself may default `server` to: its own origin. */
const OWN_ORIGIN = (() => {
  try {
    const url = new URL(import.meta.url);
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : undefined;
  } catch {
    return undefined;
  }
})();

// ---- the timer ----------------------------------------------------------------------------

/**
 * What a game's timer shows at server time `now` (epoch ms), or null without a timer: the
 * contract's formula, line for line as the service's core/timer.ts computes it (a test compares
 * the two on random timers), so a phone and a wall screen agree.
 */
export function timerMs(game, now) {
  const timer = game?.timer;
  if (!timer) return null;
  const limit = timer.limitMs ?? MAX_TIMER_MS;
  const running = timer.running ? Math.max(0, now - Date.parse(timer.at)) : 0;
  const counted = Math.min(timer.elapsedMs + running, limit);
  return timer.direction === "down" ? limit - counted : counted;
}

// ---- errors -------------------------------------------------------------------------------

/** A refusal from the service: its HTTP status and its problem document (RFC 9457), if any. */
export class ScorelineError extends Error {
  constructor(status, problem, message) {
    super(message ?? problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.name = "ScorelineError";
    this.status = status;
    this.problem = problem ?? null;
  }
}

// ---- small helpers ------------------------------------------------------------------------

function makeEvent(type, detail) {
  if (typeof CustomEvent === "function") {
    return new CustomEvent(type, { detail });
  }
  const event = new Event(type);
  Object.defineProperty(event, "detail", { value: detail });
  return event;
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), or null when absent or unreadable. */
function retryAfterMs(headers, localNow) {
  const value = headers.get("retry-after");
  if (value === null) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - localNow);
}

/** The problem document of an answer, or null when it has none. */
async function problemOf(response) {
  try {
    const text = await response.text();
    return /json/.test(response.headers.get("content-type") ?? "") ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** A base URL without its trailing slash, so `/api/...` can be appended to any path prefix. */
function baseUrl(server) {
  const value = server ?? OWN_ORIGIN;
  if (typeof value !== "string" && !(value instanceof URL)) {
    throw new TypeError(
      "server is required (the service's origin, e.g. https://scores.example)",
    );
  }
  const url = new URL(String(value));
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(
      `server must be an http: or https: URL, not ${url.protocol}`,
    );
  }
  url.search = "";
  url.hash = "";
  return url.href.replace(/\/+$/, "");
}

function checkId(id, what) {
  if (typeof id !== "string" || !GAME_ID.test(id)) {
    throw new TypeError(
      `${what} must be a game id (a-z, 0-9 and '-', up to 64), not ${id}`,
    );
  }
  return id;
}

/**
 * The scope of a feed from `{ game }`, `{ games }` or `{ competition }` (none: every game). A
 * `games` list is sorted and freed of duplicates: two widgets of one game ask for it once.
 */
function scopeOf(options) {
  const given = ["game", "games", "competition"].filter((key) => options[key] !== undefined);
  if (given.length > 1) {
    throw new TypeError(`give one of game, games, competition, not ${given}`);
  }
  if (options.game !== undefined) {
    return { kind: "game", id: checkId(options.game, "game") };
  }
  if (options.competition !== undefined) {
    return {
      kind: "competition",
      id: checkId(options.competition, "competition"),
    };
  }
  if (options.games !== undefined) {
    if (
      !Array.isArray(options.games) &&
      typeof options.games?.[Symbol.iterator] !== "function"
    ) {
      throw new TypeError("games must be a list of game ids");
    }
    const ids = [...new Set(options.games)].map((id) => checkId(id, "each of games")).sort();
    if (ids.length === 0 || ids.length > MAX_FILTER_GAMES) {
      throw new TypeError(`games must name 1 to ${MAX_FILTER_GAMES} games`);
    }
    return { kind: "games", ids };
  }
  return { kind: "all" };
}

function sameScope(a, b) {
  return a.kind === b.kind && a.id === b.id && String(a.ids) === String(b.ids);
}

/** The scope as watch() options take it back. */
function scopeOptions(scope) {
  if (scope.kind === "game") return { game: scope.id };
  if (scope.kind === "games") return { games: [...scope.ids] };
  if (scope.kind === "competition") return { competition: scope.id };
  return {};
}

function feedUrl(base, scope, transport, query) {
  const path = FEED_PATH[transport];
  const url = new URL(
    scope.kind === "game" ? `${base}/api/games/${scope.id}${path}` : `${base}/api${path}`,
  );
  if (scope.kind === "games") {
    url.searchParams.set("games", scope.ids.join(","));
  }
  if (scope.kind === "competition") {
    url.searchParams.set("competition", scope.id);
  }
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) {
      url.searchParams.set(key, String(value));
    }
  }
  if (transport === "websocket") {
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  }
  return url.href;
}

// ---- JSON Patch (RFC 6902) ----------------------------------------------------------------

function pointer(path) {
  if (path === "") return [];
  if (path[0] !== "/") throw new Error(`bad JSON pointer ${path}`);
  return path.slice(1).split("/").map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function arrayIndex(array, token, adding) {
  if (adding && token === "-") return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) {
    throw new Error(`bad array index ${token}`);
  }
  const index = Number(token);
  if (index > array.length || (!adding && index === array.length)) {
    throw new Error(`array index ${token} out of range`);
  }
  return index;
}

function equalJson(a, b) {
  return JSON.stringify(a) === JSON.stringify(b) ||
    (typeof a === "object" && typeof b === "object" && a !== null &&
      b !== null &&
      Object.keys(a).length === Object.keys(b).length &&
      Object.keys(a).every((key) => Object.hasOwn(b, key) && equalJson(a[key], b[key])));
}

/**
 * `ops` applied to `document` without touching it: only the objects and arrays on the paths the
 * operations take are copied, so a game handed to a caller never changes under them, and a
 * patch to a game with 500 events does not copy 500 events. Throws on an operation that does
 * not apply.
 */
export function applyPatch(document, ops) {
  const copies = new WeakSet();
  const own = (value) => {
    if (typeof value !== "object" || value === null) {
      throw new Error("path through a non-object");
    }
    if (copies.has(value)) return value;
    const copy = Array.isArray(value) ? value.slice() : { ...value };
    copies.add(copy);
    return copy;
  };
  let root = document;
  const read = (path) => {
    let node = root;
    for (const token of pointer(path)) {
      if (
        typeof node !== "object" || node === null || !Object.hasOwn(node, token)
      ) {
        throw new Error(`no value at ${path}`);
      }
      node = node[token];
    }
    return node;
  };
  /** The (copied) parent of `path` and its last token. */
  const parentOf = (path) => {
    const tokens = pointer(path);
    const last = tokens.pop();
    root = own(root);
    let node = root;
    for (const token of tokens) {
      if (!Object.hasOwn(node, token)) throw new Error(`no value at ${path}`);
      const child = own(
        node[Array.isArray(node) ? arrayIndex(node, token, false) : token],
      );
      node[token] = child;
      node = child;
    }
    return { node, last };
  };
  const add = (path, value) => {
    if (path === "") return void (root = value);
    const { node, last } = parentOf(path);
    if (Array.isArray(node)) {
      node.splice(arrayIndex(node, last, true), 0, value);
    } else node[last] = value;
  };
  const remove = (path) => {
    if (path === "") throw new Error("cannot remove the whole document");
    const { node, last } = parentOf(path);
    if (Array.isArray(node)) node.splice(arrayIndex(node, last, false), 1);
    else if (Object.hasOwn(node, last)) delete node[last];
    else throw new Error(`no value at ${path}`);
  };
  for (const op of ops) {
    switch (op.op) {
      case "add":
        add(op.path, op.value);
        break;
      case "remove":
        remove(op.path);
        break;
      case "replace":
        read(op.path);
        if (op.path === "") root = op.value;
        else {
          remove(op.path);
          add(op.path, op.value);
        }
        break;
      case "move": {
        const value = read(op.from);
        remove(op.from);
        add(op.path, value);
        break;
      }
      case "copy":
        add(op.path, structuredClone(read(op.from)));
        break;
      case "test":
        if (!equalJson(read(op.path), op.value)) {
          throw new Error(`test failed at ${op.path}`);
        }
        break;
      default:
        throw new Error(`unknown operation ${op.op}`);
    }
  }
  return root;
}

// ---- the server's clock -------------------------------------------------------------------

/**
 * The server's time from the `time` its pings carry. Each ping says the server's time when it
 * was sent, so it arrives late by its trip: the sample with the shortest trip is the best, and
 * that is the one that puts the server furthest ahead of our monotonic clock. Between pings the
 * monotonic clock (performance.now) counts, so a device clock that is minutes wrong, or is set
 * while a game runs, does not matter once one ping has arrived.
 */
class ServerClock {
  #samples = [];
  #local;

  constructor(local) {
    this.#local = local;
  }

  sample(serverTime) {
    if (!Number.isFinite(serverTime)) return;
    const mono = performance.now();
    this.#samples.push({ offset: serverTime - mono, mono });
    while (
      this.#samples.length > CLOCK_SAMPLES ||
      (this.#samples.length > 1 &&
        mono - this.#samples[0].mono > CLOCK_SAMPLE_MAX_AGE_MS)
    ) this.#samples.shift();
  }

  now() {
    if (this.#samples.length === 0) return this.#local();
    let best = -Infinity;
    for (const { offset } of this.#samples) best = Math.max(best, offset);
    return Math.round(best + performance.now());
  }
}

// ---- transports ---------------------------------------------------------------------------
//
// Each opens one feed and reports through `sink`: messages(list) for each batch that arrived
// (false back means "stop, I reconnect"), fail(reason) when it ends. A reason is
// { level: "transport" | "server" | "fatal", reason, status?, retryAfterMs?, problem? }:
// "transport" means this way of connecting does not work here (a proxy refused the WebSocket
// upgrade, a buffering proxy holds the stream), "server" that the service could not be reached
// or refused for now (try again later, same way), "fatal" a refusal no retry can fix.
// Each returns a close() that resolves once its socket or request is let go.

/** Why the service may refuse a feed for now (any other 5xx, and 408, are "http-error"). */
const SERVER_REFUSALS = { 429: "rate-limited", 503: "unavailable" };

/** What an HTTP answer that is not the feed means. */
async function httpFailure(response, localNow) {
  const status = response.status;
  const failure = {
    status,
    retryAfterMs: retryAfterMs(response.headers, localNow),
    problem: await problemOf(response),
  };
  if (status === 408 || status === 429 || status >= 500) {
    return {
      level: "server",
      reason: SERVER_REFUSALS[status] ?? "http-error",
      ...failure,
    };
  }
  return { level: "fatal", reason: "refused", ...failure };
}

function openWebSocket(ctx, sink) {
  const Socket = ctx.WebSocket;
  let socket;
  let opened = false;
  let done = false;
  let resolveClosed;
  const closed = new Promise((resolve) => (resolveClosed = resolve));
  const finish = (reason) => {
    if (done) return;
    done = true;
    sink.fail(reason);
  };
  try {
    socket = new Socket(ctx.url("websocket"));
  } catch (error) {
    queueMicrotask(() => finish({ level: "transport", reason: "websocket-failed", error }));
    return () => Promise.resolve();
  }
  socket.onopen = () => (opened = true);
  socket.onmessage = (event) => {
    if (done || typeof event.data !== "string") return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return; // not a message of this protocol: ignored like an unknown type
    }
    if (sink.messages([message]) === false) {
      done = true;
      socket.close();
    }
  };
  socket.onerror = () => {}; // a close event follows, with what there is to know
  socket.onclose = (event) => {
    resolveClosed();
    finish(
      opened
        ? { level: "server", reason: "closed", code: event.code }
        : { level: "transport", reason: "websocket-failed", code: event.code },
    );
  };
  return () => {
    done = true;
    if (socket.readyState === 3) return Promise.resolve();
    socket.close();
    return closed;
  };
}

/** Lines of a fetch body, as they arrive; one batch per chunk. */
function openStream(ctx, sink, transport) {
  const abort = new AbortController();
  let done = false;
  const finish = (reason) => {
    if (done) return;
    done = true;
    sink.fail(reason);
  };
  const run = async () => {
    let response;
    try {
      response = await ctx.fetch(ctx.url(transport), { signal: abort.signal });
    } catch (error) {
      return finish({ level: "server", reason: "network", error });
    }
    if (done) return void response.body?.cancel().catch(() => {});
    if (response.status !== 200) {
      return finish(await httpFailure(response, ctx.localNow()));
    }
    const type = response.headers.get("content-type") ?? "";
    const expected = transport === "sse" ? "text/event-stream" : "application/x-ndjson";
    if (!type.startsWith(expected) || !response.body) {
      // Someone else answered (a captive portal, a proxy's page): not our feed.
      await response.body?.cancel().catch(() => {});
      return finish({ level: "transport", reason: "not-a-feed", status: 200 });
    }
    const reader = response.body.pipeThrough(new TextDecoderStream())
      .getReader();
    const parse = transport === "sse" ? sseParser() : ndjsonParser();
    try {
      for (;;) {
        const { value, done: ended } = await reader.read();
        if (ended || done) break;
        const messages = parse(value);
        if (messages.length > 0 && sink.messages(messages) === false) {
          done = true;
          break;
        }
      }
    } catch (error) {
      return finish({ level: "server", reason: "network", error });
    } finally {
      await reader.cancel().catch(() => {});
    }
    finish({ level: "server", reason: "closed" });
  };
  const running = run();
  return () => {
    done = true;
    abort.abort();
    return running;
  };
}

function ndjsonParser() {
  let buffer = "";
  return (text) => {
    buffer += text;
    const lines = buffer.split("\n");
    buffer = lines.pop();
    return lines.flatMap((line) => parseMessage(line));
  };
}

/** Server-Sent Events: only `data:` matters, since every message carries its type and version. */
function sseParser() {
  let buffer = "";
  let data = [];
  return (text) => {
    buffer += text;
    const lines = buffer.split("\n");
    buffer = lines.pop();
    const out = [];
    for (let line of lines) {
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") {
        if (data.length > 0) out.push(...parseMessage(data.join("\n")));
        data = [];
      } else if (line.startsWith("data:")) {
        data.push(line.slice(line[5] === " " ? 6 : 5));
      }
    }
    return out;
  };
}

function parseMessage(text) {
  if (text.trim() === "") return [];
  try {
    const message = JSON.parse(text);
    return typeof message === "object" && message !== null ? [message] : [];
  } catch {
    return [];
  }
}

/**
 * Long polling: one request at a time, each resuming from the cursor of the last answer. The
 * first, without a cursor, asks not to wait (`timeout=0`), so a game that does not exist yet is
 * known at once rather than after a whole poll.
 */
function openPoll(ctx, sink) {
  let done = false;
  let abort;
  const finish = (reason) => {
    if (done) return;
    done = true;
    sink.fail(reason);
  };
  const run = async () => {
    let first = true;
    while (!done) {
      const cursor = ctx.cursor();
      const timeout = cursor === null && first ? 0 : ctx.pollTimeout;
      first = false;
      abort = new AbortController();
      // A proxy that holds a poll past its time would otherwise hang this feed for good.
      const deadline = ctx.later((timeout + 20) * 1000, () => abort.abort());
      let response;
      let body;
      try {
        response = await ctx.fetch(
          ctx.url("poll", { since: cursor, timeout }),
          {
            signal: abort.signal,
          },
        );
        if (response.status === 200) body = await response.json();
        else if (response.status === 204) await response.body?.cancel();
      } catch (error) {
        if (done) return;
        return finish({ level: "server", reason: "network", error });
      } finally {
        ctx.cancel(deadline);
      }
      if (done) return;
      if (response.status === 204) {
        if (sink.messages([]) === false) return void (done = true);
        continue;
      }
      if (response.status !== 200) {
        return finish(await httpFailure(response, ctx.localNow()));
      }
      if (
        !body || !Array.isArray(body.messages) ||
        !Number.isSafeInteger(body.cursor)
      ) {
        return finish({
          level: "transport",
          reason: "not-a-feed",
          status: 200,
        });
      }
      const messages = [...body.messages];
      if (Number.isFinite(body.time)) {
        messages.push({ type: "ping", time: body.time });
      }
      if (sink.messages(messages, body.cursor) === false) {
        return void (done = true);
      }
    }
  };
  const running = run();
  return () => {
    done = true;
    abort?.abort();
    return running;
  };
}

const OPENERS = {
  websocket: openWebSocket,
  sse: (ctx, sink) => openStream(ctx, sink, "sse"),
  ndjson: (ctx, sink) => openStream(ctx, sink, "ndjson"),
  poll: openPoll,
};

// ---- watch --------------------------------------------------------------------------------

/**
 * The transports `auto` tries, best first: WebSocket (the cheapest viewer for the service), then
 * a stream read through fetch (SSE where the runtime is a browser or Deno, NDJSON where it has
 * no EventSource, as in Node 20), then long polling, which passes every proxy.
 */
function autoTiers(hasWebSocket) {
  const stream = typeof EventSource === "function" ? "sse" : "ndjson";
  return hasWebSocket ? ["websocket", stream, "poll"] : [stream, "poll"];
}

class Watch extends EventTarget {
  #base;
  #scope;
  #delta;
  #wantViewers;
  #fetch;
  #WebSocket;
  #local;
  #clock;
  #tuning;
  #tiers;
  #auto;

  #games = new Map();
  #viewers = new Map();
  #cursor = null;
  #synced = false;
  #status = { transport: null, connected: false, state: "connecting" };
  #closed = false;
  #failed = null;

  /** The tier in use; while a fall back is not yet confirmed, the tier it fell from. */
  #tier = 0;
  #fellFrom = null;
  #failures = 0;
  #probeMs;
  #probeTimer = null;
  #retryTimer = null;
  #openTimer = null;
  #attempt = 0;
  #closeConnection = null;
  /** Connections still letting go of their socket or request: close() waits for them. */
  #closing = new Set();
  #timers = new Set();
  #consumers = new Set();

  constructor(options) {
    super();
    if (typeof options !== "object" || options === null) {
      throw new TypeError("watch() needs options");
    }
    const transport = options.transport ?? "auto";
    if (!TRANSPORTS.includes(transport)) {
      throw new TypeError(
        `transport must be one of ${TRANSPORTS.join(", ")}, not ${transport}`,
      );
    }
    this.#base = baseUrl(options.server);
    this.#scope = scopeOf(options);
    this.#delta = options.delta ?? true;
    this.#wantViewers = options.viewers ?? false;
    this.#fetch = options.fetch ?? globalThis.fetch?.bind(globalThis);
    this.#WebSocket = options.WebSocket === undefined ? globalThis.WebSocket : options.WebSocket;
    this.#local = options.clock ?? Date.now;
    this.#clock = new ServerClock(this.#local);
    this.#tuning = { ...DEFAULTS };
    for (const key of Object.keys(DEFAULTS)) {
      if (options[key] === undefined) continue;
      if (typeof options[key] !== "number" || !(options[key] >= 0)) {
        throw new TypeError(`${key} must be a non-negative number`);
      }
      this.#tuning[key] = options[key];
    }
    this.#probeMs = this.#tuning.preferredRetryMs;
    this.#auto = transport === "auto";
    const hasWebSocket = typeof this.#WebSocket === "function";
    if (transport === "websocket" && !hasWebSocket) {
      throw new TypeError("transport websocket: this runtime has no WebSocket");
    }
    if (typeof this.#fetch !== "function" && transport !== "websocket") {
      throw new TypeError("this runtime has no fetch");
    }
    this.#tiers = this.#auto ? autoTiers(hasWebSocket) : [transport];
    if (options.signal) {
      if (options.signal.aborted) queueMicrotask(() => this.close());
      else {options.signal.addEventListener("abort", () => this.close(), {
          once: true,
        });}
    }
    queueMicrotask(() => this.#connect());
  }

  get games() {
    return this.#games;
  }

  get viewers() {
    return this.#viewers;
  }

  get status() {
    return this.#status;
  }

  get cursor() {
    return this.#cursor;
  }

  get scope() {
    return scopeOptions(this.#scope);
  }

  now() {
    return this.#clock.now();
  }

  setScope(options) {
    const scope = scopeOf(options ?? {});
    if (this.#closed || sameScope(scope, this.#scope)) return;
    this.#scope = scope;
    // The cursor says what this client has of the old scope, not of games it now adds: start
    // afresh, keeping what it shows until the new snapshot replaces it.
    this.#cursor = null;
    this.#synced = false;
    this.#viewers = new Map();
    if (this.#retryTimer !== null) return; // waiting out a back-off: the next attempt takes it
    this.#reconnect(0, { reason: "rescope" });
  }

  async close() {
    if (!this.#closed) {
      this.#closed = true;
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      this.#closeConnection?.();
      this.#closeConnection = null;
      this.#setStatus({ transport: null, connected: false, state: "closed" });
      for (const consumer of this.#consumers) consumer.end();
    }
    while (this.#closing.size > 0) await Promise.all(this.#closing);
  }

  [Symbol.asyncIterator]() {
    // One consumer per loop. A consumer slower than the feed is not queued every value: it gets
    // the latest state with every id changed since it last looked (conflation, as on the wire).
    let pending = this.#synced ? this.#value([...this.#games.keys()]) : null;
    let waiting = null;
    let ended = false;
    const consumer = {
      push: (value) => {
        if (waiting) {
          waiting.resolve({ value, done: false });
          waiting = null;
        } else if (pending) {
          pending = {
            games: value.games,
            changed: [...new Set([...pending.changed, ...value.changed])],
          };
        } else pending = value;
      },
      end: () => {
        ended = true;
        this.#consumers.delete(consumer);
        if (!waiting) return;
        if (this.#failed) waiting.reject(this.#failed);
        else waiting.resolve({ value: undefined, done: true });
        waiting = null;
      },
    };
    if (this.#closed) ended = true;
    else this.#consumers.add(consumer);
    const iterator = {
      next: () => {
        if (pending) {
          const value = pending;
          pending = null;
          return Promise.resolve({ value, done: false });
        }
        if (ended) {
          return this.#failed
            ? Promise.reject(this.#failed)
            : Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((
          resolve,
          reject,
        ) => (waiting = { resolve, reject }));
      },
      return: async () => {
        // Leaving a for-await loop ends the watch, as it cancels a ReadableStream.
        consumer.end();
        await this.close();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  // ---- connecting -------------------------------------------------------------------------

  #later(ms, fn) {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }

  #cancel(timer) {
    if (timer === null) return;
    clearTimeout(timer);
    this.#timers.delete(timer);
  }

  #setStatus(status) {
    const previous = this.#status;
    if (
      Object.keys(status).length === Object.keys(previous).length &&
      Object.entries(status).every(([key, value]) => previous[key] === value)
    ) return;
    this.#status = Object.freeze(status);
    this.dispatchEvent(makeEvent("status", this.#status));
  }

  #connect() {
    this.#retryTimer = null;
    if (this.#closed) return;
    const transport = this.#tiers[this.#tier];
    const attempt = ++this.#attempt;
    let working = false;
    if (
      this.#status.state !== "connecting" ||
      this.#status.transport !== transport
    ) {
      this.#setStatus({ transport, connected: false, state: "connecting" });
    }
    const ctx = {
      fetch: this.#fetch,
      WebSocket: this.#WebSocket,
      pollTimeout: this.#tuning.pollTimeout,
      localNow: this.#local,
      cursor: () => this.#cursor,
      later: (ms, fn) => this.#later(ms, fn),
      cancel: (timer) => this.#cancel(timer),
      url: (kind, extra = {}) =>
        feedUrl(this.#base, this.#scope, kind, {
          since: this.#cursor,
          delta: this.#delta ? 1 : undefined,
          viewers: this.#wantViewers ? 1 : undefined,
          ...extra,
        }),
    };
    const sink = {
      messages: (messages, pollCursor) => {
        if (attempt !== this.#attempt || this.#closed) return false;
        if (!working) {
          working = true;
          this.#cancel(this.#openTimer);
          this.#works(transport);
        }
        return this.#receive(messages, pollCursor);
      },
      fail: (reason) => {
        if (attempt !== this.#attempt || this.#closed) return;
        this.#cancel(this.#openTimer);
        this.#onFailure(reason, working);
      },
    };
    // A transport works once it delivered something: a proxy that buffers a stream (nothing ever
    // arrives) is found out by this, and the next transport is tried.
    this.#openTimer = this.#later(
      transport === "poll"
        ? (this.#tuning.pollTimeout + 20) * 1000 + this.#tuning.openTimeoutMs
        : this.#tuning.openTimeoutMs,
      () => {
        if (attempt !== this.#attempt || working) return;
        this.#onFailure({ level: "transport", reason: "silent" }, false);
      },
    );
    const close = OPENERS[transport](ctx, sink);
    this.#closeConnection = () => {
      const closing = Promise.resolve(close()).catch(() => {}).finally(() =>
        this.#closing.delete(closing)
      );
      this.#closing.add(closing);
    };
  }

  /** The first message of a connection: this transport works here. */
  #works(transport) {
    this.#failures = 0;
    this.#fellFrom = null;
    this.#setStatus({ transport, connected: true, state: "live" });
    if (!this.#auto) return;
    if (this.#tier === 0) {
      this.#probeMs = this.#tuning.preferredRetryMs;
      this.#cancel(this.#probeTimer);
      this.#probeTimer = null;
    } else if (this.#probeTimer === null) {
      // Fallen back: try the preferred transport again later, less often each time it fails.
      const wait = this.#probeMs;
      this.#probeMs = Math.min(
        this.#probeMs * 2,
        this.#tuning.preferredRetryMaxMs,
      );
      this.#probeTimer = this.#later(wait, () => {
        this.#probeTimer = null;
        if (this.#closed || this.#tier === 0) return;
        // A try, not a move: if the preferred transport still fails, back to the one that works
        // at once, not after a round of back-offs without data.
        this.#fellFrom = this.#tier;
        this.#tier = 0;
        this.#reconnect(0, { reason: "preferred" });
      });
    }
  }

  /** Ends the connection in use and opens the next after `delay` ms. */
  #reconnect(delay, why) {
    this.#closeConnection?.();
    this.#closeConnection = null;
    this.#attempt++;
    this.#cancel(this.#openTimer);
    this.#cancel(this.#retryTimer);
    this.#retryTimer = null;
    if (delay <= 0) {
      this.#setStatus({
        transport: this.#tiers[this.#tier],
        connected: false,
        ...why,
        state: "connecting",
      });
      queueMicrotask(() => this.#connect());
      return;
    }
    this.#setStatus({
      transport: this.#tiers[this.#tier],
      connected: false,
      state: "retrying",
      ...why,
      retryInMs: Math.round(delay),
      retryAt: Math.round(this.#local() + delay),
    });
    this.#retryTimer = this.#later(delay, () => this.#connect());
  }

  #backoff(retryAfter) {
    const { retryMinMs, retryMaxMs } = this.#tuning;
    const step = Math.min(
      retryMaxMs,
      retryMinMs * 2 ** Math.min(this.#failures, 20),
    );
    // Full spread over the upper half: ten thousand viewers dropped together come back spread
    // out, not in the same millisecond.
    const jittered = step / 2 + Math.random() * (step / 2);
    if (retryAfter === null || retryAfter === undefined) return jittered;
    return Math.max(retryAfter * (1 + Math.random() * 0.25), jittered);
  }

  #onFailure(failure, working) {
    const { level, reason, status, retryAfterMs: retryAfter, problem } = failure;
    const why = { reason };
    if (status !== undefined) why.httpStatus = status;
    if (retryAfter !== undefined && retryAfter !== null) {
      why.retryAfterMs = retryAfter;
    }
    if (level === "fatal") {
      this.#fail(
        new ScorelineError(
          status,
          problem,
          problem?.detail ?? `the feed was refused: HTTP ${status}`,
        ),
        why,
      );
      return;
    }
    if (
      level === "transport" && !working && this.#auto &&
      this.#tier < this.#tiers.length - 1
    ) {
      // This way of connecting does not work here: the next one, at once.
      this.#fellFrom ??= this.#tier;
      this.#tier++;
      this.#reconnect(0, why);
      return;
    }
    if (this.#fellFrom !== null && !working) {
      // The lower transport cannot reach the service either (the service is down, not the
      // transport), or a try of the preferred one failed: back to where it came from, and wait.
      this.#tier = this.#fellFrom;
      this.#fellFrom = null;
    }
    if (!working) this.#failures++;
    if (
      this.#auto && !working && (retryAfter === null || retryAfter === undefined) &&
      this.#failures >= ROTATE_AFTER_FAILURES
    ) {
      // Failing this long without a first message: the service may be down, or something on the
      // way resets these connections while plain requests pass (v1's widget fell back for that).
      // Each further retry uses the next transport, the preferred again after the last, at the
      // same back-off: during an outage it costs no extra request, and a network that lets only
      // long polls through gets served. A service that speaks (Retry-After) is only waited for.
      this.#tier = (this.#tier + 1) % this.#tiers.length;
    }
    this.#reconnect(this.#backoff(retryAfter), why);
  }

  #fail(error, why) {
    this.#failed = error;
    this.#closeConnection?.();
    this.#closeConnection = null;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#setStatus({
      transport: null,
      connected: false,
      state: "failed",
      ...why,
      ...(error.problem ? { problem: error.problem } : {}),
    });
    for (const consumer of this.#consumers) consumer.end();
  }

  // ---- messages ---------------------------------------------------------------------------

  /**
   * Applies a batch of messages; false when a patch did not fit the copy held, so the feed must
   * be reopened from the cursor (which then still points before that patch).
   */
  #receive(messages, pollCursor) {
    const changed = new Set();
    let synced = false;
    let ok = true;
    for (const message of messages) {
      const result = this.#apply(message, changed);
      if (result === "mismatch") {
        ok = false;
        break;
      }
      if (result === "synced") synced = true;
    }
    if (
      ok && pollCursor !== undefined &&
      (this.#cursor === null || pollCursor > this.#cursor)
    ) {
      this.#cursor = pollCursor;
    }
    // The first answer of a feed says what exists (its snapshot or catch-up comes before its
    // first ping), even when nothing does: that is a change too, and so is every snapshot.
    const first = !this.#synced;
    this.#synced = true;
    if (changed.size > 0 || first || synced) this.#emit([...changed]);
    if (!ok) this.#reconnect(0, { reason: "resync" });
    return ok;
  }

  #advance(version) {
    if (this.#cursor === null || version > this.#cursor) this.#cursor = version;
  }

  #apply(message, changed) {
    switch (message?.type) {
      case "snapshot": {
        const games = message.games ?? (message.game ? [message.game] : []);
        const next = new Map(games.map((game) => [game.id, game]));
        for (const [id, game] of this.#games) {
          if (next.get(id)?.version !== game.version) changed.add(id);
        }
        for (const id of next.keys()) if (!this.#games.has(id)) changed.add(id);
        this.#games = next;
        // A snapshot's version is the service's counter now, lower than the cursor after a
        // store was reset: it replaces the cursor, it does not merely advance it.
        this.#cursor = message.version;
        return "synced";
      }
      case "update": {
        const game = message.game;
        const held = this.#games.get(game.id);
        if (!held || held.version < game.version) {
          this.#games.set(game.id, game);
          changed.add(game.id);
        }
        this.#advance(message.version);
        return "applied";
      }
      case "removed": {
        const held = this.#games.get(message.id);
        if (held && held.version < message.version) {
          this.#games.delete(message.id);
          changed.add(message.id);
        }
        this.#advance(message.version);
        return "applied";
      }
      case "patch": {
        const held = this.#games.get(message.id);
        if (held && held.version >= message.version) return "applied"; // had it already
        if (!held || held.version !== message.base) return "mismatch";
        let game;
        try {
          game = applyPatch(held, message.ops);
        } catch {
          return "mismatch";
        }
        if (game?.version !== message.version) return "mismatch";
        this.#games.set(message.id, game);
        changed.add(message.id);
        this.#advance(message.version);
        return "applied";
      }
      case "ping":
        if (!Number.isFinite(message.time)) return "applied";
        this.#clock.sample(message.time);
        // Screens that show a running timer redraw it now: until the first ping, now() was the
        // device's clock, which may be minutes wrong.
        this.dispatchEvent(makeEvent("time", { now: this.#clock.now() }));
        return "applied";
      case "viewers": {
        if (typeof message.games !== "object" || message.games === null) {
          return "applied";
        }
        this.#viewers = new Map(Object.entries(message.games));
        this.dispatchEvent(makeEvent("viewers", { games: this.#viewers }));
        return "applied";
      }
      default:
        return "applied"; // a message type from a newer service: ignored
    }
  }

  #value(changed) {
    return { games: new Map(this.#games), changed };
  }

  #emit(changed) {
    const value = this.#value(changed);
    this.dispatchEvent(makeEvent("change", value));
    for (const consumer of this.#consumers) consumer.push(value);
  }
}

// `await using scores = watch(...)` where the runtime knows the symbol (Node 20 does not).
if (typeof Symbol.asyncDispose === "symbol") {
  Object.defineProperty(Watch.prototype, Symbol.asyncDispose, {
    value() {
      return this.close();
    },
    writable: true,
    configurable: true,
  });
}

/**
 * Watches games live: one feed, resumed by cursor after any drop, patches applied, the server's
 * clock tracked. See scoreline.d.ts for the options and the handle.
 */
export function watch(options) {
  return new Watch(options);
}

// ---- Scorer -------------------------------------------------------------------------------

/** An Idempotency-Key: 128 random bits (getRandomValues works where randomUUID may not: http). */
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Answers after which the same request, with the same key, is safe and worth sending again. */
const RETRY_STATUSES = new Set([408, 409, 429, 502, 503, 504]);

function delay(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Writes games with a bearer token. Every call carries its own Idempotency-Key and is sent again
 * with that same key after a network error, a 503 (or 502, 504, 408, 429) or a 409 (the first
 * try still running): the service answers a repeat with the first answer and changes nothing, so
 * an answer lost on a venue's Wi-Fi never counts a goal twice.
 */
export class Scorer {
  #base;
  #token;
  #fetch;
  #retries;
  #timeoutMs;
  #retryMinMs;
  #retryMaxMs;
  #maxRetryAfterMs;

  constructor(options) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Scorer needs options");
    }
    this.#base = baseUrl(options.server);
    if (typeof options.token !== "string" || options.token === "") {
      throw new TypeError("token is required");
    }
    this.#token = options.token;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#retries = options.retries ?? 5;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#retryMinMs = options.retryMinMs ?? 250;
    this.#retryMaxMs = options.retryMaxMs ?? 5_000;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  }

  async put(id, game, opts) {
    return await this.#write("PUT", this.#path(id), game, opts);
  }

  async patch(id, patch, opts) {
    return await this.#write(
      "PATCH",
      this.#path(id),
      patch,
      opts,
      "application/merge-patch+json",
    );
  }

  async score(id, side, points, opts) {
    return await this.#write(
      "POST",
      this.#path(id, "/score"),
      { side, points },
      opts,
    );
  }

  async event(id, event, opts) {
    return await this.#write("POST", this.#path(id, "/events"), event, opts);
  }

  async removeEvent(id, eventId, opts) {
    if (!Number.isSafeInteger(eventId) || eventId < 1) {
      throw new TypeError(`eventId must be a positive integer, not ${eventId}`);
    }
    return await this.#write(
      "DELETE",
      this.#path(id, `/events/${eventId}`),
      undefined,
      opts,
    );
  }

  async timer(id, action, opts) {
    const body = { action: action?.action };
    if (action?.elapsedMs !== undefined) body.elapsedMs = action.elapsedMs;
    return await this.#write("POST", this.#path(id, "/timer"), body, opts);
  }

  async remove(id, opts) {
    return await this.#write("DELETE", this.#path(id), undefined, opts);
  }

  #path(id, rest = "") {
    return `/api/games/${checkId(id, "id")}${rest}`;
  }

  async #write(
    method,
    path,
    body,
    opts = {},
    contentType = "application/json",
  ) {
    const headers = {
      authorization: `Bearer ${this.#token}`,
      "idempotency-key": opts.idempotencyKey ?? newKey(),
    };
    if (opts.ifMatch !== undefined && opts.ifMatch !== null) {
      if (!Number.isSafeInteger(opts.ifMatch)) {
        throw new TypeError("ifMatch must be a version");
      }
      headers["if-match"] = `"${opts.ifMatch}"`;
    }
    if (opts.ifNoneMatch === "*") headers["if-none-match"] = "*";
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers["content-type"] = contentType;
    for (let attempt = 0;; attempt++) {
      const last = attempt >= this.#retries;
      const step = Math.min(
        this.#retryMaxMs,
        this.#retryMinMs * 2 ** Math.min(attempt, 20),
      );
      const wait = step * (0.5 + Math.random() / 2);
      const answer = await this.#send(
        method,
        path,
        headers,
        payload,
        opts.signal,
      );
      if (answer.error) {
        // The request may or may not have reached the service: the same key settles it.
        if (opts.signal?.aborted || last) throw answer.error;
        await delay(wait, opts.signal);
        continue;
      }
      const { status, headers: got, text } = answer;
      if (status >= 200 && status < 300) {
        return status === 204 || text === "" ? undefined : JSON.parse(text);
      }
      const retryAfter = retryAfterMs(got, Date.now());
      if (
        last || !RETRY_STATUSES.has(status) ||
        (retryAfter !== null && retryAfter > this.#maxRetryAfterMs)
      ) {
        let problem = null;
        try {
          if (/json/.test(got.get("content-type") ?? "")) {
            problem = JSON.parse(text);
          }
        } catch {
          // not a problem document: the status says it all
        }
        throw new ScorelineError(status, problem);
      }
      await delay(Math.max(wait, retryAfter ?? 0), opts.signal);
    }
  }

  /** One try, its answer read whole (a cut answer is a network error), or the error. */
  async #send(method, path, headers, payload, signal) {
    const abort = new AbortController();
    const onAbort = () => abort.abort(signal.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    // A request a proxy holds for ever would hold the scorer's tap for ever.
    const timer = setTimeout(() => abort.abort(), this.#timeoutMs);
    try {
      const response = await this.#fetch(this.#base + path, {
        method,
        headers,
        body: payload,
        signal: abort.signal,
      });
      return {
        status: response.status,
        headers: response.headers,
        text: await response.text(),
      };
    } catch (error) {
      return { error };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}
