/**
 * Every status a write can answer, over a real socket. Each refusal is checked to be
 * problem+json and to have changed nothing.
 */
import assert from "node:assert/strict";
import type { Store } from "../store/store.ts";
import { openMemoryStore } from "../store/memory.ts";
import { systemClock } from "../core/clock.ts";
import { type Answer, assertProblem, call, gameBody } from "./support/http.ts";
import { SCOPED_TOKEN, startServer, TOKEN } from "./support/server.ts";

/** The whole board, to show a refused request changed nothing. */
async function board(url: string) {
  return (await call(url, "/api/games")).json;
}

Deno.test("PUT creates a game (201) and then replaces it (200), answering with the game and its ETag", async () => {
  await using server = await startServer();
  const created = await call(server.url, "/api/games/cup-final", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(2, 1),
  });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get("content-type"), "application/json");
  assert.equal(created.headers.get("location"), "/api/games/cup-final");
  assert.equal(created.headers.get("etag"), `"${created.json.version}"`);
  assert.equal(created.json.id, "cup-final");
  assert.equal(created.json.home.score, 2);
  assert.match(created.json.updatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  const replaced = await call(server.url, "/api/games/cup-final", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(3, 1),
  });
  assert.equal(replaced.status, 200);
  assert.equal(replaced.json.version, created.json.version + 1);
  assert.equal(replaced.headers.get("etag"), `"${replaced.json.version}"`);
});

Deno.test("a GET, changed and PUT back, is accepted: server-assigned fields are ignored", async () => {
  await using server = await startServer();
  const created = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
  });
  const game = { ...created.json, status: "final", version: 1, updatedAt: "yesterday" };
  const put = await call(server.url, "/api/games/g", { method: "PUT", token: TOKEN, body: game });
  assert.equal(put.status, 200);
  assert.equal(put.json.status, "final");
  assert.equal(put.json.version, created.json.version + 1);
  assert.notEqual(put.json.updatedAt, "yesterday");
});

Deno.test("PATCH merges, POST score adds points, DELETE answers 204 with the tombstone's ETag", async () => {
  await using server = await startServer();
  await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(0, 0, { clock: "10:00" }),
  });
  const patched = await call(server.url, "/api/games/g", {
    method: "PATCH",
    token: TOKEN,
    raw: JSON.stringify({ clock: null, away: { detail: "10 men" } }),
    headers: { "content-type": "application/merge-patch+json" },
  });
  assert.equal(patched.status, 200);
  assert.equal(patched.json.clock, undefined);
  assert.deepEqual(patched.json.away, { name: "Tigers", score: 0, detail: "10 men" });

  const scored = await call(server.url, "/api/games/g/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "away", points: 3 },
  });
  assert.equal(scored.status, 200);
  assert.equal(scored.json.away.score, 3);
  assert.equal(scored.headers.get("etag"), `"${scored.json.version}"`);

  const deleted = await call(server.url, "/api/games/g", { method: "DELETE", token: TOKEN });
  assert.equal(deleted.status, 204);
  assert.equal(deleted.text, "");
  assert.equal(deleted.headers.get("etag"), `"${scored.json.version + 1}"`);
  assertProblem(await call(server.url, "/api/games/g"), 404, "not-found");
});

Deno.test("a write without a token is 401 with WWW-Authenticate, and a wrong token too", async () => {
  await using server = await startServer();
  const none = await call(server.url, "/api/games/g", { method: "PUT", body: gameBody() });
  assertProblem(none, 401, "unauthorized");
  assert.equal(none.headers.get("www-authenticate"), "Bearer");
  const wrong = await call(server.url, "/api/games/g", {
    method: "DELETE",
    token: "not-a-configured-token",
  });
  assertProblem(wrong, 401, "unauthorized");
  assert.match(wrong.headers.get("www-authenticate") ?? "", /^Bearer/);
  assert.deepEqual((await board(server.url)).games, []);
});

Deno.test("a token scoped to other games is 403 and changes nothing", async () => {
  await using server = await startServer();
  assert.equal(
    (await call(server.url, "/api/games/game-a", {
      method: "PUT",
      token: SCOPED_TOKEN,
      body: gameBody(),
    })).status,
    201,
  );
  const before = await board(server.url);
  const other = await call(server.url, "/api/games/game-c", {
    method: "PUT",
    token: SCOPED_TOKEN,
    body: gameBody(),
  });
  assertProblem(other, 403, "forbidden");
  assert.deepEqual(await board(server.url), before);
});

Deno.test("PATCH, POST score and DELETE of an unknown game are 404", async () => {
  await using server = await startServer();
  assertProblem(
    await call(server.url, "/api/games/nope", {
      method: "PATCH",
      token: TOKEN,
      body: { title: "x" },
    }),
    404,
    "not-found",
  );
  assertProblem(
    await call(server.url, "/api/games/nope/score", {
      method: "POST",
      token: TOKEN,
      body: { side: "home", points: 1 },
    }),
    404,
    "not-found",
  );
  assertProblem(
    await call(server.url, "/api/games/nope", { method: "DELETE", token: TOKEN }),
    404,
    "not-found",
  );
});

Deno.test("validation errors are 400 with the path of every bad field, and change nothing", async () => {
  await using server = await startServer();
  await call(server.url, "/api/games/g", { method: "PUT", token: TOKEN, body: gameBody() });
  const before = await board(server.url);
  const bad = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: { status: "halftime", home: { name: "", score: -1 }, away: { name: "B", scores: 1 } },
  });
  assertProblem(bad, 400, "validation");
  assert.deepEqual(bad.json.errors.map((e: { path: string }) => e.path).sort(), [
    "away.scores",
    "home.name",
    "home.score",
    "status",
  ]);
  for (const error of bad.json.errors) assert.equal(typeof error.message, "string");
  const patch = await call(server.url, "/api/games/g", {
    method: "PATCH",
    token: TOKEN,
    body: { home: { name: null } },
  });
  assertProblem(patch, 400, "validation");
  assert.deepEqual(patch.json.errors, [{
    path: "home.name",
    message: "cannot be null: the field is required",
  }]);
  const points = await call(server.url, "/api/games/g/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "home", points: 0 },
  });
  assertProblem(points, 400, "validation");
  assert.equal(points.json.errors[0].path, "points");
  assert.deepEqual(await board(server.url), before);
});

Deno.test("a bad id in the path and an id in the body that differs from it are 400", async () => {
  await using server = await startServer();
  for (const id of ["Cup", "-cup", "a".repeat(65), "cup_final", "%C3%A9"]) {
    const answer = await call(server.url, `/api/games/${id}`, {
      method: "PUT",
      token: TOKEN,
      body: gameBody(),
    });
    assertProblem(answer, 400, "validation");
    assert.equal(answer.json.errors[0].path, "id");
  }
  const mismatch = await call(server.url, "/api/games/a", {
    method: "PUT",
    token: TOKEN,
    body: { ...gameBody(), id: "b" },
  });
  assertProblem(mismatch, 400, "validation");
  assert.equal(mismatch.json.errors[0].path, "id");
  assert.deepEqual((await board(server.url)).games, []);
});

Deno.test("malformed JSON, invalid UTF-8 and an empty body are 400", async () => {
  await using server = await startServer();
  const json = { "content-type": "application/json" };
  assertProblem(
    await call(server.url, "/api/games/g", {
      method: "PUT",
      token: TOKEN,
      raw: '{"home":',
      headers: json,
    }),
    400,
    "malformed-json",
  );
  assertProblem(
    await call(server.url, "/api/games/g", {
      method: "PUT",
      token: TOKEN,
      raw: new Uint8Array([0x7b, 0xff, 0x7d]),
      headers: json,
    }),
    400,
    "malformed-json",
  );
  assertProblem(
    await call(server.url, "/api/games/g", { method: "PUT", token: TOKEN, raw: "", headers: json }),
    400,
    "malformed-json",
  );
  assert.deepEqual((await board(server.url)).games, []);
});

Deno.test("a body that is not JSON by its Content-Type is 415, checked before it is parsed", async () => {
  await using server = await startServer();
  const body = JSON.stringify(gameBody());
  for (
    const type of [
      undefined,
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/json; charset=latin1",
    ]
  ) {
    const headers: Record<string, string> = type ? { "content-type": type } : {};
    const answer = await call(server.url, "/api/games/g", {
      method: "PUT",
      token: TOKEN,
      raw: body,
      headers,
    });
    assertProblem(answer, 415, "unsupported-media-type");
  }
  const ok = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    raw: body,
    headers: { "content-type": "application/json; charset=UTF-8" },
  });
  assert.equal(ok.status, 201);
});

Deno.test("a body over 16 KiB is 413, with Content-Length and without", async () => {
  await using server = await startServer();
  const big = JSON.stringify({ ...gameBody(), title: "x".repeat(17 * 1024) });
  const declared = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    raw: big,
    headers: { "content-type": "application/json" },
  });
  assertProblem(declared, 413, "payload-too-large");
  const chunks = new TextEncoder().encode(big);
  const streamed = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < chunks.length; i += 1024) controller.enqueue(chunks.slice(i, i + 1024));
      controller.close();
    },
  });
  const chunked = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    raw: streamed,
    headers: { "content-type": "application/json" },
  });
  assertProblem(chunked, 413, "payload-too-large");
  assert.deepEqual((await board(server.url)).games, []);
});

Deno.test("If-Match with a stale version is 412, with the current one it writes; If-None-Match: * only creates", async () => {
  await using server = await startServer();
  const created = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
    headers: { "if-none-match": "*" },
  });
  assert.equal(created.status, 201);
  const again = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(5),
    headers: { "if-none-match": "*" },
  });
  assertProblem(again, 412, "precondition-failed");
  const etag = created.headers.get("etag")!;
  const stale = `"${created.json.version - 1}"`;
  for (
    const [method, path, body] of [
      ["PUT", "/api/games/g", gameBody(9)],
      ["PATCH", "/api/games/g", { title: "x" }],
      ["POST", "/api/games/g/score", { side: "home", points: 1 }],
      ["DELETE", "/api/games/g", undefined],
    ] as const
  ) {
    const answer = await call(server.url, path, {
      method,
      token: TOKEN,
      body,
      headers: { "if-match": stale },
    });
    assertProblem(answer, 412, "precondition-failed");
  }
  assert.equal((await call(server.url, "/api/games/g")).json.version, created.json.version);
  const fresh = await call(server.url, "/api/games/g/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "home", points: 1 },
    headers: { "if-match": etag },
  });
  assert.equal(fresh.status, 200);
  const missing = await call(server.url, "/api/games/other", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
    headers: { "if-match": "*" },
  });
  assertProblem(missing, 412, "precondition-failed");
});

Deno.test("an If-Match that is not entity-tag syntax is 400 naming the header", async () => {
  await using server = await startServer();
  const answer = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
    headers: { "if-match": "42" },
  });
  assertProblem(answer, 400, "validation");
  assert.equal(answer.json.errors[0].path, "If-Match");
});

Deno.test("points that would take a score below 0 are 422 and change nothing", async () => {
  await using server = await startServer();
  await call(server.url, "/api/games/g", { method: "PUT", token: TOKEN, body: gameBody(1, 0) });
  const before = await board(server.url);
  const answer = await call(server.url, "/api/games/g/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "home", points: -2 },
  });
  assertProblem(answer, 422, "score-out-of-range");
  assert.deepEqual(await board(server.url), before);
});

Deno.test("an Idempotency-Key retry gets the first answer again, status and body, and changes nothing", async () => {
  await using server = await startServer();
  await call(server.url, "/api/games/g", { method: "PUT", token: TOKEN, body: gameBody() });
  const goal = {
    method: "POST",
    token: TOKEN,
    body: { side: "home", points: 1 },
    headers: { "idempotency-key": "goal-67" },
  };
  const first = await call(server.url, "/api/games/g/score", goal);
  const retry = await call(server.url, "/api/games/g/score", goal);
  assert.equal(first.status, 200);
  assert.equal(retry.status, 200);
  assert.equal(retry.text, first.text);
  assert.equal(retry.headers.get("etag"), first.headers.get("etag"));
  assert.equal(retry.headers.get("idempotent-replayed"), "true");
  assert.equal((await call(server.url, "/api/games/g")).json.home.score, 1);

  const created = {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
    headers: { "idempotency-key": "create-h" },
  };
  const c1 = await call(server.url, "/api/games/h", created);
  const c2 = await call(server.url, "/api/games/h", created);
  assert.deepEqual([c1.status, c2.status], [201, 201]);
  assert.equal(c2.text, c1.text);
});

Deno.test("a refused first request is answered the same on retry: 404 stays 404 even after the game appears", async () => {
  await using server = await startServer();
  const goal = {
    method: "POST",
    token: TOKEN,
    body: { side: "home", points: 1 },
    headers: { "idempotency-key": "early" },
  };
  assertProblem(await call(server.url, "/api/games/g/score", goal), 404, "not-found");
  await call(server.url, "/api/games/g", { method: "PUT", token: TOKEN, body: gameBody() });
  const retry = await call(server.url, "/api/games/g/score", goal);
  assertProblem(retry, 404, "not-found");
  assert.equal((await call(server.url, "/api/games/g")).json.home.score, 0);
});

Deno.test("the same Idempotency-Key with a different request is 422; keys of different tokens are separate", async () => {
  await using server = await startServer();
  await call(server.url, "/api/games/game-a", { method: "PUT", token: TOKEN, body: gameBody() });
  const key = { "idempotency-key": "k-1" };
  assert.equal(
    (await call(server.url, "/api/games/game-a/score", {
      method: "POST",
      token: TOKEN,
      body: { side: "home", points: 1 },
      headers: key,
    })).status,
    200,
  );
  const other = await call(server.url, "/api/games/game-a/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "home", points: 2 },
    headers: key,
  });
  assertProblem(other, 422, "idempotency-key-reused");
  const byOtherToken = await call(server.url, "/api/games/game-a/score", {
    method: "POST",
    token: SCOPED_TOKEN,
    body: { side: "home", points: 2 },
    headers: key,
  });
  assert.equal(byOtherToken.status, 200);
  assert.equal(byOtherToken.json.home.score, 3);
});

Deno.test("an Idempotency-Key outside 1 to 128 printable characters is 400 naming the header", async () => {
  await using server = await startServer();
  const answer = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
    headers: { "idempotency-key": "k".repeat(129) },
  });
  assertProblem(answer, 400, "validation");
  assert.equal(answer.json.errors[0].path, "Idempotency-Key");
});

/** A store whose writes wait for a gate, so a test can hold a request "still running". */
function gatedStore(): { store: Store; entered: Promise<void>; open(): void } {
  const inner = openMemoryStore(systemClock());
  let open!: () => void;
  let enter!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const store: Store = {
    ...inner,
    get: (id) => inner.get(id),
    snapshot: () => inner.snapshot(),
    resume: (c, s) => inner.resume(c, s),
    claim: (k, f) => inner.claim(k, f),
    release: (k) => inner.release(k),
    onCommit: (l) => inner.onCommit(l),
    ready: () => inner.ready(),
    close: () => inner.close(),
    write: async (request) => {
      enter();
      await gate;
      return inner.write(request);
    },
  };
  return { store, entered, open };
}

Deno.test("while the first request with a key is still running, a retry is 409", async () => {
  const gated = gatedStore();
  await using server = await startServer({ store: gated.store });
  const request = {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
    headers: { "idempotency-key": "slow" },
  };
  const first = call(server.url, "/api/games/g", request);
  await gated.entered; // the first request holds its key and waits inside the store
  const retry = await call(server.url, "/api/games/g", request);
  assertProblem(retry, 409, "request-in-progress");
  gated.open();
  assert.equal((await first).status, 201);
  const replay = await call(server.url, "/api/games/g", request);
  assert.equal(replay.status, 201);
  assert.equal(replay.headers.get("idempotent-replayed"), "true");
});

Deno.test("writes beyond the rate per token are 429 with Retry-After", async () => {
  await using server = await startServer({ env: { SCORELINE_WRITE_RATE: "1" } });
  const statuses: number[] = [];
  let limited: Answer | undefined;
  for (let i = 0; i < 3; i++) {
    const answer = await call(server.url, "/api/games/g", {
      method: "PUT",
      token: TOKEN,
      body: gameBody(i),
    });
    statuses.push(answer.status);
    if (answer.status === 429) limited = answer;
  }
  assert.deepEqual(statuses, [201, 200, 429], "a burst of twice the rate, then refused");
  assertProblem(limited!, 429, "rate-limited");
  assert.match(limited!.headers.get("retry-after") ?? "", /^[1-9][0-9]*$/);
  assert.equal((await call(server.url, "/api/games/g")).json.home.score, 1);
  const otherToken = await call(server.url, "/api/games/game-a", {
    method: "PUT",
    token: SCOPED_TOKEN,
    body: gameBody(),
  });
  assert.equal(otherToken.status, 201, "the limit is per token");
});

Deno.test("a method a route does not have is 405 with Allow", async () => {
  await using server = await startServer();
  const answer = await call(server.url, "/api/games/g/score", { method: "GET" });
  assertProblem(answer, 405, "method-not-allowed");
  assert.equal(answer.headers.get("allow"), "POST");
  const list = await call(server.url, "/api/games", {
    method: "POST",
    token: TOKEN,
    body: gameBody(),
  });
  assertProblem(list, 405, "method-not-allowed");
  assertProblem(await call(server.url, "/nowhere"), 404, "not-found");
});

Deno.test("over HTTP a change of competition is 422 /problems/competition-fixed and changes nothing", async () => {
  await using server = await startServer();
  const created = await call(server.url, "/api/games/a", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(0, 0, { competition: "cup-2026", startsAt: "2026-12-07T17:00:00+00:00" }),
  });
  assert.equal(created.status, 201);
  assert.equal(created.json.competition, "cup-2026");
  assert.equal(created.json.startsAt, "2026-12-07T17:00:00.000Z");
  for (
    const [method, body] of [
      ["PUT", gameBody(0, 0, { competition: "league" })],
      ["PATCH", { competition: "league" }],
      ["PATCH", { competition: null }],
    ] as const
  ) {
    const refused = await call(server.url, "/api/games/a", { method, token: TOKEN, body });
    assert.equal(refused.status, 422, `${method} ${JSON.stringify(body)}`);
    assert.equal(refused.headers.get("content-type"), "application/problem+json");
    assert.equal(refused.json.type, "/problems/competition-fixed");
    assert.match(refused.json.detail, /"cup-2026"/);
  }
  const page = await call(server.url, "/problems/competition-fixed");
  assert.equal(page.status, 200);
  // A GET, changed and PUT back without the field keeps it.
  const { competition: _, ...rest } = created.json;
  const kept = await call(server.url, "/api/games/a", {
    method: "PUT",
    token: TOKEN,
    body: { ...rest, clock: "10:00" },
  });
  assert.equal(kept.status, 200);
  assert.equal(kept.json.competition, "cup-2026");
  assert.equal(kept.json.version, created.json.version + 1, "only the one accepted write");
  const bad = await call(server.url, "/api/games/b", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(0, 0, { startsAt: "2026-12-07T17:00" }),
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.errors[0].path, "startsAt");
});
