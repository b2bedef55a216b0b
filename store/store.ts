/**
 * The one seam between the service and where its state lives. Three implementations: memory,
 * SQLite (the embedded default) and Redis (several instances). `tests/store_conformance.ts`
 * holds every implementation to the contract written here.
 */
import type { Change, Mutation, Resume, WriteOutcome } from "../core/scoreboard.ts";
import type { Game } from "../core/schema.ts";
import type { Claim, IdempotencyKey } from "../core/idempotency.ts";
import type { AuditEntry, AuditNote } from "../core/audit.ts";
import type { ImportedGame, ImportOutcome } from "../core/import.ts";
import type { Scope } from "../core/scope.ts";
import type { ScopeTally, ViewerCounts } from "../core/viewers.ts";

// Defined with the rules that use them (core/); re-exported as part of this seam.
export type { AuditEntry, AuditNote, Claim, IdempotencyKey, ImportedGame, ImportOutcome };

export interface WriteRequest {
  /** The game's id, already validated. */
  id: string;
  /** Decides the change from the game's current state; pure, so it may run more than once. */
  mutate: Mutation;
  /** Records the outcome under this key, in the same commit as the change. */
  idempotency?: { key: IdempotencyKey; fingerprint: string };
  /**
   * The history entry of this write: who, method, path, body. Every write route passes it (they
   * all go through the one write path of routes/games.ts); a write without it (a test, a
   * benchmark) leaves no entry. Recorded in the same commit as the change, and only when the
   * write changed the game: a rejected decision records none.
   */
  audit?: AuditNote;
}

export interface ImportRequest {
  /** The games to create or replace, ids all different (the store refuses duplicates). */
  games: readonly ImportedGame[];
}

export interface Store {
  /** The latest committed state of one game; undefined when it does not exist (or was deleted). */
  get(id: string): Promise<Game | undefined>;

  /** Every game, sorted by id, and the version this list is consistent with. */
  snapshot(): Promise<{ version: number; games: Game[] }>;

  /**
   * "Since cursor" within a scope (all games, one game, a `games=` list, a competition): every
   * change in scope after the cursor in ascending version order, each game once at its latest
   * state, a removal counting as in the competition the game had; or a snapshot of the games in
   * scope (sorted by id) when the cursor is null, above the current version (a reset store) or
   * below the tombstone horizon. The horizon also rises past the tombstone of a game created
   * again in another competition (see Draft.horizon).
   */
  resume(cursor: number | null, scope: Scope): Promise<Resume>;

  /**
   * Viewer counts from feeds by scope (core/viewers.ts): per game, the feeds whose scope names
   * it, a competition naming its live games. In Redis mode the tally is this instance's report,
   * and the answer sums every instance that reported within the last 10 s, so an instance that
   * stops drops out of the sums within 15 s.
   */
  countViewers(tally: ScopeTally): Promise<ViewerCounts>;

  /**
   * Applies one write atomically: runs `mutate` against the current state, assigns the next
   * global version and updatedAt, stores the state or tombstone and the idempotency record. The
   * promise resolves only once all of it is durable, and `onCommit` listeners have been told of
   * the change before it resolves. A rejected decision changes nothing (but is recorded under
   * the idempotency key). Rejects with StoreUnavailableError when nothing could be committed.
   */
  write(request: WriteRequest): Promise<WriteOutcome>;

  /**
   * Creates or replaces every game of the import in one atomic, durable commit: all of them or
   * none. Each game becomes a change of its own with the next global version (in the import's
   * order), `updatedAt` the commit time, its events' versions re-stamped (core/import.ts), and
   * its history entry; `onCommit` listeners get them as one batch before the promise resolves.
   * Rejects (having changed nothing) with a TypeError when two games share an id, and with
   * StoreUnavailableError when nothing could be committed.
   */
  importGames(request: ImportRequest): Promise<ImportOutcome>;

  /**
   * The history of one game, deleted or not: entries kept within AUDIT_TTL_MS, newest first, at
   * most AUDIT_MAX_PER_GAME (core/audit.ts visibleHistory). Empty when there is none.
   */
  history(id: string): Promise<AuditEntry[]>;

  /** Looks up an Idempotency-Key and, when unused, holds it for this request (see Claim). */
  claim(key: IdempotencyKey, fingerprint: string): Promise<Claim>;

  /** Lets go of a claim whose write never happened (the request failed before committing). */
  release(key: IdempotencyKey): Promise<void>;

  /**
   * Calls `listener` with every committed batch of changes, in ascending version order, once per
   * commit; in Redis mode that includes commits made by other instances. Returns an unsubscribe.
   */
  onCommit(listener: (changes: readonly Change[]) => void): () => void;

  /**
   * True while the store can serve reads and writes. False once its storage is lost (an SQLite
   * file deleted, replaced or corrupted under it): from then on every write rejects with
   * StoreUnavailableError, because nothing committed there would survive a restart.
   */
  ready(): Promise<boolean>;

  /**
   * Finishes writes already accepted, then closes. Afterwards every method rejects with
   * StoreUnavailableError and no listener is called again.
   */
  close(): Promise<void>;
}
