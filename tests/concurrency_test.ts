/**
 * No lost update: concurrent scorers on one game, through the real HTTP API, on both in-process
 * stores. The write rate limit is off here: this is about correctness under contention.
 */
import assert from "node:assert/strict";
import { systemClock } from "../core/clock.ts";
import { openMemoryStore } from "../store/memory.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/store.ts";
import { call, gameBody } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

const CLIENTS = 8;

const stores: [string, () => Promise<{ store: Store; cleanup: () => Promise<void> }>][] = [
  [
    "memory",
    () =>
      Promise.resolve({ store: openMemoryStore(systemClock()), cleanup: () => Promise.resolve() }),
  ],
  ["sqlite", async () => {
    const dir = await Deno.makeTempDir({ prefix: "scoreline-concurrency-" });
    return {
      store: openSqliteStore(`${dir}/s.db`, systemClock()),
      cleanup: () => Deno.remove(dir, { recursive: true }),
    };
  }],
];

for (const [name, open] of stores) {
  Deno.test(`${name}: 8 clients adding 1 point 500 times each end with exactly 4,000 and no 5xx`, async () => {
    const { store, cleanup } = await open();
    try {
      await using server = await startServer({ store });
      await call(server.url, "/api/games/g", { method: "PUT", token: TOKEN, body: gameBody() });
      const statuses = new Map<number, number>();
      await Promise.all(Array.from({ length: CLIENTS }, async () => {
        for (let i = 0; i < 500; i++) {
          const answer = await call(server.url, "/api/games/g/score", {
            method: "POST",
            token: TOKEN,
            body: { side: "home", points: 1 },
          });
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        }
      }));
      assert.deepEqual([...statuses], [[200, 4000]]);
      const game = (await call(server.url, "/api/games/g")).json;
      assert.equal(game.home.score, 4000);
    } finally {
      await cleanup();
    }
  });

  Deno.test(`${name}: 8 clients doing read, then PUT with If-Match, retrying on 412, end exact`, async () => {
    const { store, cleanup } = await open();
    try {
      await using server = await startServer({ store });
      await call(server.url, "/api/games/g", { method: "PUT", token: TOKEN, body: gameBody() });
      const PER_CLIENT = 60;
      let conflicts = 0;
      let serverErrors = 0;
      await Promise.all(Array.from({ length: CLIENTS }, async () => {
        for (let done = 0; done < PER_CLIENT;) {
          const read = await call(server.url, "/api/games/g");
          const game = read.json;
          game.home.score += 1;
          const put = await call(server.url, "/api/games/g", {
            method: "PUT",
            token: TOKEN,
            body: game,
            headers: { "if-match": read.headers.get("etag")! },
          });
          if (put.status === 200) done++;
          else if (put.status === 412) conflicts++;
          else serverErrors++;
        }
      }));
      assert.equal(serverErrors, 0);
      const game = (await call(server.url, "/api/games/g")).json;
      assert.equal(game.home.score, CLIENTS * PER_CLIENT);
      assert.ok(conflicts > 0, "the clients did contend (otherwise the test proves nothing)");
    } finally {
      await cleanup();
    }
  });
}
