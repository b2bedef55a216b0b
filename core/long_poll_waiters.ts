/**
 * The hub's long polls. A poll answers at once when anything in its scope is newer than its
 * cursor; otherwise it waits for the first committed batch in scope, or its deadline. Deadlines
 * sit in a wheel of one slot per tick of the hub's shared timer: a deadline costs no timer and
 * no closure of its own, and expiring them never scans every waiter.
 */
import type { ChangeSource } from "./change_source.ts";
import type { Clock } from "./clock.ts";
import type { MessageCache } from "./message_cache.ts";
import type { Message } from "./messages.ts";
import type { Scope } from "./scope.ts";
import { type ScopeGroup, ScopeIndex } from "./scope_index.ts";
import type { FeedOptions } from "./stream_subscribers.ts";
import { type ViewerCounts, viewersMessage } from "./viewers.ts";

export interface WaiterOptions {
  source: ChangeSource;
  cache: MessageCache;
  clock: Clock;
  /** The hub's tick, which calls `expire`: a deadline is met on the first tick at or after it. */
  tickMs: number;
  /** Advanced in place: the hub's own object, read by /metrics. */
  counters: { deliveries: number };
  /** Told each time a poll starts (+1) or is answered (-1): the hub's open count of long polls. */
  count: (delta: number) => void;
}

interface Waiter {
  group: ScopeGroup<Waiter> | undefined;
  /**
   * `syncing` while the source is asked what it missed (what is published meanwhile is held),
   * `waiting` once in the wheel, `done` once answered: an answer is given once, whichever of a
   * change, the deadline, the client leaving or the hub ending comes first.
   */
  state: "syncing" | "waiting" | "done";
  delivered: number;
  held: Message[];
  /** The deadline's slot in the wheel, once waiting. */
  slot: number;
  resolve(messages: Message[] | null): void;
}

export class LongPollWaiters {
  readonly #index = new ScopeIndex<Waiter>();
  /** Long-poll deadlines, one slot per tick: expiring them never scans every waiter. */
  readonly #wheel = new Map<number, Set<Waiter>>();
  /** The `viewers` message JSON last answered, by scope key, and the count it was (see announce). */
  readonly #lastCounts = new Map<string, { json: string; round: number }>();
  #round = 0;
  readonly #options: WaiterOptions;

  constructor(options: WaiterOptions) {
    this.#options = options;
  }

  /**
   * A long poll: the messages after `cursor` at once when there are any, else the first
   * committed batch in scope within `timeoutMs`, else null. `signal` aborts the wait when the
   * client leaves before the answer. Registered before the source is asked, like a stream, so a
   * change committed while the catch-up is read is not missed.
   */
  async poll(
    scope: Scope,
    cursor: number | null,
    timeoutMs: number,
    signal?: AbortSignal,
    options: FeedOptions = {},
  ): Promise<Message[] | null> {
    const deadline = this.#options.clock.now() + timeoutMs; // from arrival, not from the catch-up
    let resolve!: (messages: Message[] | null) => void;
    const answered = new Promise<Message[] | null>((r) => (resolve = r));
    const waiter: Waiter = {
      group: undefined,
      state: "syncing",
      delivered: -1,
      held: [],
      slot: 0,
      resolve: (messages) => {
        if (waiter.state === "done") return;
        if (waiter.state === "waiting") this.#wheel.get(waiter.slot)?.delete(waiter);
        waiter.state = "done";
        if (waiter.group) this.#index.delete(waiter.group, waiter);
        this.#options.count(-1);
        signal?.removeEventListener("abort", onAbort);
        resolve(messages);
      },
    };
    const onAbort = () => waiter.resolve(null);
    signal?.addEventListener("abort", onAbort);
    // A poll without a cursor has none to give back with a count (see viewersPollBody): it is
    // counted as a viewer, but only answered by changes.
    waiter.group = this.#index.add(scope, waiter, options.viewers === true && cursor !== null);
    this.#options.count(1);
    try {
      const resume = await this.#options.source.resume(cursor, scope);
      if (waiter.state === "done") return await answered;
      const { messages, delivered } = this.#options.cache.catchUp(scope, cursor, resume);
      const live = waiter.held.filter((m) => m.version > delivered);
      const now = [...messages, ...live];
      if (now.length > 0) waiter.resolve(now);
      else if (timeoutMs <= 0 || deadline <= this.#options.clock.now()) waiter.resolve(null);
      else {
        waiter.state = "waiting";
        waiter.delivered = delivered;
        waiter.held = [];
        waiter.slot = Math.ceil(deadline / this.#options.tickMs);
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

  /**
   * Answers the waiting polls a committed batch concerns, each with the messages of its scope;
   * polls still syncing hold them. Messages are sorted into scope groups once per batch.
   */
  wake(messages: readonly Message[]): void {
    const byGroup = new Map<ScopeGroup<Waiter>, Message[]>();
    for (const message of messages) {
      for (const group of this.#index.groupsOf(message.gameId, message.competition)) {
        const list = byGroup.get(group);
        if (list) list.push(message);
        else byGroup.set(group, [message]);
      }
    }
    for (const [group, list] of byGroup) this.#wake(group.items, list);
  }

  /** Waiting polls by scope key (syncing ones too): group sizes, not a pass over the polls. */
  tally(): Map<string, number> {
    const tally = new Map<string, number>();
    for (const group of this.#index.groups()) tally.set(group.scope.key, group.items.size);
    return tally;
  }

  /**
   * Answers the waiting polls that asked for counts, where a count in their scope changed since
   * their group's last `viewers` message: the message alone, which moves no cursor.
   */
  announce(counts: ViewerCounts): void {
    // Remembered by scope, not on the group: a poll's group goes when its last poll is answered
    // and comes back with the next poll, and would then send the same counts again. Kept for the
    // scopes that had polls at this count or the one before (a client between two polls), so it
    // stays as small as the index.
    const round = ++this.#round;
    for (const group of this.#index.groups()) {
      if (group.counting.size === 0) continue;
      const message = viewersMessage(group.scope, counts);
      const last = this.#lastCounts.get(group.scope.key);
      this.#lastCounts.set(group.scope.key, { json: message.json, round });
      if (message.json === last?.json) continue;
      for (const waiter of [...group.counting]) {
        if (waiter.state !== "waiting") continue;
        this.#options.counters.deliveries++;
        waiter.resolve([message]);
      }
    }
    for (const [key, last] of this.#lastCounts) {
      if (last.round < round - 1) this.#lastCounts.delete(key);
    }
  }

  /** Answers null to every poll whose deadline is at or before `now`, slot by slot. */
  expire(now: number): void {
    for (const [slot, waiters] of this.#wheel) {
      if (slot * this.#options.tickMs > now) continue;
      this.#wheel.delete(slot);
      for (const waiter of waiters) waiter.resolve(null);
    }
  }

  /** Answers every poll null (shutdown or reset): each client comes back with its cursor. */
  answerAll(): void {
    for (const waiter of this.#index.items()) waiter.resolve(null);
  }

  #wake(waiters: Set<Waiter>, messages: readonly Message[]): void {
    for (const waiter of waiters) {
      if (waiter.state === "syncing") {
        waiter.held.push(...messages);
      } else if (waiter.state === "waiting") {
        const fresh = messages.filter((m) => m.version > waiter.delivered);
        if (fresh.length > 0) {
          this.#options.counters.deliveries += fresh.length;
          waiter.resolve(fresh);
        }
      }
    }
  }
}
