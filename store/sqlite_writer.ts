/**
 * The SQLite file's tables, and how a batch (board_store.ts Batch) is written to them in one
 * transaction. Used on the service's own connection for writes, and on a connection of the
 * worker's for an import (sqlite_worker.ts), so both write exactly the same rows.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { AUDIT_MAX_PER_GAME } from "../core/audit.ts";
import type { Batch } from "./board_store.ts";

/**
 * 2: tombstones keep the competition the game had (`games.competition`, added to a file of
 * schema 1 when it is opened). 3: the `audit` table.
 */
export const SCHEMA_VERSION = 3;

export const SCHEMA = `
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
  -- Each game's history (core/audit.ts): the entry as JSON, its version and time (ms).
  CREATE TABLE IF NOT EXISTS audit (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    at INTEGER NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (id, version)
  ) STRICT;
  CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
`;

/** Sets one meta row (version, horizon, a backup's mark). */
export const SET_META = "INSERT INTO meta (name, value) VALUES (?, ?) " +
  "ON CONFLICT (name) DO UPDATE SET value = excluded.value";

export class BatchWriter {
  #putGame: StatementSync;
  #putTombstone: StatementSync;
  #forgetTombstone: StatementSync;
  #setMeta: StatementSync;
  #putRecord: StatementSync;
  #expireRecords: StatementSync;
  #putAudit: StatementSync;
  #trimAudit: StatementSync;
  #expireAudit: StatementSync;

  constructor(private readonly db: DatabaseSync) {
    this.#putGame = db.prepare(
      "INSERT INTO games (id, version, game, removed_at, competition) " +
        "VALUES (?, ?, ?, NULL, NULL) " +
        "ON CONFLICT (id) DO UPDATE SET version = excluded.version, game = excluded.game, " +
        "removed_at = NULL, competition = NULL",
    );
    this.#putTombstone = db.prepare(
      "INSERT INTO games (id, version, game, removed_at, competition) VALUES (?, ?, NULL, ?, ?) " +
        "ON CONFLICT (id) DO UPDATE SET version = excluded.version, game = NULL, " +
        "removed_at = excluded.removed_at, competition = excluded.competition",
    );
    this.#forgetTombstone = db.prepare(
      "DELETE FROM games WHERE id = ? AND version = ? AND game IS NULL",
    );
    this.#setMeta = db.prepare(SET_META);
    this.#putRecord = db.prepare(
      "INSERT OR REPLACE INTO idempotency (scope, key, fingerprint, outcome, created_at) " +
        "VALUES (?, ?, ?, ?, ?)",
    );
    this.#expireRecords = db.prepare("DELETE FROM idempotency WHERE created_at < ?");
    this.#putAudit = db.prepare(
      "INSERT OR REPLACE INTO audit (id, version, at, entry) VALUES (?, ?, ?, ?)",
    );
    // Keeps the newest AUDIT_MAX_PER_GAME of one game: deletes those below the last one kept.
    this.#trimAudit = db.prepare(
      "DELETE FROM audit WHERE id = ? AND version < (SELECT version FROM audit WHERE id = ? " +
        `ORDER BY version DESC LIMIT 1 OFFSET ${AUDIT_MAX_PER_GAME - 1})`,
    );
    this.#expireAudit = db.prepare("DELETE FROM audit WHERE at < ?");
  }

  /** One transaction: all of the batch, or (having thrown) none of it. */
  commit(batch: Batch): void {
    const db = this.db;
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
      for (const { id, entry } of batch.audit) {
        this.#putAudit.run(id, entry.version, Date.parse(entry.at), JSON.stringify(entry));
      }
      for (const id of new Set(batch.audit.map((row) => row.id))) this.#trimAudit.run(id, id);
      if (batch.expire) {
        for (const t of batch.expire.tombstones) this.#forgetTombstone.run(t.id, t.version);
        this.#expireRecords.run(batch.expire.recordsBefore);
        this.#expireAudit.run(batch.expire.auditBefore);
      }
      this.#setMeta.run("version", batch.version);
      this.#setMeta.run("horizon", batch.horizon);
      this.#setMeta.run("competition_horizon", batch.competitionHorizon);
      db.exec("COMMIT");
    } catch (error) {
      try {
        if (db.isTransaction) db.exec("ROLLBACK");
      } catch {
        // A file too broken to roll back is reported by the commit's own error.
      }
      throw error;
    }
  }
}
