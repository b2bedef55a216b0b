/**
 * The hub's long polls. A poll answers at once when anything in its scope is newer than its
 * cursor; otherwise it waits for the first committed batch in scope, or its deadline. Deadlines
 * sit in a wheel of one slot per tick of the hub's shared timer: a deadline costs no timer and
 * no closure of its own, and expiring them never scans every waiter.
 */
import type { ChangeSource } from "./change_source.ts";
import type { Clock } from "./clock.ts";
import type { MessageCache } from "./message_cache.ts";
import type { FeedOptions } from "./feed_options.ts";
import { type Message, PollAnswer } from "./messages.ts";
import type { Resume } from "./scoreboard.ts";
import type { Scope } from "./scope.ts";
import { type ScopeGroup, ScopeIndex } from "./scope_index.ts";
import { type ViewerCounts, viewersMessage } from "./viewers.ts";

/**
 * Where a long poll learns that its client left: an `AbortSignal` that aborts then. Given as its
 * holder (a Request, an AbortController) and read only by a poll that waits: Deno makes a
 * request's signal, and a pending op to abort it, on its first read, which a poll answered at
 * once (most first polls, and any poll behind a change) never needs.
 */
export interface Departure {
  readonly signal: AbortSignal;
}

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

/**
 * What a poll holds while it holds nothing, shared by all (most never hold anything): never
 * pushed to; the first message held gets its poll an array of its own.
 */
const NOTHING_HELD: Message[] = [];

/** One waiting poll: plain fields, no closure of its own (a poll is a request per answer). */
class Waiter {
  group: ScopeGroup<Waiter> | undefined = undefined;
  /**
   * `syncing` while the source is asked what it missed (what is published meanwhile is held),
   * `waiting` once in the wheel, `done` once answered: an answer is given once, whichever of a
   * change, the deadline, the client leaving or the hub ending comes first.
   */
  state: "syncing" | "waiting" | "done" = "syncing";
  delivered = -1;
  /** Published while it synced (see NOTHING_HELD). */
  held: Message[] = NOTHING_HELD;
  /** The deadline's slot in the wheel, once waiting. */
  slot = 0;
  resolve!: (answer: PollAnswer | null) => void;
  reject!: (error: unknown) => void;
  /** The client's: its `abort` (the client left) answers the poll null. */
  signal: AbortSignal | undefined = undefined;

  constructor(
    readonly waiters: LongPollWaiters,
    /**
     * `?delta=1`. A poll's client holds every game in scope at its cursor, and a batch after it
     * starts from there, so what a waiting poll is woken with may be patches.
     */
    readonly delta: boolean,
    /** The cursor it came with: what an answer of viewer counts alone gives back. */
    readonly cursor: number | null,
    readonly deadline: number,
  ) {}

  /** The signal's `abort`, with the waiter itself as the listener: no closure per poll. */
  handleEvent(): void {
    this.waiters.leave(this);
  }
}

export class LongPollWaiters {
  readonly #index = new ScopeIndex<Waiter>();
  /** Long-poll deadlines, one slot per tick: expiring them never scans every waiter. */
  readonly #wheel = new Map<number, Set<Waiter>>();
  /** The `viewers` message JSON last answered, by scope key, and the count it was (see announce). */
  readonly #lastCounts = new Map<string, { json: string; round: number }>();
  #round = 0;
  /** The last one-message catch-up answer made (see #catchUpAnswer). */
  #lastCatchUp: PollAnswer | undefined;
  readonly #options: WaiterOptions;

  constructor(options: WaiterOptions) {
    this.#options = options;
  }

  /**
   * A long poll: the messages after `cursor` at once when there are any, else the first
   * committed batch in scope within `timeoutMs`, else null; an answer carries the server's time.
   * `departure` ends the wait when the client leaves before the answer. Registered before the
   * source is asked, like a stream, so a change committed while the catch-up is read is not
   * missed.
   */
  poll(
    scope: Scope,
    cursor: number | null,
    timeoutMs: number,
    departure?: Departure,
    options: FeedOptions = {},
  ): Promise<PollAnswer | null> {
    const { clock } = this.#options;
    // The deadline counts from arrival, not from the catch-up.
    const waiter = new Waiter(this, options.delta ?? false, cursor, clock.now() + timeoutMs);
    const answered = new Promise<PollAnswer | null>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    // A poll without a cursor has none to give back with a count (see PollAnswer): it is
    // counted as a viewer, but only answered by changes.
    waiter.group = this.#index.add(scope, waiter, options.viewers === true && cursor !== null);
    this.#options.count(1);
    const { source } = this.#options;
    if (source.resumeNow) {
      // Nothing can be committed between registering and this answer: no turn of the loop.
      try {
        this.#start(waiter, scope, source.resumeNow(cursor, scope), timeoutMs);
      } catch (error) {
        this.#fail(waiter, error);
      }
      if (departure && waiter.state === "waiting") this.#listen(waiter, departure.signal);
      return answered;
    }
    // The catch-up takes a while: the client may leave meanwhile.
    if (departure) this.#listen(waiter, departure.signal);
    source.resume(cursor, scope).then(
      (resume) => {
        try {
          this.#start(waiter, scope, resume, timeoutMs);
        } catch (error) {
          this.#fail(waiter, error);
        }
      },
      (error) => this.#fail(waiter, error),
    );
    return answered;
  }

  /** Listens for the client leaving; one that has left already is answered now. */
  #listen(waiter: Waiter, signal: AbortSignal): void {
    if (signal.aborted) return this.leave(waiter);
    waiter.signal = signal;
    signal.addEventListener("abort", waiter);
  }

  /** The catch-up failed: the poll fails with it (a 503 when the store is unavailable). */
  #fail(waiter: Waiter, error: unknown): void {
    if (this.#finish(waiter)) waiter.reject(error);
  }

  /** The catch-up is in: answer with it, or with what was published meanwhile, or wait. */
  #start(waiter: Waiter, scope: Scope, resume: Resume, timeoutMs: number): void {
    if (waiter.state === "done") return;
    const { clock, cache } = this.#options;
    const { messages, delivered } = cache.catchUp(scope, waiter.cursor, resume);
    // The catch-up goes whole (updates); what was published meanwhile follows it in order, each
    // change starting from the state the one before it left, so it may go as patches.
    const live = waiter.held === NOTHING_HELD
      ? NOTHING_HELD
      : waiter.held.filter((m) => m.version > delivered);
    const now = live.length === 0
      ? messages
      : [...messages, ...(waiter.delta ? live.map((m) => m.delta) : live)];
    if (now.length > 0) this.#answer(waiter, this.#catchUpAnswer(now, clock.now()));
    else if (timeoutMs <= 0 || waiter.deadline <= clock.now()) this.#answer(waiter, null);
    else {
      waiter.state = "waiting";
      waiter.delivered = delivered;
      waiter.held = NOTHING_HELD;
      waiter.slot = Math.ceil(waiter.deadline / this.#options.tickMs);
      let slot = this.#wheel.get(waiter.slot);
      if (!slot) this.#wheel.set(waiter.slot, slot = new Set());
      slot.add(waiter);
    }
  }

  /**
   * A catch-up's answer. Polls that arrive behind the same one message in the same millisecond
   * (a crowd coming back after a change, every first poll of a page) share one answer and so
   * one body, as a batch's polls do in `wake`.
   */
  #catchUpAnswer(messages: readonly Message[], now: number): PollAnswer {
    const last = this.#lastCatchUp;
    if (
      messages.length === 1 && last !== undefined && last.time === now &&
      last.messages[0] === messages[0]
    ) {
      return last;
    }
    const answer = new PollAnswer(messages, now);
    if (messages.length === 1) this.#lastCatchUp = answer;
    return answer;
  }

  /** Takes a waiter out of everything; false if it was already answered. */
  #finish(waiter: Waiter): boolean {
    if (waiter.state === "done") return false;
    if (waiter.state === "waiting") this.#wheel.get(waiter.slot)?.delete(waiter);
    waiter.state = "done";
    if (waiter.group) this.#index.delete(waiter.group, waiter);
    this.#options.count(-1);
    if (waiter.signal) waiter.signal.removeEventListener("abort", waiter);
    return true;
  }

  /** The client left before its answer: it gets none, and its place is given up. */
  leave(waiter: Waiter): void {
    this.#answer(waiter, null);
  }

  /** Answers a poll once: later answers (a change after the deadline's) are dropped. */
  #answer(waiter: Waiter, answer: PollAnswer | null): void {
    if (this.#finish(waiter)) waiter.resolve(answer);
  }

  /**
   * Answers the waiting polls a committed batch concerns, each with the messages of its scope;
   * polls still syncing hold them. Messages are sorted into scope groups once per batch, and
   * every poll of a group that the batch answers whole shares one answer (one body, with the
   * time of this wake), delta polls another.
   */
  wake(messages: readonly Message[]): void {
    const now = this.#options.clock.now();
    const byGroup = new Map<ScopeGroup<Waiter>, Message[]>();
    for (const message of messages) {
      for (const group of this.#index.groupsOf(message.gameId, message.competition)) {
        const list = byGroup.get(group);
        if (list) list.push(message);
        else byGroup.set(group, [message]);
      }
    }
    for (const [group, list] of byGroup) this.#wake(group.items, list, now);
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
    const now = this.#options.clock.now();
    for (const group of this.#index.groups()) {
      if (group.counting.size === 0) continue;
      const message = viewersMessage(group.scope, counts);
      const last = this.#lastCounts.get(group.scope.key);
      this.#lastCounts.set(group.scope.key, { json: message.json, round });
      if (message.json === last?.json) continue;
      for (const waiter of [...group.counting]) {
        if (waiter.state !== "waiting" || waiter.cursor === null) continue;
        this.#options.counters.deliveries++;
        this.#answer(waiter, new PollAnswer([message], now, waiter.cursor));
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
      for (const waiter of waiters) this.#answer(waiter, null);
    }
  }

  /** Answers every poll null (shutdown or reset): each client comes back with its cursor. */
  answerAll(): void {
    for (const waiter of this.#index.items()) this.#answer(waiter, null);
  }

  #wake(waiters: Set<Waiter>, messages: readonly Message[], now: number): void {
    const first = messages[0];
    if (!first) return;
    let whole: PollAnswer | undefined;
    let delta: PollAnswer | undefined;
    for (const waiter of waiters) {
      if (waiter.state === "syncing") {
        if (waiter.held === NOTHING_HELD) waiter.held = [];
        waiter.held.push(...messages);
      } else if (waiter.state === "waiting") {
        let answer: PollAnswer | undefined;
        if (waiter.delivered < first.version) {
          answer = waiter.delta
            ? delta ??= new PollAnswer(messages.map((m) => m.delta), now)
            : whole ??= new PollAnswer(messages, now);
        } else {
          // Its catch-up read past part of this batch (the source was ahead of the fan-out).
          const fresh = messages.filter((m) => m.version > waiter.delivered);
          if (fresh.length > 0) {
            answer = new PollAnswer(waiter.delta ? fresh.map((m) => m.delta) : fresh, now);
          }
        }
        if (answer) {
          this.#options.counters.deliveries += answer.messages.length;
          this.#answer(waiter, answer);
        }
      }
    }
  }
}
