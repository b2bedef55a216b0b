/**
 * The hub: every viewer of every transport subscribes here. It turns each committed change into
 * one Message (encoded once per format) and fans it out to the streams and long polls in scope,
 * and keeps what they share: the source, the message cache, the open counts and counters, and two
 * timers for all of them (one heartbeat, one tick). What a stream or a long poll does with a
 * message lives beside it: stream_subscribers.ts, long_poll_waiters.ts.
 */
import type { ChangeSource } from "./change_source.ts";
import type { Clock } from "./clock.ts";
import type { FeedOptions } from "./feed_options.ts";
import { type Departure, LongPollWaiters } from "./long_poll_waiters.ts";
import { MessageCache } from "./message_cache.ts";
import type { PollAnswer } from "./messages.ts";
import type { Change } from "./scoreboard.ts";
import type { Scope } from "./scope.ts";
import {
  type Sink,
  type StreamSubscribers,
  streamSubscribers,
  type StreamTransport,
  type Subscription,
} from "./stream_subscribers.ts";
import { addTallies, type ScopeTally, type ViewerCounts } from "./viewers.ts";

export type Transport = StreamTransport | "long_poll";
export const TRANSPORTS: readonly Transport[] = ["sse", "ndjson", "ws", "long_poll"];

export interface HubOptions {
  source: ChangeSource;
  clock: Clock;
  /** Milliseconds between heartbeats on every stream. */
  heartbeatMs: number;
  /** A stuck subscriber is closed once it holds updates for more games than this. */
  maxPending?: number;
  /** ...or once it has held updates back for this long. */
  maxStallMs?: number;
  /** Resolution of long-poll deadlines, stall checks and WebSocket drain checks. */
  tickMs?: number;
  /** Told each time the number of open feeds of a transport changes (metrics, tests). */
  onCount?: (transport: Transport, open: number) => void;
  /**
   * Told once per published batch how long its fan-out took, in seconds: from the batch's
   * arrival until every subscriber in scope that keeps up has its bytes (metrics). Once per
   * batch, not per delivery, so ten thousand viewers add no clock read or allocation.
   */
  onFanout?: (seconds: number) => void;
}

/** What the hub has done, for /metrics. Counters only go up. */
export interface HubCounters {
  /** Changes published (one per committed change). */
  published: number;
  /** Messages handed to subscribers, heartbeats not included. */
  deliveries: number;
  /** Held-back updates replaced by a newer one of the same game. */
  conflated: number;
  /** Subscribers closed because they could not keep up. */
  slowClosed: number;
  /**
   * `patch` messages computed: at most one per change, however many delta subscribers get it
   * (each delivery of it is one of `deliveries`).
   */
  patches: number;
}

export class Hub {
  readonly counters: HubCounters = {
    published: 0,
    deliveries: 0,
    conflated: 0,
    slowClosed: 0,
    patches: 0,
  };
  readonly #open = new Map<Transport, number>(TRANSPORTS.map((t) => [t, 0]));
  readonly #cache = new MessageCache(this.counters);
  readonly #streams: StreamSubscribers;
  readonly #waiters: LongPollWaiters;
  readonly #stopTimers: (() => void)[];
  readonly #unsubscribe: (() => void)[];
  #closed = false;
  readonly #clock: Clock;
  readonly #onCount: HubOptions["onCount"];
  readonly #onFanout: HubOptions["onFanout"];

  constructor(options: HubOptions) {
    const { source, clock } = options;
    const tickMs = options.tickMs ?? 250;
    this.#onCount = options.onCount;
    this.#onFanout = options.onFanout;
    this.#clock = clock;
    this.#streams = streamSubscribers({
      source,
      cache: this.#cache,
      clock,
      counters: this.counters,
      maxPending: options.maxPending ?? 1000,
      maxStallMs: options.maxStallMs ?? 30_000,
      count: (transport, delta) => this.#count(transport, delta),
    });
    this.#waiters = new LongPollWaiters({
      source,
      cache: this.#cache,
      clock,
      tickMs,
      counters: this.counters,
      count: (delta) => this.#count("long_poll", delta),
    });
    this.#unsubscribe = [
      source.onCommit((changes) => this.publish(changes)),
      source.onReset?.(() => this.reset()) ?? (() => {}),
    ];
    this.#stopTimers = [
      clock.every(options.heartbeatMs, () => this.#streams.heartbeat()),
      clock.every(tickMs, () => this.#tick()),
    ];
  }

  /** Updates held back for subscribers that cannot keep up, in all: bounded by design. */
  held(): number {
    return this.#streams.held();
  }

  /** Open feeds per transport (waiting long polls included). */
  open(transport: Transport): number {
    return this.#open.get(transport) ?? 0;
  }

  /**
   * Starts a stream for a scope (all games, one game, a `games=` list, a competition), from a
   * cursor or from a snapshot. The subscriber is registered before the store is asked what it
   * missed, and live changes wait in its pending map meanwhile, so nothing committed in between
   * is lost; versions the catch-up already covered are dropped, so nothing is sent twice.
   * `options.delta`: changes to games the subscriber holds at their previous version come as
   * shared `patch` messages.
   */
  subscribe(
    scope: Scope,
    cursor: number | null,
    sink: Sink,
    options: FeedOptions = {},
  ): Subscription {
    if (this.#closed) return this.#streams.refuse(sink);
    return this.#streams.add(scope, cursor, sink, options);
  }

  /**
   * A long poll: the messages after `cursor` at once when there are any, else the first
   * committed batch in scope within `timeoutMs`, else null. `departure`'s signal ends the wait
   * when the client leaves before the answer (read only if the poll waits). The answer carries
   * the server's time.
   */
  poll(
    scope: Scope,
    cursor: number | null,
    timeoutMs: number,
    departure?: Departure,
    options: FeedOptions = {},
  ): Promise<PollAnswer | null> {
    if (this.#closed) return Promise.resolve(null);
    return this.#waiters.poll(scope, cursor, timeoutMs, departure, options);
  }

  /** Open feeds (streams and waiting long polls) by scope key: what viewer counts start from. */
  tally(): ScopeTally {
    return addTallies(this.#streams.tally(), this.#waiters.tally());
  }

  /** Sends `viewers` messages to the feeds that asked, where a count in their scope changed. */
  announceViewers(counts: ViewerCounts): void {
    if (this.#closed) return;
    this.#streams.announce(counts);
    this.#waiters.announce(counts);
  }

  /** Fans a committed batch out. Called by the store, in version order. */
  publish(changes: readonly Change[]): void {
    if (this.#closed) return;
    const started = this.#onFanout ? performance.now() : 0;
    const messages = this.#cache.announce(changes);
    this.counters.published += messages.length;
    for (const message of messages) this.#streams.deliver(message);
    this.#waiters.wake(messages);
    this.#onFanout?.((performance.now() - started) / 1000);
  }

  /** Ends every feed (streams close, long polls answer empty) and stops the timers. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    for (const stop of this.#stopTimers) stop();
    this.#endAll("shutdown");
  }

  /**
   * The source lost history (Redis came back without its data): what subscribers were sent may
   * name games and versions that no longer exist, and no "since N" can tell them. Every stream
   * is ended with `reset` and every waiting long poll answered empty, so each client comes back
   * with its cursor, which the source now answers with a fresh snapshot. Cached messages go too.
   */
  reset(): void {
    if (this.#closed) return;
    this.#cache.clear();
    this.#endAll("reset");
  }

  #endAll(reason: "shutdown" | "reset"): void {
    this.#streams.endAll(reason);
    this.#waiters.answerAll();
  }

  /** Expires long polls, retries held-back sends (WebSockets have no drain event), ends stalls. */
  #tick(): void {
    const now = this.#clock.now();
    this.#waiters.expire(now);
    this.#streams.tick(now);
  }

  #count(transport: Transport, delta: number): void {
    const open = (this.#open.get(transport) ?? 0) + delta;
    this.#open.set(transport, open);
    this.#onCount?.(transport, open);
  }
}
