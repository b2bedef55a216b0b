/**
 * The hub's streaming viewers (SSE, NDJSON, WebSocket), and the publisher never waits on one: a
 * subscriber whose sink cannot take more has its pending updates collapsed to the latest per game
 * (conflation) and, if it stays stuck, is closed to resume by cursor. Heartbeats and stall checks
 * are passes on the hub's shared timers, never a timer per viewer.
 */
import type { ChangeSource } from "./change_source.ts";
import type { Clock } from "./clock.ts";
import type { MessageCache } from "./message_cache.ts";
import type { FeedOptions } from "./feed_options.ts";
import { type Message, Ping } from "./messages.ts";
import type { Resume } from "./scoreboard.ts";
import { ALL_GAMES, type Scope } from "./scope.ts";
import { type ScopeGroup, ScopeIndex } from "./scope_index.ts";
import { type ViewerCounts, viewersMessage } from "./viewers.ts";

export type StreamTransport = "sse" | "ndjson" | "ws";

/**
 * Why the hub ends a feed; a transport tells its client in its own way. `reset`: the source lost
 * history it cannot replay, so the client must reconnect with its cursor and start over.
 */
export type CloseReason = "shutdown" | "slow" | "error" | "reset";

/** What a streaming transport hands the hub: a place for bytes and whether it can take more. */
export interface Sink {
  readonly transport: StreamTransport;
  /** Frames and writes one message (its bytes are shared; never modify them). */
  send(message: Message): void;
  /** Writes a heartbeat: the same Ping (and bytes) for every stream of one tick. */
  ping(ping: Ping): void;
  /** False while the client's queue is past its bound; the hub then holds and conflates. */
  writable(): boolean;
  /** Ends the feed. Called at most once, and never after the transport cancelled. */
  close(reason: CloseReason): void;
}

/** The transport's handle on its subscription. */
export interface Subscription {
  /** Resolves once the catch-up (snapshot or changes since the cursor) has been handed over. */
  readonly synced: Promise<void>;
  /** The sink can take more again: send what was held back. */
  drained(): void;
  /** The client went away: forget it. Idempotent. */
  cancel(): void;
}

export interface StreamOptions {
  source: ChangeSource;
  cache: MessageCache;
  clock: Clock;
  /** The hub's own counters (HubCounters), advanced in place: /metrics reads that object. */
  counters: { deliveries: number; conflated: number; slowClosed: number };
  /** A stuck subscriber is closed once it holds updates for more games than this. */
  maxPending: number;
  /** ...or once it has held updates back for this long. */
  maxStallMs: number;
  /** Told each time a subscriber is added (+1) or removed (-1): the hub's open counts. */
  count: (transport: StreamTransport, delta: number) => void;
}

/** The streaming side of the hub, as the hub drives it. */
export interface StreamSubscribers {
  /** Registers, then asks the source what the subscriber missed (see Hub.subscribe for why). */
  add(scope: Scope, cursor: number | null, sink: Sink, options?: FeedOptions): Subscription;
  /** A subscriber arriving after shutdown: its sink is closed at once, its handle inert. */
  refuse(sink: Sink): Subscription;
  /** Hands one message to every subscriber in its scope; those that are full hold it. */
  deliver(message: Message): void;
  /**
   * Pings every live stream that can take it, with the server's time; a full one gets none, to
   * not grow its queue.
   */
  heartbeat(): void;
  /** Retries held-back sends (WebSockets have no drain event) and ends stalled subscribers. */
  tick(now: number): void;
  endAll(reason: "shutdown" | "reset"): void;
  /** Updates held back, in all: bounded by design. */
  held(): number;
  /** Open streams by scope key: group sizes, not a pass over the streams. */
  tally(): Map<string, number>;
  /**
   * Sends each scope group's `viewers` message, encoded once per group, to the streams of the
   * group that asked for counts, when a count in the scope changed since the group's last one.
   */
  announce(counts: ViewerCounts): void;
}

/**
 * A subscriber's handle calls back into its own collection (a drain flushes, a cancel removes),
 * so both classes stay private to this file and the hub holds the collection as the interface
 * above: what those calls take never leaks out of this file.
 */
export function streamSubscribers(options: StreamOptions): StreamSubscribers {
  return new Subscribers(options);
}

type State = "syncing" | "live" | "closed";

/**
 * What a subscriber holds while it holds nothing, shared by all: most never hold anything, and an
 * empty Map each was a few hundred bytes of every viewer. Never written to (#hold swaps in a map).
 */
const NOTHING_HELD: ReadonlyMap<string, Message> = new Map();

class Subscriber implements Subscription {
  state: State = "syncing";
  /** Everything up to this version is reflected in what the client has been sent. */
  delivered = -1;
  /**
   * Updates held back (while syncing or while the sink is full), latest per game, version order:
   * each in the form it will be sent in (for a delta subscriber, a patch unless it replaced one).
   */
  pending: ReadonlyMap<string, Message> | Map<string, Message> = NOTHING_HELD;
  stalledSince: number | null = null;
  #synced: Promise<void> | undefined;
  #markSynced: (() => void) | undefined;
  #isSynced = false;

  /** The group of its scope, once registered. */
  group: ScopeGroup<Subscriber> | undefined;

  constructor(
    readonly subscribers: Subscribers,
    readonly scope: Scope,
    readonly sink: Sink,
    /** `?delta=1`: sent patches while it holds every game in scope at its latest version. */
    readonly delta: boolean,
  ) {
  }

  /** Made when first asked for (tests, mostly): ten thousand viewers need not hold one each. */
  get synced(): Promise<void> {
    if (this.#isSynced) return Promise.resolve();
    return this.#synced ??= new Promise((resolve) => (this.#markSynced = resolve));
  }

  /** The catch-up has been handed over (or the subscriber ended before it). */
  markSynced(): void {
    this.#isSynced = true;
    this.#markSynced?.();
  }

  drained(): void {
    if (this.state === "live" && this.pending.size > 0) this.subscribers.flush(this);
  }

  cancel(): void {
    this.subscribers.remove(this);
  }
}

class Subscribers implements StreamSubscribers {
  readonly #index = new ScopeIndex<Subscriber>();
  /** Subscribers holding updates back: the only ones the tick needs to look at. */
  readonly #backedUp = new Set<Subscriber>();
  readonly #options: StreamOptions;
  /** Advanced on every delivery: held here, one load closer than through #options. */
  readonly #counters: StreamOptions["counters"];
  /** The last ping made: subscribers opening within the same millisecond share its bytes. */
  #lastPing: Ping | undefined;

  constructor(options: StreamOptions) {
    this.#options = options;
    this.#counters = options.counters;
  }

  add(scope: Scope, cursor: number | null, sink: Sink, options: FeedOptions = {}): Subscription {
    const sub = new Subscriber(this, scope, sink, options.delta ?? false);
    sub.group = this.#index.add(scope, sub, options.viewers === true);
    this.#options.count(sink.transport, 1);
    const { source } = this.#options;
    if (source.resumeNow) {
      // A source in this process answers at once: nothing can be committed in between.
      let resume: Resume;
      try {
        resume = source.resumeNow(cursor, scope);
      } catch {
        this.#notResumed(sub);
        return sub;
      }
      this.#resumed(sub, cursor, resume);
      return sub;
    }
    source.resume(cursor, scope).then(
      (resume) => this.#resumed(sub, cursor, resume),
      () => this.#notResumed(sub),
    );
    return sub;
  }

  /** The catch-up is in: hand it over; the subscriber is synced however that goes. */
  #resumed(sub: Subscriber, cursor: number | null, resume: Resume): void {
    try {
      this.#start(sub, cursor, resume);
    } finally {
      sub.markSynced();
    }
  }

  /** The source could not say what the subscriber missed: the feed ends with an error. */
  #notResumed(sub: Subscriber): void {
    this.#end(sub, "error");
    sub.markSynced();
  }

  refuse(sink: Sink): Subscription {
    const sub = new Subscriber(this, ALL_GAMES, sink, false);
    sink.close("shutdown");
    sub.state = "closed";
    sub.markSynced();
    return sub;
  }

  deliver(message: Message): void {
    const version = message.version;
    const counters = this.#counters;
    for (const group of this.#index.groupsOf(message.gameId, message.competition)) {
      for (const sub of group.items) {
        // The common case inline (#send and #trySend in one): a live subscriber that keeps up
        // gets the shared message with no call but its sink's; any other goes to #hold.
        if (
          sub.state === "live" && version > sub.delivered && sub.pending.size === 0 &&
          sub.sink.writable()
        ) {
          sub.delivered = version;
          counters.deliveries++;
          try {
            sub.sink.send(sub.delta ? message.delta : message);
          } catch {
            this.#end(sub, "error");
          }
        } else if (sub.state !== "closed" && version > sub.delivered) {
          this.#hold(sub, message);
        }
      }
    }
  }

  heartbeat(): void {
    const ping = this.#pingNow();
    for (const sub of this.#index) this.#beat(sub, ping);
  }

  tick(now: number): void {
    for (const sub of this.#backedUp) {
      this.flush(sub);
      if (sub.pending.size > 0 && now - (sub.stalledSince ?? now) >= this.#options.maxStallMs) {
        this.#end(sub, "slow");
      }
    }
  }

  endAll(reason: "shutdown" | "reset"): void {
    for (const sub of this.#index.items()) this.#end(sub, reason);
  }

  held(): number {
    let held = 0;
    for (const sub of this.#index) held += sub.pending.size;
    return held;
  }

  tally(): Map<string, number> {
    const tally = new Map<string, number>();
    for (const group of this.#index.groups()) tally.set(group.scope.key, group.items.size);
    return tally;
  }

  announce(counts: ViewerCounts): void {
    for (const group of this.#index.groups()) {
      if (group.counting.size === 0) continue;
      const message = viewersMessage(group.scope, counts);
      if (message.json === group.lastCounts) continue;
      group.lastCounts = message.json;
      // Like a heartbeat, a count goes only to a stream that is live and keeping up: it moves no
      // cursor and the next one replaces it, so holding it back for a slow reader is pointless.
      for (const sub of group.counting) {
        if (sub.state === "live" && sub.pending.size === 0 && sub.sink.writable()) {
          this.#counters.deliveries++;
          this.#trySend(sub, message);
        }
      }
    }
  }

  /** Sends what a subscriber holds, for as long as its sink takes it (the tick, or a drain). */
  flush(sub: Subscriber): void {
    for (const [key, message] of sub.pending) {
      if (sub.state !== "live" || !sub.sink.writable()) return;
      (sub.pending as Map<string, Message>).delete(key);
      if (message.version > sub.delivered) this.#send(sub, message);
    }
    sub.stalledSince = null;
    this.#backedUp.delete(sub);
  }

  /** Forgets a subscriber, its sink untold: the transport cancelled, or #end closes it. */
  remove(sub: Subscriber): void {
    if (sub.state === "closed") return;
    sub.state = "closed";
    sub.pending = NOTHING_HELD;
    this.#backedUp.delete(sub);
    if (sub.group) this.#index.delete(sub.group, sub);
    this.#options.count(sub.sink.transport, -1);
  }

  #start(sub: Subscriber, cursor: number | null, resume: Resume): void {
    if (sub.state !== "syncing") return;
    const { messages, delivered } = this.#options.cache.catchUp(sub.scope, cursor, resume);
    sub.state = "live";
    // Indexed: a connect is a catch-up of one message, most often, and an iterator for it is
    // garbage in every connect of a crowd.
    for (let i = 0; i < messages.length; i++) this.#send(sub, messages[i]!);
    sub.delivered = Math.max(sub.delivered, delivered);
    // The server's time as soon as the feed is open, after its catch-up, so a client can show a
    // running timer without waiting for a heartbeat; sent even to a full sink, like the catch-up.
    if (sub.state === "live") this.#ping(sub); // not if a catch-up send found the client gone
    // What was published while it synced; nothing, most often (and no iterator then).
    if (sub.pending.size > 0) this.flush(sub);
    if (sub.pending.size > 0) {
      sub.stalledSince = this.#options.clock.now();
      this.#backedUp.add(sub);
    }
  }

  /**
   * Holds a message for a subscriber that is syncing, holds others already, or whose sink is
   * full (deliver sends to all the rest), latest per game.
   */
  #hold(sub: Subscriber, message: Message): void {
    const key = message.gameId ?? "";
    // The first update held gets its subscriber a map of its own (see NOTHING_HELD).
    if (sub.pending === NOTHING_HELD) sub.pending = new Map();
    const pending = sub.pending as Map<string, Message>;
    const replaced = pending.delete(key);
    if (replaced && sub.state === "live") this.#counters.conflated++;
    // A message that replaced a held one goes whole: the client never got the skipped version
    // its patch would start from. One that replaced none starts from what the client has.
    const form = sub.delta && !replaced ? message.delta : message;
    pending.set(key, form); // re-inserted last: the map stays in version order
    if (sub.state !== "live") return;
    sub.stalledSince ??= this.#options.clock.now();
    this.#backedUp.add(sub);
    if (sub.pending.size > this.#options.maxPending) this.#end(sub, "slow");
  }

  #send(sub: Subscriber, message: Message): void {
    sub.delivered = message.version;
    this.#counters.deliveries++;
    this.#trySend(sub, message);
  }

  #trySend(sub: Subscriber, message: Message): void {
    try {
      sub.sink.send(message);
    } catch {
      // The client vanished between checks; its transport will cancel, but stop now.
      this.#end(sub, "error");
    }
  }

  #beat(sub: Subscriber, ping: Ping): void {
    if (sub.state === "live" && sub.pending.size === 0 && sub.sink.writable()) {
      this.#ping(sub, ping);
    }
  }

  /** Sends a ping with the server's time now, made once per clock reading (a storm shares one). */
  #ping(sub: Subscriber, ping = this.#pingNow()): void {
    try {
      sub.sink.ping(ping);
    } catch {
      this.#end(sub, "error");
    }
  }

  #pingNow(): Ping {
    const now = this.#options.clock.now();
    if (this.#lastPing?.time !== now) this.#lastPing = new Ping(now);
    return this.#lastPing;
  }

  #end(sub: Subscriber, reason: CloseReason): void {
    if (sub.state === "closed") return;
    if (reason === "slow") this.#counters.slowClosed++;
    this.remove(sub);
    try {
      sub.sink.close(reason);
    } catch {
      // Already gone.
    }
  }
}
