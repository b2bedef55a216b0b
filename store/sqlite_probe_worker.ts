/**
 * The integrity probe's worker (sqlite_health.ts IntegrityProbe): opens the file read-only on a
 * connection of its own, so that nothing is answered from the service's page cache, runs
 * `PRAGMA quick_check`, and says what it found. A read-only connection never checkpoints nor
 * deletes the write-ahead log, and in WAL mode it does not block the service's writes.
 */
import { DatabaseSync } from "node:sqlite";
import type { ProbeAnswer } from "./sqlite_health.ts";

/** The worker's side of the messages, typed here so this module needs no worker lib. */
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<{ path: string }>) => void) | null;
  postMessage(answer: ProbeAnswer): void;
};

/** Problems reported, at most: one is enough to know, a few help whoever reads the log. */
const MAX_PROBLEMS = 3;

scope.onmessage = (event) => {
  scope.postMessage(check(event.data.path));
};

function check(path: string): ProbeAnswer {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    const problems = db.prepare(`PRAGMA quick_check(${MAX_PROBLEMS})`).all()
      .map((row) => String(row.quick_check))
      .filter((line) => line !== "ok");
    return problems.length === 0 ? { ok: true } : { ok: false, detail: problems.join("; ") };
  } catch (error) {
    const errcode = (error as { errcode?: unknown }).errcode;
    return {
      ok: false,
      detail: error instanceof Error ? error.message : String(error),
      errcode: typeof errcode === "number" ? errcode : -1,
    };
  } finally {
    db?.close();
  }
}
