/**
 * The request log: one JSON line per write and per error, with the request id the response
 * echoes; never a line per delivery; never a token; the level from SCORELINE_LOG.
 */
import assert from "node:assert/strict";
import { StoreUnavailableError } from "../core/errors.ts";
import { createLogger, type Logger } from "../core/log.ts";
import { openMemoryStore } from "../store/memory.ts";
import type { Store } from "../store/store.ts";
import { systemClock } from "../core/clock.ts";
import { openSse } from "./support/feeds.ts";
import { call, gameBody } from "./support/http.ts";
import { spawnMain } from "./support/process.ts";
import { SCOPED_TOKEN, startServer, TOKEN } from "./support/server.ts";

// deno-lint-ignore no-explicit-any
type Line = Record<string, any>;

function capture(level: "debug" | "info" = "info"): { log: Logger; lines: Line[]; raw: string[] } {
  const raw: string[] = [];
  const lines: Line[] = [];
  const log = createLogger(level, (line) => {
    raw.push(line);
    lines.push(JSON.parse(line));
  });
  return { log, lines, raw };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

Deno.test("a write logs one line with the request id it echoes, its version and scorer, and no token", async () => {
  const { log, lines, raw } = capture();
  await using server = await startServer({ log });
  const put = await call(server.url, "/api/games/cup", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
    headers: { "x-request-id": "scorer-app.7f3a:42" },
  });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get("x-request-id"), "scorer-app.7f3a:42");
  assert.equal(lines.length, 1);
  const [line] = lines;
  assert.equal(line!.level, "info");
  assert.equal(line!.msg, "write");
  assert.equal(line!.requestId, "scorer-app.7f3a:42");
  assert.equal(line!.method, "PUT");
  assert.equal(line!.path, "/api/games/cup");
  assert.equal(line!.status, 201);
  assert.equal(line!.version, put.json.version);
  assert.match(line!.scorer, /^token:[0-9a-f]{12}$/);
  assert.equal(typeof line!.seconds, "number");
  assert.ok(!raw.join("\n").includes(TOKEN), "the token is never logged");
});

Deno.test("without a sane X-Request-Id the service makes one up and echoes it", async () => {
  const { log, lines } = capture();
  await using server = await startServer({ log });
  for (const sent of [undefined, "has spaces in it", "x".repeat(129), 'quote"d']) {
    const answer = await call(server.url, "/api/games/cup/score", {
      method: "POST",
      token: TOKEN,
      body: { side: "home", points: 1 },
      headers: sent === undefined ? {} : { "x-request-id": sent },
    });
    assert.equal(answer.status, 404);
    const id = answer.headers.get("x-request-id")!;
    assert.match(id, UUID, `replaced ${JSON.stringify(sent)}`);
    assert.equal(lines.at(-1)!.requestId, id);
  }
  assert.equal(lines.length, 4, "one line per write, refused ones included");
  assert.deepEqual(lines.map((l) => l.status), [404, 404, 404, 404]);
});

Deno.test("refused writes log one line each, naming the problem; a replay says so", async () => {
  const { log, lines } = capture();
  await using server = await startServer({ log });
  const unauthorized = await call(server.url, "/api/games/cup", {
    method: "PUT",
    token: "not-a-configured-token-at-all",
    body: gameBody(),
  });
  assert.equal(unauthorized.status, 401);
  const forbidden = await call(server.url, "/api/games/cup", {
    method: "PUT",
    token: SCOPED_TOKEN,
    body: gameBody(),
  });
  assert.equal(forbidden.status, 403);
  const invalid = await call(server.url, "/api/games/cup", {
    method: "PUT",
    token: TOKEN,
    body: { home: { name: "" } },
  });
  assert.equal(invalid.status, 400);
  const first = await call(server.url, "/api/games/cup", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
    headers: { "idempotency-key": "k1" },
  });
  const replay = await call(server.url, "/api/games/cup", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
    headers: { "idempotency-key": "k1" },
  });
  assert.equal(first.status, 201);
  assert.equal(replay.status, 201);
  assert.deepEqual(
    lines.map((l) => [l.msg, l.status, l.problem ?? null, l.replayed ?? false]),
    [
      ["write", 401, "unauthorized", false],
      ["write", 403, "forbidden", false],
      ["write", 400, "validation", false],
      ["write", 201, null, false],
      ["write", 201, null, true],
    ],
  );
  assert.ok(lines.every((l) => l.level === "info"));
  assert.ok(!JSON.stringify(lines).includes("not-a-configured-token-at-all"));
});

Deno.test("reads and deliveries are not logged at info; at debug a feed is one line, not one per message", async () => {
  for (const level of ["info", "debug"] as const) {
    const { log, lines } = capture(level);
    await using server = await startServer({ log });
    const feed = await openSse(`${server.url}/api/events`);
    await server.opened("sse");
    for (let i = 0; i < 5; i++) {
      const put = await call(server.url, `/api/games/g${i}`, {
        method: "PUT",
        token: TOKEN,
        body: gameBody(),
      });
      assert.equal(put.status, 201);
    }
    await feed.inbox.until((e) => e.data.includes('"g4"'));
    assert.equal((await call(server.url, "/api/games")).status, 200);
    await feed.close();
    const feedLines = lines.filter((l) => l.path === "/api/events");
    const writes = lines.filter((l) => l.msg === "write");
    assert.equal(writes.length, 5, `${level}: one line per write`);
    if (level === "info") {
      assert.equal(lines.length, 5, "info: nothing but the writes");
    } else {
      assert.equal(feedLines.length, 1, "debug: the feed is one line");
      assert.equal(feedLines[0]!.msg, "request");
      assert.equal(lines.filter((l) => l.path === "/api/games").length, 1);
    }
  }
});

Deno.test("a failed read logs one line at info with its problem and request id", async () => {
  const { log, lines } = capture();
  await using server = await startServer({ log });
  const answer = await call(server.url, "/api/events?since=-1");
  assert.equal(answer.status, 400);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.msg, "request failed");
  assert.equal(lines[0]!.problem, "validation");
  assert.equal(lines[0]!.requestId, answer.headers.get("x-request-id"));
});

/** A memory store whose writes fail the way a broken disk or an unreachable Redis would. */
function failingStore(error: Error): Store {
  const store = openMemoryStore(systemClock());
  return new Proxy(store, {
    get(target, property) {
      if (property === "write") return () => Promise.reject(error);
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

Deno.test("a 500 logs one error line with the stack; a 503 one warning, both with the request id", async () => {
  for (
    const [error, status, level] of [
      [new Error("disk on fire"), 500, "error"],
      [new StoreUnavailableError("the store is closed", 2), 503, "warn"],
    ] as const
  ) {
    const { log, lines } = capture();
    await using server = await startServer({ log, store: failingStore(error) });
    const answer = await call(server.url, "/api/games/cup", {
      method: "PUT",
      token: TOKEN,
      body: gameBody(),
    });
    assert.equal(answer.status, status);
    assert.equal(answer.headers.get("content-type"), "application/problem+json");
    assert.equal(lines.length, 1, "exactly one line for the failed write");
    const [line] = lines;
    assert.equal(line!.level, level);
    assert.equal(line!.requestId, answer.headers.get("x-request-id"));
    if (status === 500) assert.match(line!.error, /disk on fire[\s\S]*at /);
    else assert.equal(line!.detail, "the store is closed");
  }
});

Deno.test("SCORELINE_LOG sets the level of the real process: info logs writes only, debug reads too", async () => {
  const env = { SCORELINE_DATA: ":memory:", SCORELINE_TOKENS: TOKEN };
  for (const level of ["info", "debug"]) {
    const child = await spawnMain({ ...env, SCORELINE_LOG: level });
    try {
      const put = await call(child.url, "/api/games/cup", {
        method: "PUT",
        token: TOKEN,
        body: gameBody(),
      });
      assert.equal(put.status, 201);
      const health = await call(child.url, "/healthz");
      assert.equal(health.status, 200);
      child.kill("SIGTERM");
      assert.equal((await child.exited).code, 0);
      const logged = child.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      const write = logged.find((l) => l.msg === "write");
      const read = logged.find((l) => l.msg === "request" && l.path === "/healthz");
      assert.equal(write?.requestId, put.headers.get("x-request-id"));
      if (level === "info") {
        assert.equal(read, undefined);
        assert.equal(logged.filter((l) => l.level === "debug").length, 0);
      } else {
        assert.equal(read?.requestId, health.headers.get("x-request-id"));
      }
      assert.ok(!child.lines.join("\n").includes(TOKEN), "the configured token is never logged");
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // It has exited already.
      }
      await child.exited;
    }
  }
});

Deno.test("browsers on other origins may send X-Request-Id and read it back", async () => {
  await using server = await startServer();
  const preflight = await call(server.url, "/api/games", {
    method: "OPTIONS",
    headers: {
      origin: "https://board.example",
      "access-control-request-method": "GET",
      "access-control-request-headers": "x-request-id",
    },
  });
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers.get("access-control-allow-headers")!, /X-Request-Id/);
  const read = await call(server.url, "/api/games", {
    headers: { origin: "https://board.example", "x-request-id": "board-1" },
  });
  assert.equal(read.status, 200);
  assert.equal(read.headers.get("x-request-id"), "board-1");
  assert.match(read.headers.get("access-control-expose-headers")!, /X-Request-Id/);
});
