/**
 * The SQLite file lost under a running service: deleted, replaced, its write-ahead log deleted,
 * or pages overwritten with garbage. Without these checks writes would still be answered 2xx and
 * be gone at the next start, and /readyz would stay 200. With them: no write is acknowledged that
 * a restart would lose, writes and /readyz answer 503, and one log line names the file. Also the
 * commit errors that are not a loss (a lock held by another program): 503, and /readyz 503 only
 * while they keep happening.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { StoreUnavailableError } from "../core/errors.ts";
import { ALL_GAMES } from "../core/scope.ts";
import { importedGame } from "../core/import.ts";
import { createLogger } from "../core/log.ts";
import { replaceGame, seedVersion } from "../core/scoreboard.ts";
import { gameInputSchema, validate } from "../core/schema.ts";
import { HEALTH_EVERY_MS, openSqliteStore } from "../store/sqlite.ts";
import { backupSqlite } from "../store/sqlite_backup.ts";
import type { Store } from "../store/store.ts";
import { ManualClock } from "./support/clock.ts";
import { call, gameBody } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

const body = (() => {
  const r = validate(gameInputSchema, gameBody());
  if (!r.ok) throw new Error("bad fixture");
  return r.value;
})();

const put = (store: Store, id: string) => store.write({ id, mutate: replaceGame(body, {}) });

/** A store on a file of its own, and the log lines it writes. */
async function withStore(
  fn: (t: { store: Store; path: string; clock: ManualClock; log: Log }) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-loss-" });
  const clock = new ManualClock();
  const log = new Log();
  const path = `${dir}/s.db`;
  const store = openSqliteStore(path, clock, log.logger);
  try {
    await fn({ store, path, clock, log });
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Collects log lines; `next` resolves on the first (seen or coming) that matches. */
class Log {
  lines: { level: string; msg: string; file?: string; reason?: string }[] = [];
  #waiting: { pattern: RegExp; resolve: () => void }[] = [];
  logger = createLogger("info", (line) => {
    const parsed = JSON.parse(line);
    this.lines.push(parsed);
    for (const w of this.#waiting.filter((w) => w.pattern.test(parsed.msg))) w.resolve();
  });

  /** The time limit only turns a hang into a failure. */
  next(pattern: RegExp, guardMs = 20_000): Promise<void> {
    if (this.lines.some((l) => pattern.test(l.msg))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`no log line ${pattern}`)), guardMs);
      this.#waiting.push({
        pattern,
        resolve: () => {
          clearTimeout(guard);
          resolve();
        },
      });
    });
  }

  get errors() {
    return this.lines.filter((l) => l.level === "error");
  }
}

const LOST = /the store is lost/;

Deno.test("a write committed after the file was deleted is refused, not acknowledged, and one line names the file", async () => {
  await withStore(async ({ store, path, log }) => {
    await put(store, "a");
    await Deno.remove(path);
    await assert.rejects(put(store, "b"), StoreUnavailableError);
    await assert.rejects(put(store, "c"), /the store is lost/);
    assert.equal(await store.ready(), false);
    assert.equal((await store.snapshot()).games.length, 1, "the refused writes are not shown");
    assert.equal(log.errors.length, 1, "one line, not one per write");
    assert.match(log.errors[0]!.msg, LOST);
    assert.equal(log.errors[0]!.file, path);
    assert.match(log.errors[0]!.reason!, new RegExp(`${path} was deleted`));
  });
});

Deno.test("a deleted write-ahead log is a lost store too", async () => {
  await withStore(async ({ store, path }) => {
    await put(store, "a");
    await Deno.remove(`${path}-wal`);
    await assert.rejects(put(store, "b"), /-wal was deleted/);
    assert.equal(await store.ready(), false);
  });
});

Deno.test("a file replaced under the service makes /readyz 503 at once, and the timer says so in the log with no request at all", async () => {
  await withStore(async ({ store, path, clock, log }) => {
    await put(store, "a");
    const other = `${path}.other`;
    await Deno.writeFile(other, new Uint8Array(4096));
    await Deno.rename(other, path);
    assert.equal(log.errors.length, 0);
    clock.advance(HEALTH_EVERY_MS);
    await log.next(LOST);
    assert.match(log.errors[0]!.reason!, /was replaced by another file/);
    assert.equal(await store.ready(), false);
    await assert.rejects(put(store, "b"), StoreUnavailableError);
  });
});

Deno.test("garbage over a page of the file is found by the integrity check: writes and /readyz answer 503", async () => {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-loss-" });
  const clock = new ManualClock();
  const log = new Log();
  const path = `${dir}/s.db`;
  try {
    const first = openSqliteStore(path, clock);
    for (let i = 0; i < 20; i++) await put(first, `g${i}`);
    await first.close(); // the log is checkpointed into the file: its pages are the data now
    await using server = await startServer({
      clock,
      store: openSqliteStore(path, clock, log.logger),
    });
    assert.equal((await call(server.url, "/readyz")).status, 200);
    // A page no later commit rewrites (a commit's pages go to the log, which would hide it):
    // the root of the idempotency table, which no request here uses.
    const reader = new DatabaseSync(path, { readOnly: true });
    const { rootpage, size } = reader.prepare(
      "SELECT rootpage, (SELECT page_size FROM pragma_page_size) AS size FROM sqlite_schema " +
        "WHERE name = 'idempotency'",
    ).get() as { rootpage: number; size: number };
    reader.close();
    const file = await Deno.open(path, { write: true });
    await file.seek((rootpage - 1) * size, Deno.SeekMode.Start);
    await file.write(crypto.getRandomValues(new Uint8Array(size)));
    file.close();
    // The service's own connection answers from its page cache and would never notice.
    const unnoticed = await call(server.url, "/api/games/late", {
      method: "PUT",
      token: TOKEN,
      body: gameBody(),
    });
    assert.equal(unnoticed.status, 201);

    clock.advance(HEALTH_EVERY_MS);
    await log.next(LOST);
    assert.match(log.errors[0]!.reason!, /integrity check of .* failed/);
    const write = await call(server.url, "/api/games/x", {
      method: "PUT",
      token: TOKEN,
      body: gameBody(),
    });
    assert.equal(write.status, 503);
    assert.equal(write.headers.get("content-type"), "application/problem+json");
    assert.ok(Number(write.headers.get("retry-after")) > 0);
    const ready = await call(server.url, "/readyz");
    assert.equal(ready.status, 503);
    const read = await call(server.url, "/api/games");
    assert.equal(read.status, 200, "what was acknowledged is still served from memory");
    assert.equal(read.json.games.length, 21);
    assert.equal(log.errors.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a commit refused by a lock another program holds is 503 and changes nothing, an import too; /readyz is 503 only while they keep failing", async () => {
  await withStore(async ({ store, path, log }) => {
    await put(store, "a");
    const before = await store.snapshot();
    const intruder = new DatabaseSync(path);
    intruder.exec("BEGIN IMMEDIATE");
    try {
      await assert.rejects(put(store, "b"), StoreUnavailableError);
      await assert.rejects(
        store.importGames({
          games: ["c", "a"].map((id) => {
            const line = importedGame({ id, ...gameBody() }, 0);
            if (!line.ok) throw new Error("bad fixture");
            return line.game;
          }),
        }),
        StoreUnavailableError,
      );
      assert.equal(await store.ready(), true, "two failures may be a hiccup");
      await assert.rejects(put(store, "d"), StoreUnavailableError);
      assert.equal(await store.ready(), false, "three in a row are not");
      assert.deepEqual(await store.snapshot(), before);
    } finally {
      intruder.exec("ROLLBACK");
      intruder.close();
    }
    await put(store, "e");
    assert.equal(await store.ready(), true, "a commit that works makes it ready again");
    assert.deepEqual(log.errors, [], "a lock held for a while is not a lost store");
    const check = new DatabaseSync(path, { readOnly: true });
    const ids = check.prepare("SELECT id FROM games ORDER BY id").all().map((r) => r.id);
    check.close();
    assert.deepEqual(ids, ["a", "e"], "nothing of the refused import reached the file");
  });
});

Deno.test("a second store on a file in use is refused, even through a symlink, naming the lock file", async () => {
  await withStore(async ({ path }) => {
    const link = `${path}.link`;
    await Deno.symlink(path, link);
    for (const other of [path, link]) {
      assert.throws(
        () => openSqliteStore(other, new ManualClock()),
        (error: Error) =>
          error instanceof StoreUnavailableError &&
          error.message.includes(`${path}.lock is locked`) &&
          error.message.includes("two services must never share one file"),
      );
    }
  });
});

Deno.test("the first start on a backup moves versions past the clock and makes older cursors get a snapshot; later starts do not", async () => {
  await withStore(async ({ store, path, clock }) => {
    await put(store, "a");
    const { version: backedUp } = await store.snapshot();
    const target = `${path}.backup`;
    const result = await backupSqlite(path, target, clock);
    assert.deepEqual([result.games, result.version], [1, backedUp]);
    await put(store, "lost-after-backup"); // a viewer saw this version; the backup has not
    const seen = (await store.snapshot()).version;

    clock.advance(60_000);
    const restored = openSqliteStore(target, clock);
    try {
      const { version, games } = await restored.snapshot();
      assert.deepEqual(games.map((g) => g.id), ["a"]);
      assert.ok(version >= seedVersion(clock.now()) && version > seen);
      assert.equal((await restored.resume(seen, ALL_GAMES)).kind, "snapshot", "an old cursor");
      const next = await put(restored, "b");
      assert.ok(next.kind === "created" && next.game.version === version + 1);
    } finally {
      await restored.close();
    }
    clock.advance(60_000);
    const again = openSqliteStore(target, clock);
    try {
      const { version } = await again.snapshot();
      assert.equal(
        (await again.resume(version - 1, ALL_GAMES)).kind,
        "changes",
        "a normal restart",
      );
    } finally {
      await again.close();
    }
  });
});
