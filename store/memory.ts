/**
 * The memory store: nothing survives the process. For tests, demos and `SCORELINE_DATA=:memory:`.
 * Its versions still never repeat across restarts, because a fresh store seeds from the clock.
 */
import { AUDIT_MAX_PER_GAME, type AuditEntry } from "../core/audit.ts";
import type { Clock } from "../core/clock.ts";
import { claimId, type IdempotencyRecord } from "../core/idempotency.ts";
import type { IdempotencyKey, Store } from "./store.ts";
import { type Batch, BoardStore, type Persistence } from "./board_store.ts";

class MemoryPersistence implements Persistence {
  readonly location = ":memory:";
  #records = new Map<string, { record: IdempotencyRecord; at: number }>();
  /** Each game's history, oldest first. */
  #audit = new Map<string, AuditEntry[]>();

  load() {
    return { version: null, horizon: null, changes: [] };
  }

  findRecord(key: IdempotencyKey, notBefore: number) {
    const found = this.#records.get(claimId(key));
    return found && found.at >= notBefore ? found.record : undefined;
  }

  history(id: string, notBefore: number): AuditEntry[] {
    return (this.#audit.get(id) ?? []).filter((entry) => Date.parse(entry.at) >= notBefore);
  }

  commit(batch: Batch): void {
    for (const { key, record, at } of batch.records) {
      this.#records.set(claimId(key), { record, at });
    }
    for (const { id, entry } of batch.audit) {
      let entries = this.#audit.get(id);
      if (!entries) this.#audit.set(id, entries = []);
      entries.push(entry);
      if (entries.length > AUDIT_MAX_PER_GAME) entries.shift();
    }
    if (batch.expire) {
      const before = batch.expire.recordsBefore;
      for (const [id, { at }] of this.#records) if (at < before) this.#records.delete(id);
      const auditBefore = batch.expire.auditBefore;
      for (const [id, entries] of this.#audit) {
        const kept = entries.filter((entry) => Date.parse(entry.at) >= auditBefore);
        if (kept.length === 0) this.#audit.delete(id);
        else if (kept.length < entries.length) this.#audit.set(id, kept);
      }
    }
  }

  close(): void {
    this.#records.clear();
    this.#audit.clear();
  }
}

export function openMemoryStore(clock: Clock): Store {
  return new BoardStore(new MemoryPersistence(), clock, (flush) => {
    let cancelled = false;
    queueMicrotask(() => cancelled || flush());
    return () => (cancelled = true);
  });
}
