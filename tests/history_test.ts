/**
 * GET /api/games/{id}/history, end to end: every write route leaves an entry with who, what,
 * when and the resulting version, newest first; refusals leave none; a token is never in it.
 * The store's side (same commit, 1,000 per game, 30 days) is in the conformance suite.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { SignJWT } from "jose";
import { openSqliteStore } from "../store/sqlite.ts";
import { ManualClock } from "./support/clock.ts";
import { call, gameBody } from "./support/http.ts";
import { SCOPED_TOKEN, startServer, TOKEN } from "./support/server.ts";

/** What the history calls a static token's bearer: the first 12 hex digits of its SHA-256. */
const who = (token: string) =>
  `token:${createHash("sha256").update(token).digest("hex").slice(0, 12)}`;

const history = (url: string, id: string, token = TOKEN) =>
  call(url, `/api/games/${id}/history`, { token });

Deno.test("every write route records who, what, when and the resulting version, newest first, and refusals none", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock });
  const url = server.url;
  const put = await call(url, "/api/games/game-a", {
    method: "PUT",
    token: SCOPED_TOKEN,
    body: gameBody(0, 0),
  });
  clock.advance(1000);
  const patch = await call(url, "/api/games/game-a", {
    method: "PATCH",
    token: TOKEN,
    body: { clock: "12:00" },
    headers: { "content-type": "application/merge-patch+json" },
  });
  clock.advance(1000);
  const score = await call(url, "/api/games/game-a/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "away", points: 2 },
    headers: { "idempotency-key": "goal-1" },
  });
  const replay = await call(url, "/api/games/game-a/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "away", points: 2 },
    headers: { "idempotency-key": "goal-1" },
  });
  assert.equal(replay.headers.get("idempotent-replayed"), "true");
  const refused = [
    await call(url, "/api/games/game-a/score", {
      method: "POST",
      token: TOKEN,
      body: { side: "home", points: -1 },
    }),
    await call(url, "/api/games/game-a", {
      method: "PATCH",
      token: TOKEN,
      body: { clock: "1" },
      headers: { "if-match": '"1"' },
    }),
  ];
  assert.deepEqual(refused.map((r) => r.status), [422, 412]);
  clock.advance(1000);
  const removed = await call(url, "/api/games/game-a", { method: "DELETE", token: TOKEN });
  assert.deepEqual([put.status, patch.status, score.status, removed.status], [201, 200, 200, 204]);

  const answer = await history(url, "game-a");
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("content-type"), "application/json");
  assert.equal(answer.headers.get("cache-control"), "no-store");
  const at = (game: { updatedAt: string }) => game.updatedAt;
  assert.deepEqual(answer.json, {
    id: "game-a",
    entries: [
      {
        version: Number(removed.headers.get("etag")!.replaceAll('"', "")),
        at: new Date(clock.now()).toISOString(),
        who: who(TOKEN),
        method: "DELETE",
        path: "/api/games/game-a",
        body: null,
      },
      {
        version: score.json.version,
        at: at(score.json),
        who: who(TOKEN),
        method: "POST",
        path: "/api/games/game-a/score",
        body: { side: "away", points: 2 },
      },
      {
        version: patch.json.version,
        at: at(patch.json),
        who: who(TOKEN),
        method: "PATCH",
        path: "/api/games/game-a",
        body: { clock: "12:00" },
      },
      {
        version: put.json.version,
        at: at(put.json),
        who: who(SCOPED_TOKEN),
        method: "PUT",
        path: "/api/games/game-a",
        body: gameBody(0, 0),
      },
    ],
  }, "a deleted game's history stays readable");
  assert.ok(!answer.text.includes(TOKEN) && !answer.text.includes(SCOPED_TOKEN), "no token");
});

Deno.test("timer and timeline writes are in the history too, and a start that changes nothing is not", async () => {
  await using server = await startServer();
  const url = server.url;
  await call(url, "/api/games/cup", { method: "PUT", token: TOKEN, body: gameBody() });
  const post = (path: string, body: unknown) =>
    call(url, `/api/games/cup/${path}`, { method: "POST", token: TOKEN, body });
  assert.equal((await post("timer", { action: "start" })).status, 200);
  assert.equal((await post("timer", { action: "start" })).status, 200, "already running");
  assert.equal((await post("events", { kind: "goal", side: "home", points: 1 })).status, 201);
  const removed = await call(url, "/api/games/cup/events/1", { method: "DELETE", token: TOKEN });
  assert.equal(removed.status, 200);
  const answer = await history(url, "cup");
  assert.deepEqual(
    answer.json.entries.map((e: { method: string; path: string; body: unknown }) => [
      e.method,
      e.path,
      e.body,
    ]),
    [
      ["DELETE", "/api/games/cup/events/1", null],
      ["POST", "/api/games/cup/events", { kind: "goal", side: "home", points: 1 }],
      ["POST", "/api/games/cup/timer", { action: "start" }],
      ["PUT", "/api/games/cup", gameBody()],
    ],
  );
});

Deno.test("an import leaves one entry per game: a summary with its line, not the whole line", async () => {
  await using server = await startServer();
  await call(server.url, "/api/games/b", { method: "PUT", token: TOKEN, body: gameBody() });
  const file = [
    JSON.stringify({ id: "a", ...gameBody(1, 1) }),
    "",
    JSON.stringify({ id: "b", ...gameBody(2, 2) }),
  ].join("\n");
  const imported = await call(server.url, "/api/import", {
    method: "POST",
    token: TOKEN,
    raw: file,
    headers: { "content-type": "application/x-ndjson" },
  });
  assert.equal(imported.status, 200);
  const b = await history(server.url, "b");
  assert.deepEqual(
    b.json.entries.map((e: { method: string; path: string; body: unknown }) => [
      e.method,
      e.path,
      e.body,
    ]),
    [
      ["POST", "/api/import", { line: 3, games: 2 }],
      ["PUT", "/api/games/b", gameBody()],
    ],
  );
  assert.equal(b.json.entries[0].version, imported.json.version);
  assert.equal(b.json.entries[0].who, who(TOKEN));
});

Deno.test("a JWT writer is named by its sub, and a JWT for every game may read the history, one for some games may not", async () => {
  const clock = new ManualClock();
  const secret = "a-test-secret-of-at-least-32-bytes-long";
  await using server = await startServer({ clock, env: { SCORELINE_JWT_SECRET: secret } });
  const jwt = (scoreline: unknown) =>
    new SignJWT({ sub: "alice", scoreline, exp: Math.floor(clock.now() / 1000) + 3600 })
      .setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));
  const all = await jwt("*");
  const put = await call(server.url, "/api/games/cup", {
    method: "PUT",
    token: all,
    body: gameBody(),
  });
  assert.equal(put.status, 201);
  const answer = await history(server.url, "cup", all);
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.json.entries.map((e: { who: string }) => e.who), ["jwt:alice"]);
  assert.ok(!answer.text.includes(all), "no token");
  const some = await history(server.url, "cup", await jwt({ games: ["cup"] }));
  assert.equal(some.status, 403);
});

Deno.test("history needs a token for every game, a valid id, and a game that has a history", async () => {
  await using server = await startServer();
  await call(server.url, "/api/games/game-a", { method: "PUT", token: TOKEN, body: gameBody() });
  const anonymous = await call(server.url, "/api/games/game-a/history");
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get("www-authenticate"), "Bearer");
  const scoped = await history(server.url, "game-a", SCOPED_TOKEN);
  assert.equal(scoped.status, 403, "even for a game the token may write");
  assert.equal(scoped.headers.get("content-type"), "application/problem+json");
  const badId = await history(server.url, "Not_An_Id");
  assert.equal(badId.status, 400);
  assert.deepEqual(badId.json.errors.map((e: { path: string }) => e.path), ["id"]);
  const unknown = await history(server.url, "never-was");
  assert.equal(unknown.status, 404);
  assert.equal(unknown.headers.get("content-type"), "application/problem+json");
});

Deno.test("on SQLite the history survives a restart, in the same commit as its write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-history-" });
  const clock = new ManualClock();
  try {
    const path = `${dir}/s.db`;
    {
      await using server = await startServer({ clock, store: openSqliteStore(path, clock) });
      const put = await call(server.url, "/api/games/a", {
        method: "PUT",
        token: TOKEN,
        body: gameBody(),
      });
      assert.equal(put.status, 201);
    }
    await using again = await startServer({ clock, store: openSqliteStore(path, clock) });
    const answer = await history(again.url, "a");
    assert.equal(answer.status, 200);
    assert.deepEqual(
      answer.json.entries.map((e: { method: string; who: string }) => [e.method, e.who]),
      [["PUT", who(TOKEN)]],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
