/**
 * The engine behind the in-process stores (memory and SQLite): the committed state lives in a
 * Board in this process, and writes are queued and committed in batches (group commit), so one
 * fsync acknowledges every write that arrived meanwhile. Only the Persistence differs.
 */
import type { Clock } from "../core/clock.ts";
import { storeClosedError, StoreUnavailableError } from "../core/errors.ts";
import { IDEMPOTENCY_TTL_MS, type IdempotencyRecord, RunningKeys } from "../core/idempotency.ts";
import {
  Board,
  type Change,
  Draft,
  seedVersion,
  TOMBSTONE_TTL_MS,
  type WriteOutcome,
} from "../core/scoreboard.ts";
import { competitionScope, type Scope } from "../core/scope.ts";
import { countViewers, type ScopeTally, type ViewerCounts } from "../core/viewers.ts";
import type { Claim, IdempotencyKey, Store, WriteRequest } from "./store.ts";

/** How often expired tombstones and idempotency records are cleared, at the earliest. */
const MAINTENANCE_EVERY_MS = 60_000;

export type Tombstone = Extract<Change, { type: "removed" }>;

/** One durable batch: what a Persistence must write all-or-nothing. */
export interface Batch {
  version: number;
  horizon: number;
  /** See Board.competitionHorizon. */
  competitionHorizon: number;
  changes: readonly Change[];
  records: readonly { key: IdempotencyKey; record: IdempotencyRecord; at: number }[];
  /** Tombstones to forget, and records older than `recordsBefore` to drop; null when not due. */
  expire: { tombstones: readonly Tombstone[]; recordsBefore: number } | null;
}

/** Where an in-process store keeps its state. Synchronous: node:sqlite is. */
export interface Persistence {
  /** Everything stored, to rebuild the Board. `version` is null for a store never written. */
  load(): {
    version: number | null;
    horizon: number | null;
    competitionHorizon?: number | null;
    changes: Change[];
  };
  /** An idempotency record written at or after `notBefore`. */
  findRecord(key: IdempotencyKey, notBefore: number): IdempotencyRecord | undefined;
  /** Makes a batch durable, or throws having changed nothing. */
  commit(batch: Batch): void;
  close(): void;
}

interface Pending {
  request: WriteRequest;
  resolve(outcome: WriteOutcome): void;
  reject(error: unknown): void;
}

export class BoardStore implements Store {
  #board: Board;
  #queue: Pending[] = [];
  #cancelFlush: (() => void) | undefined;
  #closed = false;
  #listeners = new Set<(changes: readonly Change[]) => void>();
  #running = new RunningKeys();
  #lastMaintenance: number;

  /**
   * @param schedule runs the flush later and returns a cancel: a microtask for memory, a
   *   macrotask for SQLite so that writes arriving in the same turn of the event loop share one
   *   commit (and one fsync).
   */
  constructor(
    private readonly persistence: Persistence,
    private readonly clock: Clock,
    private readonly schedule: (flush: () => void) => () => void,
  ) {
    const stored = persistence.load();
    const newest = stored.changes.reduce((max, c) => Math.max(max, c.version), 0);
    const version = stored.version ?? Math.max(seedVersion(clock.now()), newest);
    this.#board = new Board({
      version: Math.max(version, newest),
      horizon: stored.horizon ?? version,
      competitionHorizon: stored.competitionHorizon ?? 0,
      changes: stored.changes,
    });
    this.#lastMaintenance = clock.now();
  }

  get(id: string) {
    this.#assertOpen();
    return Promise.resolve(this.#board.get(id));
  }

  snapshot() {
    this.#assertOpen();
    return Promise.resolve({ version: this.#board.version, games: this.#board.games() });
  }

  resume(cursor: number | null, scope: Scope) {
    this.#assertOpen();
    return Promise.resolve(this.#board.resume(cursor, scope));
  }

  countViewers(tally: ScopeTally): Promise<ViewerCounts> {
    this.#assertOpen();
    const board = this.#board;
    return Promise.resolve(
      countViewers(tally, (id) => board.gamesIn(competitionScope(id)).map((game) => game.id)),
    );
  }

  write(request: WriteRequest): Promise<WriteOutcome> {
    if (this.#closed) return Promise.reject(storeClosedError());
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#cancelFlush ??= this.schedule(() => this.#flush());
    });
  }

  claim(key: IdempotencyKey, fingerprint: string): Promise<Claim> {
    this.#assertOpen();
    const notBefore = this.clock.now() - IDEMPOTENCY_TTL_MS;
    return Promise.resolve(
      this.#running.claim(key, fingerprint, this.persistence.findRecord(key, notBefore)),
    );
  }

  release(key: IdempotencyKey): Promise<void> {
    this.#running.release(key);
    return Promise.resolve();
  }

  onCommit(listener: (changes: readonly Change[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  ready(): Promise<boolean> {
    return Promise.resolve(!this.#closed);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#flush();
    this.#closed = true;
    this.#listeners.clear();
    this.persistence.close();
    return Promise.resolve();
  }

  #assertOpen(): void {
    if (this.#closed) throw storeClosedError();
  }

  /** Decides every queued write against one Draft and commits them together. */
  #flush(): void {
    this.#cancelFlush?.();
    this.#cancelFlush = undefined;
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    const now = this.clock.now();
    const draft = new Draft(this.#board, now);
    const decided: { pending: Pending; outcome: WriteOutcome }[] = [];
    const records: Batch["records"][number][] = [];
    for (const pending of queue) {
      const { request } = pending;
      try {
        const { outcome } = draft.write(request.id, request.mutate);
        decided.push({ pending, outcome });
        if (request.idempotency) {
          const { key, fingerprint } = request.idempotency;
          records.push({ key, record: { fingerprint, outcome }, at: now });
        }
      } catch (error) {
        // A mutation that throws is a bug; it fails alone, having recorded nothing.
        this.#settleFailed(pending, error);
      }
    }
    const expire = this.#dueExpiry(now);
    const horizon = Math.max(
      this.#board.horizon,
      ...(expire?.tombstones.map((t) => t.version) ?? []),
    );
    try {
      this.persistence.commit({
        version: draft.version,
        horizon,
        competitionHorizon: draft.competitionHorizon,
        changes: draft.changes,
        records,
        expire,
      });
    } catch (error) {
      const failure = new StoreUnavailableError("the store could not commit the write", 1, {
        cause: error,
      });
      for (const { pending } of decided) this.#settleFailed(pending, failure);
      return;
    }
    this.#board.apply(draft.changes);
    if (expire) this.#board.forget(expire.tombstones);
    this.#board.raiseCompetitionHorizon(draft.competitionHorizon);
    if (draft.changes.length > 0) this.#notify(draft.changes);
    for (const { pending, outcome } of decided) {
      if (pending.request.idempotency) this.#running.release(pending.request.idempotency.key);
      pending.resolve(outcome);
    }
  }

  #settleFailed(pending: Pending, error: unknown): void {
    if (pending.request.idempotency) this.#running.release(pending.request.idempotency.key);
    pending.reject(error);
  }

  #dueExpiry(now: number): Batch["expire"] {
    if (now - this.#lastMaintenance < MAINTENANCE_EVERY_MS) return null;
    this.#lastMaintenance = now;
    return {
      tombstones: this.#board.expiredTombstones(now - TOMBSTONE_TTL_MS),
      recordsBefore: now - IDEMPOTENCY_TTL_MS,
    };
  }

  #notify(changes: readonly Change[]): void {
    for (const listener of this.#listeners) {
      try {
        listener(changes);
      } catch (error) {
        // A listener's bug must not undo an acknowledged, durable write.
        console.error("commit listener failed", error);
      }
    }
  }
}
