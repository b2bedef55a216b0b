/**
 * The engine behind the in-process stores (memory and SQLite): the committed state lives in a
 * Board in this process, and writes are queued and committed in batches (group commit), so one
 * fsync acknowledges every write that arrived meanwhile. Only the Persistence differs.
 */
import { AUDIT_TTL_MS, type AuditEntry, auditEntry, visibleHistory } from "../core/audit.ts";
import type { Clock } from "../core/clock.ts";
import { storeClosedError, StoreUnavailableError } from "../core/errors.ts";
import { IDEMPOTENCY_TTL_MS, type IdempotencyRecord, RunningKeys } from "../core/idempotency.ts";
import { fillTemplate, importTemplate } from "../core/import.ts";
import { type Logger, silentLogger } from "../core/log.ts";
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
import type { CommitSchedule } from "./group_commit.ts";
import type {
  Claim,
  IdempotencyKey,
  ImportOutcome,
  ImportRequest,
  Store,
  WriteRequest,
} from "./store.ts";

/** How often expired tombstones, idempotency records and history entries are cleared, at the earliest. */
const MAINTENANCE_EVERY_MS = 60_000;
/**
 * Commits that failed in a row (a full disk, a lock held by another program) before the store
 * says it is not ready; the next commit that works makes it ready again.
 */
const FAILED_COMMITS_NOT_READY = 3;
/** Retry-After of a write refused because the storage is lost: only a restart mends that. */
const LOST_RETRY_AFTER_S = 10;

export type Tombstone = Extract<Change, { type: "removed" }>;

/** A history entry of one game, as a Persistence stores it. */
export interface AuditRow {
  id: string;
  entry: AuditEntry;
}

/** One durable batch: what a Persistence must write all-or-nothing. */
export interface Batch {
  version: number;
  horizon: number;
  /** See Board.competitionHorizon. */
  competitionHorizon: number;
  changes: readonly Change[];
  records: readonly { key: IdempotencyKey; record: IdempotencyRecord; at: number }[];
  /** History entries of the changes; each game then keeps at most AUDIT_MAX_PER_GAME. */
  audit: readonly AuditRow[];
  /**
   * Tombstones to forget, and records and history entries older than `recordsBefore` and
   * `auditBefore` to drop; null when not due.
   */
  expire: { tombstones: readonly Tombstone[]; recordsBefore: number; auditBefore: number } | null;
}

/**
 * The storage under a Persistence is gone: what it commits would not be there after a restart
 * (its file deleted, replaced, corrupted). Thrown by `commit`, or reported by `lost`/`watch`.
 */
export class StorageLostError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StorageLostError";
  }
}

/** Where an in-process store keeps its state. Synchronous: node:sqlite is. */
export interface Persistence {
  /** Where it is, for the log line that says it was lost. */
  readonly location: string;
  /** Everything stored, to rebuild the Board. `version` is null for a store never written. */
  load(): {
    version: number | null;
    horizon: number | null;
    competitionHorizon?: number | null;
    changes: Change[];
  };
  /** An idempotency record written at or after `notBefore`. */
  findRecord(key: IdempotencyKey, notBefore: number): IdempotencyRecord | undefined;
  /** The history entries of one game at or after `notBefore`, in any order. */
  history(id: string, notBefore: number): AuditEntry[];
  /**
   * Makes a batch durable, or throws having changed nothing: StorageLostError when the storage
   * itself is broken, anything else for a condition that may pass (a full disk).
   */
  commit(batch: Batch): void;
  /**
   * The same, off the event loop, for a batch too large to commit on it (an import). The store
   * commits nothing else until it settles.
   */
  commitAsync?(batch: Batch): Promise<void>;
  /**
   * Why what was committed would not survive a restart, or null. Cheap (a stat): it runs after
   * every commit, before any write in it is acknowledged, and on every readiness check.
   */
  lost?(): string | null;
  /** Starts the checks that run on a timer (identity, integrity); returns their stop. */
  watch?(clock: Clock, onLost: (reason: string) => void): () => void;
  /** Releases the storage; may wait for work on it already started elsewhere (a worker). */
  close(): void | Promise<void>;
}

/** A batch decided and waiting for its commit. */
interface Decided {
  draft: Draft;
  answers: { pending: Pending; settle(): void }[];
  batch: Omit<Batch, "horizon" | "expire">;
}

type Pending =
  | {
    kind: "write";
    request: WriteRequest;
    resolve(outcome: WriteOutcome): void;
    reject(error: unknown): void;
  }
  | {
    kind: "import";
    request: ImportRequest;
    resolve(outcome: ImportOutcome): void;
    reject(error: unknown): void;
  };

export class BoardStore implements Store {
  #board: Board;
  #queue: Pending[] = [];
  #cancelFlush: (() => void) | undefined;
  #closed = false;
  #listeners = new Set<(changes: readonly Change[]) => void>();
  #running = new RunningKeys();
  #lastMaintenance: number;
  /** Why the storage is lost, once it is: from then on no write is acknowledged. */
  #lost: string | null = null;
  #failedCommits = 0;
  #stopWatch: () => void;
  /** An import being committed off the event loop; nothing else commits meanwhile. */
  #importing: Promise<void> | undefined;
  /** Set by close(): new writes are refused while the ones accepted are finished. */
  #closing = false;
  /** How many writes (and imports) the last commit took: the schedule's hint. */
  #lastBatch = 0;
  #closeDone: Promise<void> | undefined;

  /**
   * @param schedule runs the flush later and returns a cancel: a microtask for memory; for SQLite,
   *   a macrotask, so that writes arriving together share one commit and one fsync
   *   (group_commit.ts). It is told how many writes the last commit took.
   */
  constructor(
    private readonly persistence: Persistence,
    private readonly clock: Clock,
    private readonly schedule: CommitSchedule,
    private readonly log: Logger = silentLogger,
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
    this.#stopWatch = persistence.watch?.(clock, (reason) => this.#markLost(reason)) ?? (() => {});
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
    return Promise.resolve(this.resumeNow(cursor, scope));
  }

  resumeNow(cursor: number | null, scope: Scope) {
    this.#assertOpen();
    return this.#board.resume(cursor, scope);
  }

  countViewers(tally: ScopeTally): Promise<ViewerCounts> {
    this.#assertOpen();
    const board = this.#board;
    return Promise.resolve(
      countViewers(tally, (id) => board.gamesIn(competitionScope(id)).map((game) => game.id)),
    );
  }

  write(request: WriteRequest): Promise<WriteOutcome> {
    const refused = this.#refusal();
    if (refused) return Promise.reject(refused);
    return new Promise((resolve, reject) => {
      this.#queue.push({ kind: "write", request, resolve, reject });
      this.#cancelFlush ??= this.#scheduleFlush();
    });
  }

  importGames(request: ImportRequest): Promise<ImportOutcome> {
    const refused = this.#refusal();
    if (refused) return Promise.reject(refused);
    const ids = new Set(request.games.map((game) => game.id));
    if (ids.size !== request.games.length) {
      return Promise.reject(new TypeError("an import names a game twice"));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ kind: "import", request, resolve, reject });
      this.#cancelFlush ??= this.#scheduleFlush();
    });
  }

  history(id: string) {
    this.#assertOpen();
    const now = this.clock.now();
    try {
      return Promise.resolve(
        visibleHistory(this.persistence.history(id, now - AUDIT_TTL_MS), now),
      );
    } catch (error) {
      return Promise.reject(
        new StoreUnavailableError("the store could not read the history", 1, { cause: error }),
      );
    }
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

  /** Checks the storage afresh (a stat or two), so /readyz tells at once when it is lost. */
  ready(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    const lost = this.persistence.lost?.() ?? null;
    if (lost !== null) this.#markLost(lost);
    return Promise.resolve(
      this.#lost === null && this.#failedCommits < FAILED_COMMITS_NOT_READY,
    );
  }

  close(): Promise<void> {
    return this.#closeDone ??= this.#close();
  }

  async #close(): Promise<void> {
    this.#closing = true;
    while (this.#importing || this.#queue.length > 0) {
      await this.#importing;
      this.#flush();
    }
    this.#closed = true;
    this.#stopWatch();
    this.#listeners.clear();
    await this.persistence.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw storeClosedError();
  }

  /** Why a new write is refused at once: the store is closed, or its storage is lost. */
  #refusal(): StoreUnavailableError | undefined {
    if (this.#closed || this.#closing) return storeClosedError();
    if (this.#lost !== null) return this.#lostError();
    return undefined;
  }

  #lostError(): StoreUnavailableError {
    return new StoreUnavailableError(
      `the store is lost (${this.#lost}); writes are refused until the service is restarted`,
      LOST_RETRY_AFTER_S,
    );
  }

  /** Asks for a flush of what is queued, telling the schedule how many the last commit took. */
  #scheduleFlush(): () => void {
    return this.schedule(() => this.#flush(), this.#lastBatch);
  }

  /** Once, whatever noticed it first: one log line, and no write acknowledged from now on. */
  #markLost(reason: string): void {
    if (this.#lost !== null) return;
    this.#lost = reason;
    this.log.error(
      "the store is lost: writes are refused and /readyz is 503 until the service is restarted",
      { file: this.persistence.location, reason },
    );
  }

  /**
   * Decides every queued write against one Draft and commits them together. Where the
   * persistence can commit off the event loop, an import is a batch of its own, committed there,
   * and what was queued after it waits for it (so versions stay in order); meanwhile the event
   * loop goes on serving reads and feeds.
   */
  #flush(): void {
    this.#cancelFlush?.();
    this.#cancelFlush = undefined;
    if (this.#importing || this.#queue.length === 0) return;
    let queue = this.#queue;
    this.#queue = [];
    if (this.#lost !== null) {
      const failure = this.#lostError();
      for (const pending of queue) this.#settleFailed(pending, failure);
      return;
    }
    const offLoop = this.persistence.commitAsync
      ? queue.findIndex((pending) => pending.kind === "import")
      : -1;
    if (offLoop === 0) {
      this.#queue = queue.slice(1);
      this.#importing = this.#commitOffLoop(queue[0]!).finally(() => {
        this.#importing = undefined;
        if (this.#queue.length > 0) {
          this.#cancelFlush ??= this.#scheduleFlush();
        }
      });
      return;
    }
    if (offLoop > 0) {
      this.#queue = queue.slice(offLoop);
      queue = queue.slice(0, offLoop);
      this.#cancelFlush = this.#scheduleFlush();
    }
    this.#lastBatch = queue.length;
    const now = this.clock.now();
    const decided = this.#decide(queue, now);
    const expire = this.#dueExpiry(now);
    const horizon = Math.max(
      this.#board.horizon,
      ...(expire?.tombstones.map((t) => t.version) ?? []),
    );
    let failure: unknown;
    try {
      this.persistence.commit({ ...decided.batch, horizon, expire });
    } catch (error) {
      failure = error;
    }
    this.#settle(decided, failure, expire);
  }

  /** An import alone, committed off the event loop (Persistence.commitAsync). */
  async #commitOffLoop(pending: Pending): Promise<void> {
    const decided = this.#decide([pending], this.clock.now());
    let failure: unknown;
    try {
      await this.persistence.commitAsync!({
        ...decided.batch,
        horizon: this.#board.horizon,
        expire: null,
      });
    } catch (error) {
      failure = error;
    }
    this.#settle(decided, failure, null);
  }

  /** Every pending write decided against one Draft: the batch to commit, and how to answer. */
  #decide(queue: readonly Pending[], now: number): Decided {
    const draft = new Draft(this.#board, now);
    const answers: Decided["answers"] = [];
    const records: Batch["records"][number][] = [];
    const audit: AuditRow[] = [];
    for (const pending of queue) {
      try {
        if (pending.kind === "import") {
          const outcome = this.#decideImport(draft, pending.request, now, audit);
          answers.push({ pending, settle: () => pending.resolve(outcome) });
          continue;
        }
        const { request } = pending;
        const { outcome } = draft.write(request.id, request.mutate);
        answers.push({ pending, settle: () => pending.resolve(outcome) });
        if (request.idempotency) {
          const { key, fingerprint } = request.idempotency;
          records.push({ key, record: { fingerprint, outcome }, at: now });
        }
        const version = changedVersion(outcome);
        if (request.audit && version !== undefined) {
          audit.push({ id: request.id, entry: auditEntry(request.audit, version, now) });
        }
      } catch (error) {
        // A mutation that throws is a bug; it fails alone, having recorded nothing.
        this.#settleFailed(pending, error);
      }
    }
    return {
      draft,
      answers,
      batch: {
        version: draft.version,
        competitionHorizon: draft.competitionHorizon,
        changes: draft.changes,
        records,
        audit,
      },
    };
  }

  /** After the commit: make it visible and answer, or, if it failed or was lost, refuse all. */
  #settle(decided: Decided, failure: unknown, expire: Batch["expire"]): void {
    if (failure === undefined) this.#failedCommits = 0;
    else {
      this.#failedCommits++;
      if (failure instanceof StorageLostError) this.#markLost(failure.message);
    }
    // Committed to a file that is no longer the store's (deleted or replaced meanwhile): it
    // would not be there after a restart, so it is not acknowledged.
    const lost = failure === undefined ? this.persistence.lost?.() ?? null : null;
    if (lost !== null) this.#markLost(lost);
    if (failure !== undefined || lost !== null) {
      const error = failure === undefined
        ? this.#lostError()
        : new StoreUnavailableError("the store could not commit the write", 1, { cause: failure });
      for (const { pending } of decided.answers) this.#settleFailed(pending, error);
      return;
    }
    const { changes } = decided.draft;
    this.#board.apply(changes);
    if (expire) this.#board.forget(expire.tombstones);
    this.#board.raiseCompetitionHorizon(decided.draft.competitionHorizon);
    if (changes.length > 0) this.#notify(changes);
    for (const { pending, settle } of decided.answers) {
      if (pending.kind === "write" && pending.request.idempotency) {
        this.#running.release(pending.request.idempotency.key);
      }
      settle();
    }
  }

  /**
   * An import's games as changes of the draft, all of them: everything that can fail (the
   * templates) is done before the draft is touched, so an import never half-enters a batch.
   */
  #decideImport(
    draft: Draft,
    request: ImportRequest,
    now: number,
    audit: AuditRow[],
  ): ImportOutcome {
    const templates = request.games.map((game) => importTemplate(game, now));
    const games: ImportOutcome["games"] = [];
    request.games.forEach((game, i) => {
      const { kind, version } = draft.replace(game.id, (v) => fillTemplate(templates[i]!, v));
      games.push({ id: game.id, version, kind });
      if (game.audit) audit.push({ id: game.id, entry: auditEntry(game.audit, version, now) });
    });
    return { version: draft.version, games };
  }

  #settleFailed(pending: Pending, error: unknown): void {
    if (pending.kind === "write" && pending.request.idempotency) {
      this.#running.release(pending.request.idempotency.key);
    }
    pending.reject(error);
  }

  #dueExpiry(now: number): Batch["expire"] {
    if (now - this.#lastMaintenance < MAINTENANCE_EVERY_MS) return null;
    this.#lastMaintenance = now;
    return {
      tombstones: this.#board.expiredTombstones(now - TOMBSTONE_TTL_MS),
      recordsBefore: now - IDEMPOTENCY_TTL_MS,
      auditBefore: now - AUDIT_TTL_MS,
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

/** The version a write's change got; undefined when it changed nothing. */
export function changedVersion(outcome: WriteOutcome): number | undefined {
  switch (outcome.kind) {
    case "created":
    case "saved":
      return outcome.game.version;
    case "deleted":
      return outcome.version;
    case "unchanged":
    case "rejected":
      return undefined;
  }
}
