/**
 * A consistent copy of a live SQLite store, taken while the service runs and takes writes. The
 * copy is made with SQLite's online backup (node:sqlite `backup`) on a read-only connection of
 * its own, inside one read transaction and in one step: it holds exactly the transactions
 * committed before it began (every write acknowledged by then), and in WAL mode it neither
 * blocks the service's writes nor is blocked by them. (`VACUUM INTO` would do too, but Deno
 * refuses ATTACH, which it uses, to a process without --allow-all.) The copy is written next to
 * the target, checked, synced, marked (BACKUP_MARK) and only then renamed into place, so the
 * target is either the previous file or a complete copy, never half of one.
 */
import { backup, DatabaseSync } from "node:sqlite";
import type { Clock } from "../core/clock.ts";
import { BACKUP_MARK } from "./sqlite.ts";
import { identityOf, lockPathOf } from "./sqlite_health.ts";

export interface BackupResult {
  /** Where the copy is. */
  target: string;
  /** Games in it, and the version it is consistent with. */
  games: number;
  version: number;
  bytes: number;
  milliseconds: number;
}

/** Copies the store at `source` to `target` (replacing it). Throws with one line saying why. */
export async function backupSqlite(
  source: string,
  target: string,
  clock: Clock,
): Promise<BackupResult> {
  const started = performance.now();
  if (identityOf(source) === null) throw new Error(`there is no SQLite store at ${source}`);
  refuseOwnFiles(source, target);
  const temporary = `${target}.tmp-${Deno.pid}`;
  removeIfThere(temporary);
  try {
    const live = new DatabaseSync(source, { readOnly: true });
    try {
      // The snapshot: a read transaction held across the copy, which takes every page at once
      // (rate -1), so no commit of the service can fall between two parts of it.
      live.exec("BEGIN");
      live.prepare("SELECT count(*) FROM meta").get();
      await backup(live, temporary, { rate: -1 });
      live.exec("COMMIT");
    } finally {
      live.close();
    }
    const copy = new DatabaseSync(temporary);
    let games: number;
    let version: number;
    try {
      const check = copy.prepare("PRAGMA integrity_check").all().map((r) => r.integrity_check);
      if (check.length !== 1 || check[0] !== "ok") {
        throw new Error(`the copy failed its integrity check: ${check.slice(0, 3).join("; ")}`);
      }
      games = Number(
        copy.prepare("SELECT count(*) AS n FROM games WHERE game IS NOT NULL").get()!.n,
      );
      version = Number(
        copy.prepare("SELECT value FROM meta WHERE name = 'version'").get()?.value ?? 0,
      );
      // A plain file, without a write-ahead log beside it to lose when it is copied around; the
      // service turns WAL on again when it opens it.
      copy.exec("PRAGMA journal_mode = DELETE");
      copy.prepare(
        "INSERT INTO meta (name, value) VALUES (?, ?) " +
          "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      ).run(BACKUP_MARK, clock.now());
    } finally {
      copy.close();
    }
    syncFile(temporary);
    Deno.renameSync(temporary, target);
    syncDirectory(target);
    return {
      target,
      games,
      version,
      bytes: Deno.statSync(target).size,
      milliseconds: Math.round(performance.now() - started),
    };
  } finally {
    removeIfThere(temporary);
  }
}

/** A backup written over the store (or its log, or its lock) would destroy what it copies. */
function refuseOwnFiles(source: string, target: string): void {
  const theirs = identityOf(target);
  if (!theirs) return;
  for (const file of [source, `${source}-wal`, `${source}-shm`, lockPathOf(source)]) {
    const ours = identityOf(file);
    if (ours && ours.dev === theirs.dev && ours.ino === theirs.ino) {
      throw new Error(`${target} is the store's own ${file}: choose another target`);
    }
  }
}

function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function syncFile(path: string): void {
  const file = Deno.openSync(path, { read: true, write: true });
  try {
    file.syncSync();
  } finally {
    file.close();
  }
}

/** Makes the rename itself durable; where a directory cannot be opened, the rename stands. */
function syncDirectory(path: string): void {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : path.slice(0, slash) || "/";
  try {
    const handle = Deno.openSync(dir, { read: true });
    try {
      handle.syncSync();
    } finally {
      handle.close();
    }
  } catch {
    // Not every platform lets a directory be opened and synced.
  }
}
