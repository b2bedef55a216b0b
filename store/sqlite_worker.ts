/**
 * The SQLite store's worker (sqlite_offload.ts): the work on the file that must not stall the
 * service's event loop, each on a connection of its own, opened for it and closed after.
 *
 * - `check`: `PRAGMA quick_check` on a read-only connection, so nothing is answered from the
 *   service's page cache. A read-only connection never checkpoints nor deletes the write-ahead
 *   log, and in WAL mode it does not block the service's writes.
 * - `commit`: an import's batch in one transaction (sqlite_writer.ts), the same rows the service
 *   writes, while the service holds back its own commits (board_store.ts).
 */
import { DatabaseSync } from "node:sqlite";
import type { Batch } from "./board_store.ts";
import type { WorkerAnswer, WorkerRequest } from "./sqlite_offload.ts";
import { BatchWriter } from "./sqlite_writer.ts";

/** The worker's side of the messages, typed here so this module needs no worker lib. */
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(answer: WorkerAnswer): void;
};

/** Problems a check reports, at most: one is enough to know, a few help whoever reads the log. */
const MAX_PROBLEMS = 3;

scope.onmessage = ({ data }) => {
  let answer: WorkerAnswer;
  try {
    answer = data.kind === "check"
      ? check(data.path)
      : (commit(data.path, data.batch), { id: data.id, ok: true });
    answer.id = data.id;
  } catch (error) {
    const errcode = (error as { errcode?: unknown }).errcode;
    answer = {
      id: data.id,
      ok: false,
      detail: error instanceof Error ? error.message : String(error),
      errcode: typeof errcode === "number" ? errcode : -1,
    };
  }
  scope.postMessage(answer);
};

function check(path: string): WorkerAnswer {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const problems = db.prepare(`PRAGMA quick_check(${MAX_PROBLEMS})`).all()
      .map((row) => String(row.quick_check))
      .filter((line) => line !== "ok");
    return problems.length === 0
      ? { id: 0, ok: true }
      : { id: 0, ok: false, detail: problems.join("; ") };
  } finally {
    db.close();
  }
}

function commit(path: string, batch: Batch): void {
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA synchronous = FULL");
    new BatchWriter(db).commit(batch);
  } finally {
    db.close();
  }
}
