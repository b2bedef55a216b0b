/**
 * What keeps the SQLite store honest about its file: one process per file (an OS lock), and
 * noticing when the file is no longer the one the store committed to (deleted, replaced,
 * corrupted), so that no write is acknowledged that would not be there after a restart.
 */
import type { Clock } from "../core/clock.ts";
import type { SqliteWorker } from "./sqlite_offload.ts";

/**
 * SQLite's primary result codes that mean the storage itself is broken, not a passing
 * condition: SQLITE_IOERR (10), SQLITE_CORRUPT (11), SQLITE_NOTADB (26). A full disk
 * (SQLITE_FULL) or a lock held by another program (SQLITE_BUSY) may pass, and are not here.
 */
const BROKEN_CODES = new Set([10, 11, 26]);

/** Whether a node:sqlite error says the file is broken (see BROKEN_CODES). */
export function brokenStorage(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" && BROKEN_CODES.has(code & 0xff);
}

/**
 * Takes the exclusive OS lock (flock) on `<file>.lock`, next to the file's real path so that a
 * second service reaching it through a symlink meets the same lock. The kernel releases it when
 * the process dies, so a crash never leaves a stale lock. Throws, naming the lock file, when
 * another process holds it.
 */
export function takeFileLock(path: string): { file: Deno.FsFile; path: string } {
  const lockPath = lockPathOf(path);
  const file = Deno.openSync(lockPath, { read: true, write: true, create: true });
  let locked = false;
  try {
    locked = file.tryLockSync(true);
  } finally {
    if (!locked) file.close();
  }
  if (!locked) {
    throw new Error(
      `another process has this store open (${lockPath} is locked); ` +
        "two services must never share one file",
    );
  }
  return { file, path: lockPath };
}

/** Where the lock of the store at `path` is: beside the file's real path. */
export function lockPathOf(path: string): string {
  return `${realPath(path)}.lock`;
}

/** The file's real path, or its directory's real path and its name when it does not exist yet. */
function realPath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    const slash = path.lastIndexOf("/");
    const dir = slash < 0 ? "." : path.slice(0, slash) || "/";
    return `${Deno.realPathSync(dir)}/${path.slice(slash + 1)}`;
  }
}

/**
 * The device and inode of some files, as first seen. `changed()` says which one was deleted or
 * replaced since. A file that does not exist yet (SQLite creates its write-ahead log with the
 * first transaction) is taken when it first appears.
 */
export class FileIdentity {
  #seen = new Map<string, { dev: number; ino: number | null } | null>();

  constructor(files: readonly string[]) {
    for (const file of files) this.#seen.set(file, identityOf(file) ?? null);
  }

  /**
   * Why a file is no longer the one first seen, or null. A stat per file: microseconds. A stat
   * that fails for another reason than a missing file (permissions) tells nothing, and is passed.
   */
  changed(): string | null {
    for (const [file, seen] of this.#seen) {
      const now = identityOf(file);
      if (now === undefined) continue;
      if (seen === null) {
        if (now !== null) this.#seen.set(file, now);
        continue;
      }
      if (now === null) return `${file} was deleted while the service was running`;
      if (now.dev !== seen.dev || now.ino !== seen.ino) {
        return `${file} was replaced by another file while the service was running`;
      }
    }
    return null;
  }
}

/** A file's device and inode; null when it does not exist; undefined when that cannot be told. */
export function identityOf(file: string): { dev: number; ino: number | null } | null | undefined {
  try {
    const info = Deno.statSync(file);
    return { dev: info.dev, ino: info.ino };
  } catch (error) {
    return error instanceof Deno.errors.NotFound ? null : undefined;
  }
}

/**
 * `PRAGMA quick_check` of the file on a connection of its own, in the store's worker: the
 * service's own connection would answer from its page cache and never see the disk, and a check
 * reads the whole file (about 200 ms for 60 MB here), which must not stall the event loop. One
 * check at a time, and after a check that took d, none for 100 × d, so that checking a large
 * file never takes more than 1 % of the time (and of the disk's reads).
 */
export class IntegrityProbe {
  #running = false;
  #notBefore = 0;

  constructor(
    private readonly path: string,
    private readonly worker: SqliteWorker,
    private readonly clock: Clock,
  ) {}

  /** Starts a check unless one is running or due later; `onLost` hears of a file that failed. */
  run(onLost: (reason: string) => void): void {
    if (this.#running || this.clock.now() < this.#notBefore) return;
    this.#running = true;
    const started = performance.now();
    void this.worker.call({ kind: "check", path: this.path }).then((answer) => {
      this.#running = false;
      this.#notBefore = this.clock.now() + 100 * (performance.now() - started);
      // A file that cannot be opened right now (say, no free file descriptor), or a worker that
      // was stopped, is no proof that the file is broken: only a failed check, or a
      // broken-storage error, is.
      if (answer.ok || (answer.errcode !== undefined && !brokenStorage(answer))) return;
      onLost(`the integrity check of ${this.path} failed: ${answer.detail}`);
    });
  }
}
