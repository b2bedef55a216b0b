/**
 * The SQLite store's worker, from the service's side: work on the file that would stall the
 * event loop (node:sqlite is synchronous) runs there instead, each request answered in turn. The
 * worker is started at the first request and stopped with the store.
 */
import type { Batch } from "./board_store.ts";

export type WorkerRequest =
  | { id: number; kind: "check"; path: string }
  | { id: number; kind: "commit"; path: string; batch: Batch };

/** What the worker answers: done, or what SQLite said (and its result code) when it was not. */
export interface WorkerAnswer {
  id: number;
  ok: boolean;
  detail?: string;
  /** SQLite's result code, when opening, reading or writing the file failed; -1 otherwise. */
  errcode?: number;
}

type Request = WorkerRequest extends infer R ? R extends unknown ? Omit<R, "id"> : never : never;

export class SqliteWorker {
  #worker: Worker | undefined;
  #next = 1;
  #pending = new Map<number, (answer: WorkerAnswer) => void>();
  /** Set by stop() while requests are still pending: called once none is. */
  #idle: (() => void) | undefined;

  /** Sends a request; resolves with its answer (a worker that died answers every one as failed). */
  call(request: Request): Promise<WorkerAnswer> {
    const worker = this.#worker ??= this.#start();
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      worker.postMessage({ ...request, id });
    });
  }

  /**
   * Waits for the requests already sent, then stops the worker. `terminate()` does not wait for
   * the worker's thread: a check it was running would go on opening and closing its own
   * connection after the store was closed, and create files beside a database being moved or
   * removed (a test's temporary directory was left "not empty" that way).
   */
  async stop(): Promise<void> {
    if (this.#pending.size > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#fail("the store's worker was stopped");
  }

  #start(): Worker {
    const worker = new Worker(new URL("./sqlite_worker.ts", import.meta.url).href, {
      type: "module",
    });
    worker.onmessage = (event: MessageEvent<WorkerAnswer>) => {
      const resolve = this.#pending.get(event.data.id);
      this.#pending.delete(event.data.id);
      resolve?.(event.data);
      if (this.#pending.size === 0) this.#settled();
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#worker = undefined;
      this.#fail(`the store's worker failed: ${event.message}`);
    };
    return worker;
  }

  #fail(detail: string): void {
    for (const [id, resolve] of this.#pending) resolve({ id, ok: false, detail, errcode: -1 });
    this.#pending.clear();
    this.#settled();
  }

  #settled(): void {
    const idle = this.#idle;
    this.#idle = undefined;
    idle?.();
  }
}
