/**
 * The memory store: nothing survives the process. For tests, demos and `SCORELINE_DATA=:memory:`.
 * Its versions still never repeat across restarts, because a fresh store seeds from the clock.
 */
import type { Clock } from "../core/clock.ts";
import { claimId, type IdempotencyRecord } from "../core/idempotency.ts";
import type { IdempotencyKey, Store } from "./store.ts";
import { type Batch, BoardStore, type Persistence } from "./board_store.ts";

class MemoryPersistence implements Persistence {
  #records = new Map<string, { record: IdempotencyRecord; at: number }>();

  load() {
    return { version: null, horizon: null, changes: [] };
  }

  findRecord(key: IdempotencyKey, notBefore: number) {
    const found = this.#records.get(claimId(key));
    return found && found.at >= notBefore ? found.record : undefined;
  }

  commit(batch: Batch): void {
    for (const { key, record, at } of batch.records) {
      this.#records.set(claimId(key), { record, at });
    }
    if (batch.expire) {
      const before = batch.expire.recordsBefore;
      for (const [id, { at }] of this.#records) if (at < before) this.#records.delete(id);
    }
  }

  close(): void {
    this.#records.clear();
  }
}

export function openMemoryStore(clock: Clock): Store {
  return new BoardStore(new MemoryPersistence(), clock, (flush) => {
    let cancelled = false;
    queueMicrotask(() => cancelled || flush());
    return () => (cancelled = true);
  });
}
