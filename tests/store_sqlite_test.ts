import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { StoreUnavailableError } from "../core/errors.ts";
import { ALL_GAMES, competitionScope } from "../core/scope.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import { SqliteWorker } from "../store/sqlite_offload.ts";
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

Deno.test("sqlite store: stopping the worker waits for the check it is running", async () => {
  // Terminating at once left the check's connection opening and closing after the store had
  // closed, creating files in a directory being removed (seen once in CI as "Directory not empty").
  const dir = await Deno.makeTempDir({ prefix: "scoreline-sqlite-" });
  try {
    const store = openSqliteStore(`${dir}/s.db`, new ManualClock());
    await store.close();
    const worker = new SqliteWorker();
    const answer = worker.call({ kind: "check", path: `${dir}/s.db` });
    await worker.stop();
    assert.deepEqual(await answer, { id: 1, ok: true });
    const late = await worker.call({ kind: "check", path: `${dir}/s.db` }).then((a) => a.ok);
    await worker.stop();
    assert.equal(late, true, "a stopped worker starts again for the next request");
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

Deno.test("sqlite store: a file of schema 1 gains the tombstones' competition, and its data carries on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-sqlite-" });
  try {
    const db = new DatabaseSync(`${dir}/s.db`);
    db.exec(
      `
      CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
      CREATE TABLE games (
        id TEXT PRIMARY KEY, version INTEGER NOT NULL UNIQUE, game TEXT, removed_at INTEGER
      ) STRICT;
      INSERT INTO meta VALUES ('version', 12), ('horizon', 10);
      INSERT INTO games VALUES ('gone', 11, NULL, 1000);
      INSERT INTO games VALUES ('kept', 12, '{"id":"kept","status":"live",` +
        `"home":{"name":"A","score":1},"away":{"name":"B","score":0},"version":12,` +
        `"updatedAt":"2026-11-21T18:00:00.000Z"}', NULL);
      PRAGMA user_version = 1;
    `,
    );
    db.close();
    const clock = new ManualClock();
    const store = openSqliteStore(`${dir}/s.db`, clock);
    assert.equal((await store.get("kept"))?.home.score, 1);
    const resume = await store.resume(10, ALL_GAMES);
    assert.deepEqual(resume, {
      kind: "changes",
      version: 12,
      changes: [
        { type: "removed", version: 11, id: "gone", removedAt: 1000 },
        { type: "update", version: 12, game: await store.get("kept") },
      ],
    });
    await store.write({
      id: "cup",
      mutate: () => ({
        kind: "put",
        body: {
          status: "live",
          competition: "cup",
          home: { name: "A", score: 0 },
          away: { name: "B", score: 0 },
        },
      }),
    });
    await store.write({ id: "cup", mutate: () => ({ kind: "delete" }) });
    await store.close();
    const again = openSqliteStore(`${dir}/s.db`, clock);
    const cup = await again.resume(13, competitionScope("cup"));
    assert.deepEqual(
      cup.kind === "changes" && cup.changes.map((c) => c.type === "removed" && c.competition),
      ["cup"],
    );
    await again.close();
    const check = new DatabaseSync(`${dir}/s.db`);
    assert.deepEqual({ ...check.prepare("PRAGMA user_version").get() }, { user_version: 3 });
    check.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
