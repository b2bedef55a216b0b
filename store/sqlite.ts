/**
 * The embedded default store: SQLite through `node:sqlite`, in WAL mode with synchronous=FULL, so
 * a committed batch is on disk before any write in it is acknowledged. The whole state is also
 * kept in memory (a Board), so reads never touch the disk.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Clock } from "../core/clock.ts";
import type { IdempotencyRecord } from "../core/idempotency.ts";
import { type Change, tombstone, type WriteOutcome } from "../core/scoreboard.ts";
import type { Game } from "../core/schema.ts";
import { StoreUnavailableError } from "../core/errors.ts";
import type { IdempotencyKey, Store } from "./store.ts";
import { type Batch, BoardStore, type Persistence } from "./board_store.ts";

/** 2: tombstones keep the competition the game had (`games.competition`). */
const SCHEMA_VERSION = 2;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) STRICT;
  -- One row per game: its latest state, or its tombstone (game NULL, removed_at set, and the
  -- competition the game had, so that its removal still reaches that competition's feeds).
  CREATE TABLE IF NOT EXISTS games (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL UNIQUE,
    game TEXT,
    removed_at INTEGER,
    competition TEXT
  ) STRICT;
  CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    outcome TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS idempotency_created_at ON idempotency (created_at);
`;

class SqlitePersistence implements Persistence {
  #db: DatabaseSync;
  #putGame: StatementSync;
  #putTombstone: StatementSync;
  #forgetTombstone: StatementSync;
  #setMeta: StatementSync;
  #putRecord: StatementSync;
  #findRecord: StatementSync;
  #expireRecords: StatementSync;

  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    try {
      // EXCLUSIVE: a second process on the same file would keep its own in-memory copy and
      // hand out the same versions; with the lock it fails at start instead.
      this.#db.exec(`
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = FULL;
        PRAGMA locking_mode = EXCLUSIVE;
        PRAGMA foreign_keys = ON;
      `);
      this.#db.exec("BEGIN IMMEDIATE");
      this.#migrate();
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.close();
      throw new StoreUnavailableError(`cannot open ${path}: ${describe(error)}`, 1, {
        cause: error,
      });
    }
    this.#putGame = this.#db.prepare(
      "INSERT INTO games (id, version, game, removed_at, competition) " +
        "VALUES (?, ?, ?, NULL, NULL) " +
        "ON CONFLICT (id) DO UPDATE SET version = excluded.version, game = excluded.game, " +
        "removed_at = NULL, competition = NULL",
    );
    this.#putTombstone = this.#db.prepare(
      "INSERT INTO games (id, version, game, removed_at, competition) VALUES (?, ?, NULL, ?, ?) " +
        "ON CONFLICT (id) DO UPDATE SET version = excluded.version, game = NULL, " +
        "removed_at = excluded.removed_at, competition = excluded.competition",
    );
    this.#forgetTombstone = this.#db.prepare(
      "DELETE FROM games WHERE id = ? AND version = ? AND game IS NULL",
    );
    this.#setMeta = this.#db.prepare(
      "INSERT INTO meta (name, value) VALUES (?, ?) " +
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    );
    this.#putRecord = this.#db.prepare(
      "INSERT OR REPLACE INTO idempotency (scope, key, fingerprint, outcome, created_at) " +
        "VALUES (?, ?, ?, ?, ?)",
    );
    this.#findRecord = this.#db.prepare(
      "SELECT fingerprint, outcome FROM idempotency WHERE scope = ? AND key = ? AND created_at >= ?",
    );
    this.#expireRecords = this.#db.prepare("DELETE FROM idempotency WHERE created_at < ?");
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

  commit(batch: Batch): void {
    const db = this.#db;
    db.exec("BEGIN IMMEDIATE");
    try {
      for (const change of batch.changes) {
        if (change.type === "update") {
          this.#putGame.run(change.game.id, change.version, JSON.stringify(change.game));
        } else {
          this.#putTombstone.run(
            change.id,
            change.version,
            change.removedAt,
            change.competition ?? null,
          );
        }
      }
      for (const { key, record, at } of batch.records) {
        this.#putRecord.run(
          key.scope,
          key.key,
          record.fingerprint,
          JSON.stringify(record.outcome),
          at,
        );
      }
      if (batch.expire) {
        for (const t of batch.expire.tombstones) this.#forgetTombstone.run(t.id, t.version);
        this.#expireRecords.run(batch.expire.recordsBefore);
      }
      this.#setMeta.run("version", batch.version);
      this.#setMeta.run("horizon", batch.horizon);
      this.#setMeta.run("competition_horizon", batch.competitionHorizon);
      db.exec("COMMIT");
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
  }

  close(): void {
    this.#db.close();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens (creating when missing) the SQLite store at `path`. A fresh file seeds its version from
 * the clock; after that the stored counter carries on, so versions keep going up across restarts.
 */
export function openSqliteStore(path: string, clock: Clock): Store {
  const slash = path.lastIndexOf("/");
  if (slash > 0) Deno.mkdirSync(path.slice(0, slash), { recursive: true });
  return new BoardStore(new SqlitePersistence(path), clock, (flush) => {
    const id = setTimeout(flush, 0);
    return () => clearTimeout(id);
  });
}
