/**
 * The embedded default store: SQLite through `node:sqlite`, in WAL mode with synchronous=FULL, so
 * a committed batch is on disk before any write in it is acknowledged. The whole state is also
 * kept in memory (a Board), so reads never touch the disk.
 *
 * One process per file: a second one would keep its own in-memory copy and hand out the same
 * versions. That is held by an OS lock on `<file>.lock` (flock, released by the kernel when the
 * process dies), not by SQLite's exclusive locking mode, so that other readers, such as
 * `deno task backup`, can still read a consistent snapshot of the live file.
 *
 * The file can be lost under a running service: deleted or replaced (SQLite keeps writing to the
 * unlinked inode, and everything is gone at the next start), or corrupted (the connection's page
 * cache hides it until the next start). So the store checks the identity (device and inode) of
 * its files after every commit, before acknowledging it, on every readiness check and on a
 * timer; runs `quick_check` on a connection of its own in a worker, on the same timer, off the
 * event loop; and treats a commit that fails with a corruption or I/O error as the same loss.
 * Once lost, it refuses every write (sqlite_health.ts).
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { AUDIT_MAX_PER_GAME, type AuditEntry } from "../core/audit.ts";
import type { Clock } from "../core/clock.ts";
import type { IdempotencyRecord } from "../core/idempotency.ts";
import type { Logger } from "../core/log.ts";
import { type Change, seedVersion, tombstone, type WriteOutcome } from "../core/scoreboard.ts";
import type { Game } from "../core/schema.ts";
import { StoreUnavailableError } from "../core/errors.ts";
import type { IdempotencyKey, Store } from "./store.ts";
import { type Batch, BoardStore, type Persistence, StorageLostError } from "./board_store.ts";
import { brokenStorage, FileIdentity, IntegrityProbe, takeFileLock } from "./sqlite_health.ts";
import { groupCommit } from "./group_commit.ts";
import { SqliteWorker } from "./sqlite_offload.ts";
import { BatchWriter, SCHEMA, SCHEMA_VERSION, SET_META } from "./sqlite_writer.ts";

/**
 * How often the files are checked when nothing else does it: their identity (a stat each; every
 * commit and every readiness check also does that), then their integrity (in a worker, a read
 * of the whole file).
 */
export const HEALTH_EVERY_MS = 60_000;

/**
 * The meta row `deno task backup` leaves in its copy. The first start on such a copy moves the
 * counter up to the clock and the horizon with it: the copy is older than what viewers have seen,
 * so their cursors must get a snapshot, and versions handed out after the backup must not repeat.
 */
export const BACKUP_MARK = "backup_taken_at";

class SqlitePersistence implements Persistence {
  readonly location: string;
  #db: DatabaseSync;
  #lock: { file: Deno.FsFile; path: string };
  #identity: FileIdentity;
  #writer: BatchWriter;
  #findRecord: StatementSync;
  #history: StatementSync;
  #worker = new SqliteWorker();
  #probe: IntegrityProbe;

  constructor(path: string, clock: Clock) {
    this.location = path;
    try {
      this.#lock = takeFileLock(path);
    } catch (error) {
      throw new StoreUnavailableError(`cannot open ${path}: ${describe(error)}`, 1, {
        cause: error,
      });
    }
    try {
      this.#db = new DatabaseSync(path);
      try {
        this.#db.exec(`
          PRAGMA journal_mode = WAL;
          PRAGMA synchronous = FULL;
          PRAGMA foreign_keys = ON;
        `);
        this.#db.exec("BEGIN IMMEDIATE");
        this.#migrate();
        this.#startAfterBackup(clock.now());
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#db.close();
        throw error;
      }
    } catch (error) {
      this.#lock.file.close();
      throw new StoreUnavailableError(`cannot open ${path}: ${describe(error)}`, 1, {
        cause: error,
      });
    }
    // Taken once the file and its write-ahead log exist: from now on they must stay these.
    this.#identity = new FileIdentity([path, `${path}-wal`, this.#lock.path]);
    this.#probe = new IntegrityProbe(path, this.#worker, clock);
    this.#writer = new BatchWriter(this.#db);
    this.#findRecord = this.#db.prepare(
      "SELECT fingerprint, outcome FROM idempotency WHERE scope = ? AND key = ? AND created_at >= ?",
    );
    this.#history = this.#db.prepare(
      "SELECT entry FROM audit WHERE id = ? AND at >= ? ORDER BY version DESC " +
        `LIMIT ${AUDIT_MAX_PER_GAME}`,
    );
  }

  /** See BACKUP_MARK: inside the opening transaction, so it happens once. */
  #startAfterBackup(nowMs: number): void {
    const mark = this.#db.prepare("SELECT value FROM meta WHERE name = ?").get(BACKUP_MARK);
    if (!mark) return;
    const row = this.#db.prepare("SELECT value FROM meta WHERE name = 'version'").get();
    const version = Math.max(Number(row?.value ?? 0), seedVersion(nowMs));
    const set = this.#db.prepare(SET_META);
    set.run("version", version);
    set.run("horizon", version);
    this.#db.prepare("DELETE FROM meta WHERE name = ?").run(BACKUP_MARK);
  }

  #migrate(): void {
    const { user_version } = this.#db.prepare("PRAGMA user_version").get() as {
      user_version: number;
    };
    if (user_version > SCHEMA_VERSION) {
      throw new Error(
        `the file was written by a newer Scoreline (schema ${user_version}); refusing to touch it`,
      );
    }
    this.#db.exec(SCHEMA);
    // A file of schema 1 has the table without the column: add it (its tombstones have none).
    const columns = this.#db.prepare("PRAGMA table_info(games)").all().map((row) => row.name);
    if (!columns.includes("competition")) {
      this.#db.exec("ALTER TABLE games ADD COLUMN competition TEXT");
    }
    this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  }

  load() {
    const meta = new Map<string, number>();
    for (const row of this.#db.prepare("SELECT name, value FROM meta").all()) {
      meta.set(String(row.name), Number(row.value));
    }
    const changes: Change[] = [];
    const rows = this.#db.prepare("SELECT id, version, game, removed_at, competition FROM games")
      .all();
    for (const row of rows) {
      const version = Number(row.version);
      if (row.game === null) {
        const competition = row.competition === null ? undefined : String(row.competition);
        changes.push(tombstone(version, String(row.id), Number(row.removed_at), competition));
      } else {
        changes.push({ type: "update", version, game: JSON.parse(String(row.game)) as Game });
      }
    }
    return {
      version: meta.get("version") ?? null,
      horizon: meta.get("horizon") ?? null,
      competitionHorizon: meta.get("competition_horizon") ?? null,
      changes,
    };
  }

  findRecord(key: IdempotencyKey, notBefore: number): IdempotencyRecord | undefined {
    const row = this.#findRecord.get(key.scope, key.key, notBefore);
    if (!row) return undefined;
    return {
      fingerprint: String(row.fingerprint),
      outcome: JSON.parse(String(row.outcome)) as WriteOutcome,
    };
  }

  history(id: string, notBefore: number): AuditEntry[] {
    return this.#history.all(id, notBefore).map((row) =>
      JSON.parse(String(row.entry)) as AuditEntry
    );
  }

  commit(batch: Batch): void {
    try {
      this.#writer.commit(batch);
    } catch (error) {
      throw this.#failure(error);
    }
  }

  /** The same commit on the worker's connection: an import's thousands of rows, off the loop. */
  async commitAsync(batch: Batch): Promise<void> {
    const answer = await this.#worker.call({ kind: "commit", path: this.location, batch });
    if (!answer.ok) {
      throw this.#failure(Object.assign(new Error(answer.detail), { errcode: answer.errcode }));
    }
  }

  #failure(error: unknown): Error {
    if (brokenStorage(error)) {
      return new StorageLostError(`${this.location}: ${describe(error)}`, { cause: error });
    }
    return error instanceof Error ? error : new Error(String(error));
  }

  lost(): string | null {
    return this.#identity.changed();
  }

  watch(clock: Clock, onLost: (reason: string) => void): () => void {
    return clock.every(HEALTH_EVERY_MS, () => {
      const reason = this.lost();
      if (reason !== null) onLost(reason);
      else this.#probe.run(onLost);
    });
  }

  async close(): Promise<void> {
    await this.#worker.stop();
    this.#db.close();
    this.#lock.file.close();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens (creating when missing) the SQLite store at `path`. A fresh file seeds its version from
 * the clock; after that the stored counter carries on, so versions keep going up across restarts.
 * Throws StoreUnavailableError, with one line naming the file, when another process holds it.
 */
export function openSqliteStore(path: string, clock: Clock, log?: Logger): Store {
  const slash = path.lastIndexOf("/");
  if (slash > 0) Deno.mkdirSync(path.slice(0, slash), { recursive: true });
  return new BoardStore(new SqlitePersistence(path, clock), clock, groupCommit(), log);
}
