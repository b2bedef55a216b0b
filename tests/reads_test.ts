/** Short polling, operations routes and CORS, over a real socket. */
import assert from "node:assert/strict";
import { call, gameBody } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

Deno.test("GET /api/games/{id} answers the game with its ETag, and 304 to If-None-Match", async () => {
  await using server = await startServer();
  const put = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(2, 1),
  });
  const read = await call(server.url, "/api/games/g");
  assert.equal(read.status, 200);
  assert.equal(read.headers.get("content-type"), "application/json");
  assert.deepEqual(read.json, put.json);
  assert.equal(read.headers.get("etag"), `"${put.json.version}"`);
  assert.equal(read.headers.get("access-control-allow-origin"), "*");
  assert.match(read.headers.get("access-control-expose-headers") ?? "", /ETag/);
  const same = await call(server.url, "/api/games/g", {
    headers: { "if-none-match": read.headers.get("etag")! },
  });
  assert.equal(same.status, 304);
  assert.equal(same.text, "");
  assert.equal(same.headers.get("etag"), read.headers.get("etag"));
  const weak = await call(server.url, "/api/games/g", {
    headers: { "if-none-match": `"1", W/${read.headers.get("etag")}` },
  });
  assert.equal(weak.status, 304, "weak comparison for reads");
  await call(server.url, "/api/games/g/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "home", points: 1 },
  });
  const changed = await call(server.url, "/api/games/g", {
    headers: { "if-none-match": read.headers.get("etag")! },
  });
  assert.equal(changed.status, 200);
  assert.equal(changed.json.home.score, 3);
});

Deno.test("GET /api/games lists every game sorted by id, with the service version as ETag", async () => {
  await using server = await startServer();
  const empty = await call(server.url, "/api/games");
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.json.games, []);
  assert.equal(empty.headers.get("etag"), `"${empty.json.version}"`);
  await call(server.url, "/api/games/b", { method: "PUT", token: TOKEN, body: gameBody() });
  const last = await call(server.url, "/api/games/a", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
  });
  const list = await call(server.url, "/api/games");
  assert.equal(list.json.version, last.json.version);
  assert.deepEqual(list.json.games.map((g: { id: string }) => g.id), ["a", "b"]);
  assert.equal(list.headers.get("etag"), `"${last.json.version}"`);
  const same = await call(server.url, "/api/games", {
    headers: { "if-none-match": list.headers.get("etag")! },
  });
  assert.equal(same.status, 304);
});

Deno.test("an unknown game is 404 and a bad id 400, both problem+json and readable cross-origin", async () => {
  await using server = await startServer();
  const missing = await call(server.url, "/api/games/not-yet");
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("content-type"), "application/problem+json");
  assert.equal(missing.headers.get("access-control-allow-origin"), "*");
  const bad = await call(server.url, "/api/games/NOT_VALID");
  assert.equal(bad.status, 400);
  assert.equal(bad.json.errors[0].path, "id");
});

Deno.test("HEAD answers like GET without a body", async () => {
  await using server = await startServer();
  await call(server.url, "/api/games/g", { method: "PUT", token: TOKEN, body: gameBody() });
  const head = await call(server.url, "/api/games/g", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.text, "");
  assert.match(head.headers.get("etag") ?? "", /^"\d+"$/);
});

Deno.test("/healthz is 200 while the process runs; /readyz is 200 until the store closes", async () => {
  await using server = await startServer();
  const health = await call(server.url, "/healthz");
  assert.equal(health.status, 200);
  assert.equal((await call(server.url, "/readyz")).status, 200);
  await server.store.close();
  const ready = await call(server.url, "/readyz");
  assert.equal(ready.status, 503);
  assert.equal((await call(server.url, "/healthz")).status, 200);
  const write = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
  });
  assert.equal(write.status, 503);
  assert.equal(write.headers.get("content-type"), "application/problem+json");
  assert.match(write.headers.get("retry-after") ?? "", /^\d+$/);
});

Deno.test("every problem type links to a page that explains it", async () => {
  await using server = await startServer();
  const problem = await call(server.url, "/api/games/x", { method: "DELETE" });
  const page = await call(server.url, problem.json.type);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(page.text, /401 Unauthorized/);
});

Deno.test("CORS: reads preflight for any origin; writes only from a listed origin or the same origin", async () => {
  await using server = await startServer({
    env: { SCORELINE_WRITE_ORIGINS: "https://scorer.example" },
  });
  const preflight = (origin: string, method: string) =>
    call(server.url, "/api/games/g", {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": method,
        "access-control-request-headers": "authorization, content-type",
      },
    });
  const read = await preflight("https://anyone.example", "GET");
  assert.equal(read.status, 204);
  assert.equal(read.headers.get("access-control-allow-origin"), "*");
  const listed = await preflight("https://scorer.example", "PUT");
  assert.equal(listed.status, 204);
  assert.equal(listed.headers.get("access-control-allow-origin"), "https://scorer.example");
  assert.match(listed.headers.get("access-control-allow-headers") ?? "", /Idempotency-Key/);
  assert.match(listed.headers.get("access-control-allow-methods") ?? "", /PATCH/);
  const stranger = await preflight("https://evil.example", "PUT");
  assert.equal(stranger.status, 403);
  assert.equal(stranger.headers.get("access-control-allow-origin"), null);

  const fromStranger = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
    headers: { origin: "https://evil.example" },
  });
  assert.equal(fromStranger.status, 403);
  const fromListed = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
    headers: { origin: "https://scorer.example" },
  });
  assert.equal(fromListed.status, 201);
  assert.equal(fromListed.headers.get("access-control-allow-origin"), "https://scorer.example");
  const sameOrigin = await call(server.url, "/api/games/g", {
    method: "DELETE",
    token: TOKEN,
    headers: { origin: server.url },
  });
  assert.equal(sameOrigin.status, 204);
});
