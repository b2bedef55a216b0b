/**
 * The hub: every viewer of every transport subscribes here. It turns each committed change into
 * one Message (encoded once per format), fans it out to the subscribers in scope, and keeps the
 * publisher from ever waiting on a viewer: a subscriber that cannot take more has its pending
 * updates collapsed to the latest per game (conflation) and, if it stays stuck, is closed to
 * resume by cursor. Heartbeats and long-poll deadlines run on shared timers.
 */
import type { Clock } from "./clock.ts";
import { changeMessage, Message, snapshotMessage } from "./messages.ts";
import { type Change, type Resume } from "./scoreboard.ts";

export type StreamTransport = "sse" | "ndjson" | "ws";
export type Transport = StreamTransport | "long_poll";
export const TRANSPORTS: readonly Transport[] = ["sse", "ndjson", "ws", "long_poll"];

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
  /** Writes a heartbeat. */
  ping(): void;
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

/** Where the hub reads what a resuming subscriber missed, and learns of commits. */
export interface ChangeSource {
  resume(cursor: number | null, scope: string | null): Promise<Resume>;
  onCommit(listener: (changes: readonly Change[]) => void): () => void;
  /**
   * Only a source that can lose history (Redis that lost its data) has this: `listener` is
   * called when changes may have been missed that no "since N" can replay to the subscribers
   * already served, so every one of them must start over from a snapshot.
   */
  onReset?(listener: () => void): () => void;
}

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
}

const SNAPSHOT_CACHE = 64;

type State = "syncing" | "live" | "closed";

class Subscriber implements Subscription {
  state: State = "syncing";
  /** Everything up to this version is reflected in what the client has been sent. */
  delivered = -1;
  /** Updates held back (while syncing or while the sink is full), latest per game, version order. */
  readonly pending = new Map<string, Message>();
  stalledSince: number | null = null;
  readonly synced: Promise<void>;
  markSynced!: () => void;

  constructor(
    readonly hub: Hub,
    readonly scope: string | null,
    readonly sink: Sink,
  ) {
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
  }

  drained(): void {
    if (this.state === "live" && this.pending.size > 0) this.hub.flush(this);
  }

  cancel(): void {
    this.hub.remove(this);
  }
}

interface Waiter {
  scope: string | null;
  state: "syncing" | "waiting" | "done";
  delivered: number;
  held: Message[];
  /** The deadline's slot in the wheel, once waiting. */
  slot: number;
  resolve(messages: Message[] | null): void;
}

export class Hub {
  readonly counters: HubCounters = { published: 0, deliveries: 0, conflated: 0, slowClosed: 0 };
  #all = new Set<Subscriber>();
  #byGame = new Map<string, Set<Subscriber>>();
  #waitersAll = new Set<Waiter>();
  #waitersByGame = new Map<string, Set<Waiter>>();
  #open = new Map<Transport, number>(TRANSPORTS.map((t) => [t, 0]));
  /** Each game's latest message: what a resuming subscriber is sent, already encoded. */
  #latest = new Map<string, Message>();
  #snapshots = new Map<string, Message>();
  /** Subscribers holding updates back: the only ones the tick needs to look at. */
  #backedUp = new Set<Subscriber>();
  /** Long-poll deadlines, one slot per tick: expiring them never scans every waiter. */
  #wheel = new Map<number, Set<Waiter>>();
  readonly #tickMs: number;
  #stopTimers: (() => void)[];
  #unsubscribe: (() => void)[];
  #closed = false;
  readonly #source: ChangeSource;
  readonly #clock: Clock;
  readonly #maxPending: number;
  readonly #maxStallMs: number;
  readonly #onCount: HubOptions["onCount"];
  readonly #onFanout: HubOptions["onFanout"];

  constructor(options: HubOptions) {
    this.#onCount = options.onCount;
    this.#tickMs = options.tickMs ?? 250;
    this.#onFanout = options.onFanout;
    this.#source = options.source;
    this.#clock = options.clock;
    this.#maxPending = options.maxPending ?? 1000;
    this.#maxStallMs = options.maxStallMs ?? 30_000;
    this.#unsubscribe = [
      options.source.onCommit((changes) => this.publish(changes)),
      options.source.onReset?.(() => this.reset()) ?? (() => {}),
    ];
    this.#stopTimers = [
      options.clock.every(options.heartbeatMs, () => this.#heartbeat()),
      options.clock.every(this.#tickMs, () => this.#tick()),
    ];
  }

  /** Updates held back for subscribers that cannot keep up, in all: bounded by design. */
  held(): number {
    let held = 0;
    for (const sub of this.#all) held += sub.pending.size;
    for (const subs of this.#byGame.values()) for (const sub of subs) held += sub.pending.size;
    return held;
  }

  /** Open feeds per transport (waiting long polls included). */
  open(transport: Transport): number {
    return this.#open.get(transport) ?? 0;
  }

  /**
   * Starts a stream for one game (scope) or all (null), from a cursor or from a snapshot. The
   * subscriber is registered before the store is asked what it missed, and live changes wait in
   * its pending map meanwhile, so nothing committed in between is lost; versions the catch-up
   * already covered are dropped, so nothing is sent twice.
   */
  subscribe(scope: string | null, cursor: number | null, sink: Sink): Subscription {
    const sub = new Subscriber(this, scope, sink);
    if (this.#closed) {
      sink.close("shutdown");
      sub.state = "closed";
      sub.markSynced();
      return sub;
    }
    this.#index(this.#all, this.#byGame, scope, sub, true);
    this.#count(sink.transport, 1);
    this.#source.resume(cursor, scope).then(
      (resume) => this.#start(sub, cursor, resume),
      () => this.#end(sub, "error"),
    ).finally(sub.markSynced);
    return sub;
  }

  /**
   * A long poll: the messages after `cursor` at once when there are any, else the first
   * committed batch in scope within `timeoutMs`, else null. `signal` aborts the wait when the
   * client leaves before the answer.
   */
  async poll(
    scope: string | null,
    cursor: number | null,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Message[] | null> {
    if (this.#closed) return null;
    const deadline = this.#clock.now() + timeoutMs; // from arrival, not from the catch-up
    let resolve!: (messages: Message[] | null) => void;
    const answered = new Promise<Message[] | null>((r) => (resolve = r));
    const waiter: Waiter = {
      scope,
      state: "syncing",
      delivered: -1,
      held: [],
      slot: 0,
      resolve: (messages) => {
        if (waiter.state === "done") return;
        if (waiter.state === "waiting") this.#wheel.get(waiter.slot)?.delete(waiter);
        waiter.state = "done";
        this.#index(this.#waitersAll, this.#waitersByGame, scope, waiter, false);
        this.#count("long_poll", -1);
        signal?.removeEventListener("abort", onAbort);
        resolve(messages);
      },
    };
    const onAbort = () => waiter.resolve(null);
    signal?.addEventListener("abort", onAbort);
    this.#index(this.#waitersAll, this.#waitersByGame, scope, waiter, true);
    this.#count("long_poll", 1);
    try {
      const resume = await this.#source.resume(cursor, scope);
      if (waiter.state === "done") return await answered;
      const { messages, delivered } = this.#catchUp(scope, cursor, resume);
      const live = waiter.held.filter((m) => m.version > delivered);
      const now = [...messages, ...live];
      if (now.length > 0) waiter.resolve(now);
      else if (timeoutMs <= 0 || deadline <= this.#clock.now()) waiter.resolve(null);
      else {
        waiter.state = "waiting";
        waiter.delivered = delivered;
        waiter.held = [];
        waiter.slot = Math.ceil(deadline / this.#tickMs);
        let slot = this.#wheel.get(waiter.slot);
        if (!slot) this.#wheel.set(waiter.slot, slot = new Set());
        slot.add(waiter);
      }
    } catch (error) {
      waiter.resolve(null);
      throw error;
    }
    return answered;
  }

  /** Fans a committed batch out. Called by the store, in version order. */
  publish(changes: readonly Change[]): void {
    if (this.#closed) return;
    const started = this.#onFanout ? performance.now() : 0;
    const messages = changes.map((change) => this.#messageFor(change));
    this.counters.published += messages.length;
    for (const message of messages) {
      for (const sub of this.#all) this.#deliver(sub, message);
      const subs = message.gameId === null ? undefined : this.#byGame.get(message.gameId);
      if (subs) { for (const sub of subs) this.#deliver(sub, message); }
    }
    this.#wake(this.#waitersAll, messages);
    const games = new Set(messages.map((m) => m.gameId));
    for (const id of games) {
      const waiters = id === null ? undefined : this.#waitersByGame.get(id);
      if (waiters) this.#wake(waiters, messages.filter((m) => m.gameId === id));
    }
    this.#onFanout?.((performance.now() - started) / 1000);
  }

  /** Sends what a subscriber holds, for as long as its sink takes it. */
  flush(sub: Subscriber): void {
    for (const [key, message] of sub.pending) {
      if (sub.state !== "live" || !sub.sink.writable()) return;
      sub.pending.delete(key);
      if (message.version > sub.delivered) this.#send(sub, message);
    }
    sub.stalledSince = null;
    this.#backedUp.delete(sub);
  }

  remove(sub: Subscriber): void {
    if (sub.state === "closed") return;
    sub.state = "closed";
    sub.pending.clear();
    this.#backedUp.delete(sub);
    this.#index(this.#all, this.#byGame, sub.scope, sub, false);
    this.#count(sub.sink.transport, -1);
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
    this.#latest.clear();
    this.#snapshots.clear();
    this.#endAll("reset");
  }

  #endAll(reason: "shutdown" | "reset"): void {
    for (const sub of [...this.#all, ...[...this.#byGame.values()].flatMap((s) => [...s])]) {
      this.#end(sub, reason);
    }
    for (
      const waiter of [
        ...this.#waitersAll,
        ...[...this.#waitersByGame.values()].flatMap((s) => [...s]),
      ]
    ) {
      waiter.resolve(null);
    }
  }

  #start(sub: Subscriber, cursor: number | null, resume: Resume): void {
    if (sub.state !== "syncing") return;
    const { messages, delivered } = this.#catchUp(sub.scope, cursor, resume);
    sub.state = "live";
    for (const message of messages) this.#send(sub, message);
    sub.delivered = Math.max(sub.delivered, delivered);
    this.flush(sub);
    if (sub.pending.size > 0) {
      sub.stalledSince = this.#clock.now();
      this.#backedUp.add(sub);
    }
  }

  /**
   * What a subscriber is sent first, by the resume rule. A one-game feed whose game does not
   * exist gets nothing and waits; but if it came with a cursor, it may still show a game that was
   * deleted meanwhile, so it is told `removed` at the current version.
   */
  #catchUp(scope: string | null, cursor: number | null, resume: Resume) {
    if (resume.kind === "changes") {
      return {
        messages: resume.changes.map((c) => this.#messageFor(c)),
        delivered: resume.version,
      };
    }
    if (scope === null || resume.games.length > 0) {
      return {
        messages: [this.#snapshotFor(resume.version, scope, resume)],
        delivered: resume.version,
      };
    }
    if (cursor === null) return { messages: [], delivered: resume.version };
    // Not through #messageFor: this message stands for no change of this game, only "not here".
    const removed = changeMessage({
      type: "removed",
      version: resume.version,
      id: scope,
      removedAt: 0,
    });
    return { messages: [removed], delivered: resume.version };
  }

  #deliver(sub: Subscriber, message: Message): void {
    if (sub.state === "closed" || message.version <= sub.delivered) return;
    if (sub.state === "live" && sub.pending.size === 0 && sub.sink.writable()) {
      this.#send(sub, message);
      return;
    }
    const key = message.gameId ?? "";
    if (sub.pending.delete(key) && sub.state === "live") this.counters.conflated++;
    sub.pending.set(key, message); // re-inserted last: the map stays in version order
    if (sub.state !== "live") return;
    sub.stalledSince ??= this.#clock.now();
    this.#backedUp.add(sub);
    if (sub.pending.size > this.#maxPending) this.#end(sub, "slow");
  }

  #send(sub: Subscriber, message: Message): void {
    sub.delivered = message.version;
    this.counters.deliveries++;
    try {
      sub.sink.send(message);
    } catch {
      // The client vanished between checks; its transport will cancel, but stop now.
      this.#end(sub, "error");
    }
  }

  #wake(waiters: Set<Waiter>, messages: readonly Message[]): void {
    for (const waiter of waiters) {
      if (waiter.state === "syncing") {
        waiter.held.push(...messages);
      } else if (waiter.state === "waiting") {
        const fresh = messages.filter((m) => m.version > waiter.delivered);
        if (fresh.length > 0) {
          this.counters.deliveries += fresh.length;
          waiter.resolve(fresh);
        }
      }
    }
  }

  #end(sub: Subscriber, reason: CloseReason): void {
    if (sub.state === "closed") return;
    if (reason === "slow") this.counters.slowClosed++;
    this.remove(sub);
    try {
      sub.sink.close(reason);
    } catch {
      // Already gone.
    }
  }

  #heartbeat(): void {
    const beat = (sub: Subscriber) => {
      if (sub.state === "live" && sub.pending.size === 0 && sub.sink.writable()) {
        try {
          sub.sink.ping();
        } catch {
          this.#end(sub, "error");
        }
      }
    };
    for (const sub of this.#all) beat(sub);
    for (const subs of this.#byGame.values()) for (const sub of subs) beat(sub);
  }

  /** Expires long polls, retries held-back sends (WebSockets have no drain event), ends stalls. */
  #tick(): void {
    const now = this.#clock.now();
    for (const [slot, waiters] of this.#wheel) {
      if (slot * this.#tickMs > now) continue;
      this.#wheel.delete(slot);
      for (const waiter of waiters) waiter.resolve(null);
    }
    for (const sub of this.#backedUp) {
      this.flush(sub);
      if (sub.pending.size > 0 && now - (sub.stalledSince ?? now) >= this.#maxStallMs) {
        this.#end(sub, "slow");
      }
    }
  }

  /**
   * The Message for a change, made once. Resume sends each game's latest change, so keeping the
   * latest message per game serves every catch-up (a reconnect storm included) without
   * re-encoding, in memory bounded by the number of games, not by the rate of changes.
   */
  #messageFor(change: Change): Message {
    const id = change.type === "update" ? change.game.id : change.id;
    const cached = this.#latest.get(id);
    if (cached?.version === change.version) return cached;
    const message = changeMessage(change);
    if (!cached || cached.version < change.version) this.#latest.set(id, message);
    return message;
  }

  #snapshotFor(
    version: number,
    scope: string | null,
    resume: Resume & { kind: "snapshot" },
  ): Message {
    const key = `${scope ?? ""}@${version}`;
    let message = this.#snapshots.get(key);
    if (!message) {
      message = snapshotMessage(version, scope, resume.games);
      this.#snapshots.set(key, message);
      if (this.#snapshots.size > SNAPSHOT_CACHE) {
        this.#snapshots.delete(this.#snapshots.keys().next().value!);
      }
    }
    return message;
  }

  #index<T>(all: Set<T>, byGame: Map<string, Set<T>>, scope: string | null, item: T, add: boolean) {
    if (scope === null) {
      if (add) all.add(item);
      else all.delete(item);
      return;
    }
    let set = byGame.get(scope);
    if (add) {
      if (!set) byGame.set(scope, set = new Set());
      set.add(item);
    } else if (set) {
      set.delete(item);
      if (set.size === 0) byGame.delete(scope);
    }
  }

  #count(transport: Transport, delta: number): void {
    const open = (this.#open.get(transport) ?? 0) + delta;
    this.#open.set(transport, open);
    this.#onCount?.(transport, open);
  }
}
