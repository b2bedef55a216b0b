/**
 * Types of the Scoreline client library (`scoreline.js`, served as `/client.js`). Written by hand
 * beside the JavaScript, which carries `// @ts-self-types="./scoreline.d.ts"`, so Deno and
 * TypeScript users are checked against these declarations.
 *
 * @module
 */

/** A game's status. */
export type GameStatus =
  | "scheduled"
  | "live"
  | "break"
  | "final"
  | "postponed"
  | "cancelled";

export type SideName = "home" | "away";

export interface Side {
  name: string;
  score: number;
  detail?: string;
}

/** A running or stopped timer: where it stood (`elapsedMs`) at `at`, the commit time of its last change. */
export interface Timer {
  running: boolean;
  elapsedMs: number;
  /** RFC 3339 UTC. */
  at: string;
  direction: "up" | "down";
  limitMs?: number;
}

/** A timeline event (goal, card, note, …: the sport's own words). */
export interface GameEvent {
  /** Counts 1, 2, 3… per game, never reused. */
  id: number;
  kind: string;
  side?: SideName;
  points?: number;
  text?: string;
  clock?: string;
  /** What the timer showed at the commit; absent without a timer. */
  elapsedMs?: number;
  /** The version of the change that added it. */
  version: number;
  /** Its commit time, RFC 3339 UTC. */
  time: string;
}

/** A game as the service sends it. Treat it as read-only: the library never changes an object it handed out. */
export interface Game {
  id: string;
  title?: string;
  status: GameStatus;
  period?: string;
  clock?: string;
  competition?: string;
  startsAt?: string;
  timer?: Timer;
  home: Side;
  away: Side;
  /** The timeline, oldest first; absent when empty. */
  events?: GameEvent[];
  lastEventId?: number;
  /** The version of the game's latest change: one counter for the whole service. */
  version: number;
  /** RFC 3339 UTC. */
  updatedAt: string;
}

/** Which games a feed follows: one game, a list of games, a competition, or (none given) every game. */
export type Scope =
  | { game: string; games?: never; competition?: never }
  | { games: Iterable<string>; game?: never; competition?: never }
  | { competition: string; game?: never; games?: never }
  | { game?: never; games?: never; competition?: never };

/**
 * How to connect. `auto` tries WebSocket, then a stream (SSE; NDJSON where the runtime has no
 * EventSource, as Node 20), then long polling, and stays on the first that works.
 */
export type Transport = "websocket" | "sse" | "ndjson" | "poll";

export type WatchOptions = Scope & {
  /**
   * The service's origin (or a base URL with a path prefix). Optional only when the module was
   * loaded from the service itself (`/client.js`): it defaults to that origin.
   */
  server?: string | URL;
  /** Default `auto`. */
  transport?: "auto" | Transport;
  /** Changes to games held as JSON Patches of the previous version (default true). */
  delta?: boolean;
  /** Also receive viewer counts of the games in scope (`viewers` events, `handle.viewers`); default false. */
  viewers?: boolean;
  /** Closes the watch when aborted. */
  signal?: AbortSignal;
  /** The device's clock (default `Date.now`): used for `now()` until the first ping, and for `retryAt`. */
  clock?: () => number;
  /** Seconds a long poll waits on the service (0–60, default 25). */
  pollTimeout?: number;
  /** A connection must deliver its first message within this, or the next transport is tried (default 10,000). */
  openTimeoutMs?: number;
  /** Reconnect back-off: the first delay (default 1,000) and the longest (default 30,000), jittered. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** After falling back, the preferred transport is tried again after this (default 60,000), doubling up to `preferredRetryMaxMs` (default 900,000). */
  preferredRetryMs?: number;
  preferredRetryMaxMs?: number;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
  /** The WebSocket class to use (default the global one); `null` never uses WebSockets. */
  WebSocket?: typeof WebSocket | null;
};

/** What a `change` event carries, and what the async iterator yields. */
export interface Change {
  /** Every game in scope, by id, as of this change (a new Map each time). */
  games: ReadonlyMap<string, Game>;
  /** The ids that changed (including removed ones, no longer in `games`). */
  changed: string[];
}

/** Why a feed is not live (or what it just did). */
export type StatusReason =
  /** The request failed on the network (the service is down, or the network is). */
  | "network"
  /** 429: too many new feeds from this address; see `retryAfterMs`. */
  | "rate-limited"
  /** 503: the service is full or not ready; see `retryAfterMs`. */
  | "unavailable"
  /** Another 5xx (or 408), e.g. a proxy's 502 while the service restarts. */
  | "http-error"
  /** The service (or a proxy) ended the feed: reconnecting with the cursor. */
  | "closed"
  /** The WebSocket could not be opened (a proxy that refuses upgrades, say). */
  | "websocket-failed"
  /** Nothing arrived within `openTimeoutMs` (a proxy that buffers the stream, say). */
  | "silent"
  /** The answer was not a feed (a captive portal's page, say). */
  | "not-a-feed"
  /** A patch did not fit the copy held: reopened from the cursor. */
  | "resync"
  /** The scope changed (`setScope`). */
  | "rescope"
  /** Trying the preferred transport again after a fall back. */
  | "preferred"
  /** A refusal no retry can fix (a 4xx other than 408 and 429): the watch has failed. */
  | "refused";

export interface WatchStatus {
  /** The transport in use or being tried; null once closed or failed. */
  transport: Transport | null;
  /** True from a connection's first message (snapshot, catch-up or ping) until it drops. */
  connected: boolean;
  /**
   * `connecting`: a connection is being opened; `live`: it delivers; `retrying`: waiting
   * `retryInMs` before the next try; `failed`: refused for good (see `httpStatus`, `problem`);
   * `closed`: `close()` was called.
   */
  state: "connecting" | "live" | "retrying" | "failed" | "closed";
  /** Why it is not live, or what led to this connection. */
  reason?: StatusReason;
  /** The HTTP status of a refusal (429, 503, …). */
  httpStatus?: number;
  /** The refusal's `Retry-After`, in milliseconds. */
  retryAfterMs?: number;
  /** While `retrying`: the delay before the next try, and when it is due (device clock, epoch ms). */
  retryInMs?: number;
  retryAt?: number;
  /** When `failed`: the service's problem document. */
  problem?: Problem;
}

export interface ViewersDetail {
  /** Viewers by game id, for the games in scope (as the service last counted them). */
  games: ReadonlyMap<string, number>;
}

/** What a `time` event carries: the server's time as now estimated, in epoch milliseconds. */
export interface TimeDetail {
  now: number;
}

export interface WatchEventMap {
  change: CustomEvent<Change>;
  status: CustomEvent<WatchStatus>;
  viewers: CustomEvent<ViewersDetail>;
  /** A ping told the server's time (the first one right after each connection opens). */
  time: CustomEvent<TimeDetail>;
}

/**
 * A live view of some games: an `EventTarget` (`change`, `status`, `viewers`, `time` events) and an async
 * iterable of changes. One connection, resumed by cursor after every drop.
 */
export interface ScorelineWatch extends EventTarget, AsyncIterable<Change>, AsyncDisposable {
  /** The games in scope now (live: it changes as messages arrive). */
  readonly games: ReadonlyMap<string, Game>;
  /** Viewer counts of the games in scope, when watched with `viewers: true`. */
  readonly viewers: ReadonlyMap<string, number>;
  readonly status: WatchStatus;
  /** The last version seen: where the next connection resumes (null before the first answer). */
  readonly cursor: number | null;
  /** The scope as `watch()` options give it. */
  readonly scope: Scope;
  /** The server's time in epoch milliseconds, from its pings (the device's clock until the first). */
  now(): number;
  /**
   * Follows other games on the same handle: the connection is reopened for the new scope and
   * its snapshot replaces `games` (what was shown stays until then; nothing is lost, since the
   * snapshot is the state of every game in the new scope). Does nothing when the scope is the
   * same.
   */
  setScope(scope: Scope): void;
  /** Ends the watch; resolves once its connection is let go. */
  close(): Promise<void>;
  addEventListener<K extends keyof WatchEventMap>(
    type: K,
    listener: (event: WatchEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof WatchEventMap>(
    type: K,
    listener: (event: WatchEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

/**
 * Watches games live. Throws a TypeError at once for options that cannot work (a bad id, two
 * scopes, an unknown transport).
 *
 * @example
 * const scores = watch({ server: "https://scores.example", game: "cup-final" });
 * for await (const { games } of scores) console.log(games.get("cup-final")?.home.score);
 */
export function watch(options: WatchOptions): ScorelineWatch;

/**
 * What a game's timer shows at server time `now` (epoch ms): the time counted, or for a `down`
 * timer the time left; null for a game without a timer. Tick it with `handle.now()`.
 */
export function timerMs(game: Pick<Game, "timer">, now: number): number | null;

/** An RFC 6902 operation. */
export type PatchOperation =
  | { op: "add" | "replace" | "test"; path: string; value: unknown }
  | { op: "remove"; path: string }
  | { op: "move" | "copy"; from: string; path: string };

/** Applies a JSON Patch without changing `document` (copies only what it changes); throws when it does not apply. */
export function applyPatch<T>(document: T, ops: PatchOperation[]): T;

/** An RFC 9457 problem document, as the service answers every error. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
  [key: string]: unknown;
}

/** A refusal from the service: its status and problem document. */
export class ScorelineError extends Error {
  constructor(status: number, problem?: Problem | null, message?: string);
  readonly status: number;
  readonly problem: Problem | null;
}

export interface ScorerOptions {
  /** The service's origin; defaults to the module's own origin when loaded from the service. */
  server?: string | URL;
  /** A bearer token (or JWT) that may write. */
  token: string;
  /** Tries after the first (default 5). */
  retries?: number;
  /** One try's time limit (default 15,000 ms): then it counts as a network error. */
  timeoutMs?: number;
  /** The first back-off between tries (default 250 ms), doubling up to `retryMaxMs` (default 5,000), jittered. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** A `Retry-After` longer than this is not waited for: the call rejects (default 30,000 ms). */
  maxRetryAfterMs?: number;
  fetch?: typeof fetch;
}

export interface WriteOptions {
  /** Only if the game is at this version now (`If-Match`); 412 otherwise. */
  ifMatch?: number;
  /** `"*"`: only if the game does not exist yet (PUT only). */
  ifNoneMatch?: "*";
  /** Your own Idempotency-Key (1–128 printable characters), e.g. one per tap; a random one by default. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** A whole game as PUT takes it (server-assigned fields may be sent back and are ignored). */
export interface GameInput {
  title?: string;
  status?: GameStatus;
  period?: string;
  clock?: string;
  competition?: string;
  startsAt?: string;
  timer?: {
    running: boolean;
    elapsedMs: number;
    direction?: "up" | "down";
    limitMs?: number;
    at?: string;
  };
  home: { name: string; score?: number; detail?: string };
  away: { name: string; score?: number; detail?: string };
  id?: string;
  version?: number;
  updatedAt?: string;
  events?: unknown[];
  lastEventId?: number;
}

/** A JSON merge patch (RFC 7386) of a game: `null` removes an optional field. */
export interface GamePatch {
  title?: string | null;
  status?: GameStatus;
  period?: string | null;
  clock?: string | null;
  competition?: string | null;
  startsAt?: string | null;
  timer?: {
    running: boolean;
    elapsedMs: number;
    direction?: "up" | "down";
    limitMs?: number;
    at?: string;
  } | null;
  home?: { name?: string; score?: number; detail?: string | null };
  away?: { name?: string; score?: number; detail?: string | null };
  id?: string;
  version?: number;
  updatedAt?: string;
  events?: unknown[];
  lastEventId?: number;
}

export interface EventInput {
  kind: string;
  side?: SideName;
  points?: number;
  text?: string;
  clock?: string;
}

export type TimerAction = { action: "start" | "stop" } | {
  action: "set";
  elapsedMs: number;
};

/**
 * Writes games. Every call carries its own Idempotency-Key and is retried with that same key
 * after a network error, a 503 (also 502, 504, 408, 429) or a 409 (the first try still
 * running), so a goal whose answer was lost is counted once. Resolves to the game as the answer
 * gives it; rejects with a {@link ScorelineError} on a refusal.
 */
export class Scorer {
  constructor(options: ScorerOptions);
  put(id: string, game: GameInput, opts?: WriteOptions): Promise<Game>;
  patch(id: string, patch: GamePatch, opts?: WriteOptions): Promise<Game>;
  score(
    id: string,
    side: SideName,
    points: number,
    opts?: WriteOptions,
  ): Promise<Game>;
  event(id: string, event: EventInput, opts?: WriteOptions): Promise<Game>;
  removeEvent(id: string, eventId: number, opts?: WriteOptions): Promise<Game>;
  timer(id: string, action: TimerAction, opts?: WriteOptions): Promise<Game>;
  remove(id: string, opts?: WriteOptions): Promise<undefined>;
}
