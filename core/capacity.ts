/**
 * Caps on open feeds (streams, sockets, waiting long polls): per client address and in total.
 * A Deno process here can hold about 20,000 open files; refusing with 429/503 and Retry-After
 * below that is a decision, where running into "Too many open files" would be an accident that
 * takes every other viewer down too. A crowd behind one address is let in, up to a cap that is
 * far above a household's; what holds one address back is the rate at which it may open feeds.
 */
import type { Clock } from "./clock.ts";
import { RateLimiter } from "./rate_limit.ts";

/** Which limit refused a feed. */
export type CapacityLimit = "client" | "total" | "rate" | "ws-client" | "ws-total";

/**
 * A feed refused for capacity: `client` when this address has as many feeds as it may, `rate`
 * when it opens them faster than it may, `ws-client` when it has as many WebSockets as it may
 * (all 429); `total` and `ws-total` when the service has as many as it can hold (503). Domain
 * data; the HTTP layer picks the status.
 */
export class CapacityError extends Error {
  constructor(readonly limit: CapacityLimit, readonly max: number, readonly retryAfter = 5) {
    super(MESSAGES[limit](max));
    this.name = "CapacityError";
  }
}

const MESSAGES: Record<CapacityLimit, (max: number) => string> = {
  total: () => "the service has as many open feeds as it can hold",
  client: (max) => `at most ${max} open feeds per client`,
  rate: (max) => `at most ${max} new feeds a second per client (bursts of ${2 * max})`,
  "ws-client": (max) =>
    `at most ${max} open WebSockets per client; use Server-Sent Events (/api/events) instead`,
  "ws-total": () =>
    "the service has as many WebSockets as it can hold; use Server-Sent Events (/api/events)",
};

/** What a feed is, for the caps: every feed takes a slot, a WebSocket one of its own as well. */
export type FeedKind = "stream" | "ws";

export interface FeedLimits {
  /** New feeds a second per client, bursts of twice that; 0 or absent: no limit. */
  rate?: number;
  /** The clock the rate is measured on (required with `rate`). */
  clock?: Clock;
  /** Open WebSockets per client and in all (absent: only the feed caps). */
  wsPerClient?: number;
  maxWebSockets?: number;
}

/** Open slots per key, and in all. */
class Counts {
  #byKey = new Map<string, number>();
  total = 0;

  of(key: string): number {
    return this.#byKey.get(key) ?? 0;
  }

  add(key: string, n: 1 | -1): void {
    this.total += n;
    const left = this.of(key) + n;
    if (left > 0) this.#byKey.set(key, left);
    else this.#byKey.delete(key);
  }
}

/**
 * How long a slot is held after its feed ended while its connection may live on unseen (a
 * WebSocket closed with writes still blocked on a reader that stopped reading: Deno keeps that
 * connection open and tells nobody when it goes). Linux drops a connection whose peer vanished
 * after 15 unanswered retransmissions (tcp_retries2), about 15.5 minutes; a peer that is still
 * there but reads nothing can keep it longer, and then holds its slot for this long each time.
 */
export const SLOT_LINGER_MS = 16 * 60_000;

export class FeedCapacity {
  #feeds = new Counts();
  #sockets = new Counts();
  #rate: RateLimiter | null;
  #limits: FeedLimits;
  /** Slots held after their feed ended, oldest first: given back on the next acquire past time. */
  #lingering: { until: number; release: () => void }[] = [];
  /** Feeds refused, for /metrics. */
  refused = 0;

  constructor(readonly maxPerClient: number, readonly maxTotal: number, limits: FeedLimits = {}) {
    this.#limits = limits;
    const rate = limits.rate ?? 0;
    this.#rate = rate > 0 && limits.clock ? new RateLimiter(rate, 2 * rate, limits.clock) : null;
  }

  get open(): number {
    return this.#feeds.total;
  }

  /** Open WebSockets. */
  get openWebSockets(): number {
    return this.#sockets.total;
  }

  /**
   * Takes a slot for `client`, or throws CapacityError. Returns the release, safe to call twice.
   * The rate is counted last, on feeds that are let in, so a client held at its cap spends none.
   */
  acquire(client: string, kind: FeedKind = "stream"): () => void {
    this.#endLingering();
    const ws = kind === "ws";
    const { wsPerClient = Infinity, maxWebSockets = Infinity } = this.#limits;
    if (this.#feeds.total >= this.maxTotal) throw this.#refuse("total", this.maxTotal);
    if (ws && this.#sockets.total >= maxWebSockets) throw this.#refuse("ws-total", maxWebSockets);
    if (this.#feeds.of(client) >= this.maxPerClient) {
      throw this.#refuse("client", this.maxPerClient);
    }
    if (ws && this.#sockets.of(client) >= wsPerClient) throw this.#refuse("ws-client", wsPerClient);
    const taken = this.#rate?.take(client);
    if (taken && !taken.ok) throw this.#refuse("rate", this.#limits.rate!, taken.retryAfter);
    this.#feeds.add(client, 1);
    if (ws) this.#sockets.add(client, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#feeds.add(client, -1);
      if (ws) this.#sockets.add(client, -1);
    };
  }

  /** A refusal, counted for /metrics. A method, not a closure made on every acquire. */
  #refuse(limit: CapacityLimit, max: number, retryAfter?: number): CapacityError {
    this.refused++;
    return new CapacityError(limit, max, retryAfter);
  }

  /** Gives a slot back SLOT_LINGER_MS from now instead of at once (without a clock: at once). */
  linger(release: () => void): void {
    const clock = this.#limits.clock;
    if (!clock) return release();
    this.#lingering.push({ until: clock.now() + SLOT_LINGER_MS, release });
  }

  #endLingering(): void {
    const now = this.#limits.clock?.now() ?? Infinity;
    while (this.#lingering.length > 0 && this.#lingering[0]!.until <= now) {
      this.#lingering.shift()!.release();
    }
  }
}

/** File descriptors kept back from feeds, at the least: see feedCapWithin. */
const FILE_RESERVE = 128;

/**
 * The total feed cap that fits the file descriptors this process can still open (`available`;
 * null when unknown). Every feed holds a socket, and once accept() runs out of descriptors Deno's
 * server stops accepting for good (Deno 2.9.6 rejects `server.finished` with EMFILE). So
 * SCORELINE_MAX_FEEDS is lowered, if it must be, to leave a fifth (at least 128) for what is not a
 * feed: writes, short polls, idle keep-alive connections. Past the cap viewers get 503 and
 * Retry-After instead of a dead server.
 */
export function feedCapWithin(configured: number, available: number | null): number {
  if (available === null) return configured;
  const reserve = Math.max(FILE_RESERVE, Math.ceil(available / 5));
  return Math.max(1, Math.min(configured, available - reserve));
}

/** How many free descriptors prove that `configured` fits: beyond this, counting is pointless. */
export function descriptorsNeeded(configured: number): number {
  return Math.max(configured + FILE_RESERVE, Math.ceil(configured * 1.25));
}
