import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { StoreUnavailableError } from "../core/errors.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import { ManualClock } from "./support/clock.ts";
import { storeConformance } from "./store_conformance.ts";

storeConformance("sqlite", async () => {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-sqlite-" });
  return {
    open: (clock) => Promise.resolve(openSqliteStore(`${dir}/nested/scoreline.db`, clock)),
    persistent: true,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

Deno.test("sqlite store: the file is in WAL mode with synchronous=FULL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-sqlite-" });
  try {
    const store = openSqliteStore(`${dir}/s.db`, new ManualClock());
    await store.close();
    const db = new DatabaseSync(`${dir}/s.db`);
    assert.deepEqual({ ...db.prepare("PRAGMA journal_mode").get() }, { journal_mode: "wal" });
    db.close();
    const source = await Deno.readTextFile(new URL("../store/sqlite.ts", import.meta.url));
    assert.match(source, /PRAGMA synchronous = FULL/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: a second process cannot open a file in use", async () => {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-sqlite-" });
  try {
    const store = openSqliteStore(`${dir}/s.db`, new ManualClock());
    await store.write({
      id: "a",
      mutate: () => ({
        kind: "put",
        body: { status: "live", home: { name: "A", score: 0 }, away: { name: "B", score: 0 } },
      }),
    });
    // The lock on <file>.lock is per open file, so a second store stands in for a second process
    // (tests/backup_test.ts runs two real ones).
    assert.throws(() => openSqliteStore(`${dir}/s.db`, new ManualClock()), StoreUnavailableError);
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: a file from a newer schema is refused, not rewritten", async () => {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-sqlite-" });
  try {
    const db = new DatabaseSync(`${dir}/s.db`);
    db.exec("PRAGMA user_version = 99");
    db.close();
    assert.throws(() => openSqliteStore(`${dir}/s.db`, new ManualClock()), /newer Scoreline/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
