/**
 * Operating the SQLite store with the real main.ts, as an operator does: `deno task backup` while
 * the service takes writes, a service started on the copy, two services on one file, and the file
 * deleted under a running service.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { call, gameBody } from "./support/http.ts";
import { type Child, spawnMain } from "./support/process.ts";

const TOKEN = "backup-test-token-0000";
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const WRITERS = 4;

function env(path: string): Record<string, string> {
  return { SCORELINE_DATA: path, SCORELINE_TOKENS: TOKEN, SCORELINE_WRITE_RATE: "0" };
}

/** Writers that PUT a new game each time until stopped, recording every acknowledgement. */
function startWriters(url: string) {
  const acked: { id: string; version: number }[] = [];
  const watchers: { count: number; resolve: () => void }[] = [];
  let stop = false;
  const writer = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const id = `w${w}-${i}`;
      const answer = await putGame(url, id, i);
      assert.equal(answer.status, 201, answer.text);
      acked.push({ id, version: answer.json.version });
      for (const watcher of watchers.filter((x) => acked.length >= x.count)) watcher.resolve();
    }
  };
  const done = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  return {
    acked,
    /** Resolves once `count` writes in all have been acknowledged. */
    reach: (count: number) =>
      acked.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => watchers.push({ count, resolve })),
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** A PUT of a new game with the test's token. */
function putGame(url: string, id: string, home = 0) {
  return call(url, `/api/games/${id}`, { method: "PUT", token: TOKEN, body: gameBody(home) });
}

/** A directory of the test's own, removed however the test ends. */
async function inDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-backup-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function stopped(child: Child): Promise<void> {
  child.kill("SIGTERM");
  const status = await child.exited;
  assert.equal(status.code, 0, child.lines.join("\n"));
}

/** main.ts on the file at `path` while `fn` runs, stopped (and its exit checked) after. */
async function serving(path: string, fn: (child: Child) => Promise<void>): Promise<void> {
  const child = await spawnMain(env(path));
  try {
    await fn(child);
  } finally {
    await stopped(child);
  }
}

Deno.test("deno task backup while writers commit makes a copy that opens, passes integrity_check and has every write acknowledged before it began", async () => {
  await inDir(async (dir) => {
    const live = `${dir}/live.db`;
    const copy = `${dir}/copy.db`;
    const child = await spawnMain(env(live));
    const writers = startWriters(child.url);
    await writers.reach(200);
    const before = [...writers.acked];
    const backup = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--config", CONFIG, "backup", copy],
      env: { SCORELINE_DATA: live, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(backup.stdout) + new TextDecoder().decode(backup.stderr);
    await writers.reach(writers.acked.length + 100); // the service went on taking writes
    await writers.stop();
    assert.equal(backup.code, 0, said);
    assert.match(said, new RegExp(`copied to ${copy}: \\d+ games`));
    const total = (await call(child.url, "/api/games")).json.games.length;
    await stopped(child);

    const db = new DatabaseSync(copy, { readOnly: true });
    const check = db.prepare("PRAGMA integrity_check").all().map((r) => r.integrity_check);
    db.close();
    assert.deepEqual(check, ["ok"]);

    await serving(copy, async (restored) => {
      const games = (await call(restored.url, "/api/games")).json.games as {
        id: string;
        version: number;
      }[];
      const byId = new Map(games.map((g) => [g.id, g.version]));
      const missing = before.filter((a) => byId.get(a.id) !== a.version);
      assert.deepEqual(missing, [], "every write acknowledged before the backup is in the copy");
      assert.ok(games.length < total, "a snapshot: the writes after it are not in the copy");
      const next = await putGame(restored.url, "after-restore");
      assert.equal(next.status, 201);
      const newest = Math.max(...writers.acked.map((a) => a.version));
      assert.ok(next.json.version > newest, "versions never repeat after a restore");
    });
  });
});

Deno.test("a second service on the same file refuses to start with one clear line, and the first goes on", async () => {
  await inDir(async (dir) => {
    const path = `${dir}/s.db`;
    await serving(path, async (first) => {
      const refused = await spawnMain(env(path)).then(
        async (second) => {
          await stopped(second);
          return "it started";
        },
        (error: Error) => error.message,
      );
      assert.match(refused, /exited with 1 before listening/);
      const lines = refused.split("\n").filter((l) => l.includes("cannot open"));
      assert.equal(lines.length, 1, refused);
      assert.match(lines[0]!, new RegExp(`cannot open ${path}: .*${path}\\.lock is locked`));
      const put = await putGame(first.url, "a");
      assert.equal(put.status, 201);
    });
  });
});

Deno.test("a service whose file is deleted answers writes and /readyz 503 and logs one line naming the file", async () => {
  await inDir(async (dir) => {
    const path = `${dir}/s.db`;
    await serving(path, async (child) => {
      const put = (id: string) => putGame(child.url, id);
      assert.equal((await put("a")).status, 201);
      await Deno.remove(path);
      for (const id of ["b", "c", "d"]) {
        const refused = await put(id);
        assert.equal(refused.status, 503);
        assert.equal(refused.headers.get("content-type"), "application/problem+json");
        assert.ok(Number(refused.headers.get("retry-after")) > 0);
      }
      const ready = await call(child.url, "/readyz");
      assert.equal(ready.status, 503);
      const line = JSON.parse(await child.logged(/"msg":"the store is lost/));
      assert.equal(line.level, "error");
      assert.equal(line.file, path);
      assert.match(line.reason, /was deleted/);
      const lost = child.lines.filter((l) => /"msg":"the store is lost/.test(l));
      assert.equal(lost.length, 1, "one line, not one per request");
    });
  });
});
