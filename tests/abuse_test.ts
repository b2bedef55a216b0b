/**
 * Abuse: clients that dribble their requests, flood writes, hoard feeds or churn connections.
 * None of them may hold the service, or hurt anyone else.
 */
import assert from "node:assert/strict";
import { BODY_TIMEOUT_MS } from "../http/body.ts";
import { ManualClock } from "./support/clock.ts";
import { openNdjson, openSse, openWs } from "./support/feeds.ts";
import { call, gameBody } from "./support/http.ts";
import { headerOf, readAnswer, readResponse } from "./support/raw_http.ts";
import { SCOPED_TOKEN, startServer, type TestServer, TOKEN } from "./support/server.ts";

const encoder = new TextEncoder();

/** A PUT whose headers promise `length` bytes of body; the caller sends the body itself. */
async function openPut(server: TestServer, length: number, extra = ""): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: Number(new URL(server.url).port),
  });
  await conn.write(encoder.encode(
    `PUT /api/games/slow HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`,
  ));
  return conn;
}

/** A round trip on another connection: by its end the server has taken in what was sent. */
async function settle(server: TestServer): Promise<void> {
  await call(server.url, "/healthz");
}

Deno.test("a write body that trickles in byte by byte is cut off at the deadline with 408 and changes nothing", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock });
  const body = encoder.encode(JSON.stringify(gameBody(1, 0)));
  const deadline = clock.nextTimer();
  const conn = await openPut(server, body.length, "Idempotency-Key: slow-1\r\n");
  await conn.write(body.subarray(0, 1));
  await deadline; // the server is reading the body now, against the clock
  // However steadily bytes keep coming, the deadline counts from the first read.
  for (let i = 1; i <= 4; i++) {
    await conn.write(body.subarray(i, i + 1));
    await settle(server);
    clock.advance(BODY_TIMEOUT_MS / 4);
  }
  const answer = await readResponse(conn);
  // The app is done with it; the socket itself stays until the client leaves (Deno gives the app
  // no way to drop a connection: see SECURITY.md).
  conn.close();
  assert.equal(answer.status, 408);
  assert.equal(headerOf(answer.head, "content-type"), "application/problem+json");
  assert.equal(JSON.parse(new TextDecoder().decode(answer.body)).type, "/problems/request-timeout");
  assert.equal(headerOf(answer.head, "connection"), "close", "asks the client to go");
  assert.equal((await call(server.url, "/api/games/slow")).status, 404, "nothing was written");
  const again = await call(server.url, "/api/games/slow", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(1, 0),
    headers: { "idempotency-key": "slow-1" },
  });
  assert.equal(again.status, 201, "the cut-off request held no Idempotency-Key: a retry runs");
});

Deno.test("a body that arrives in pieces within the deadline is written as usual", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock });
  const body = encoder.encode(JSON.stringify(gameBody(2, 0)));
  const deadline = clock.nextTimer();
  const conn = await openPut(server, body.length, "Connection: close\r\n");
  await conn.write(body.subarray(0, 10));
  await deadline;
  clock.advance(BODY_TIMEOUT_MS - 1);
  await conn.write(body.subarray(10));
  const answer = await readAnswer(conn);
  conn.close();
  assert.equal(answer.status, 201);
  assert.equal((await call(server.url, "/api/games/slow")).json.home.score, 2);
});

Deno.test("a burst of concurrent writes with one token gets exactly the bucket through, 429 for the rest", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock, env: { SCORELINE_WRITE_RATE: "10" } });
  const write = (token: string, id: string) =>
    call(server.url, `/api/games/${id}/score`, {
      method: "POST",
      token,
      body: { side: "home", points: 1 },
    });
  await call(server.url, "/api/games/game-a", {
    method: "PUT",
    token: SCOPED_TOKEN,
    body: gameBody(),
  });
  const created = await call(server.url, "/api/games/crowd", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
  });
  assert.equal(created.status, 201);
  const answers = await Promise.all(Array.from({ length: 200 }, () => write(TOKEN, "crowd")));
  const ok = answers.filter((a) => a.status === 200).length;
  const limited = answers.filter((a) => a.status === 429);
  // A burst of twice the rate (20), one of which the PUT above took; time stands still meanwhile.
  assert.equal(ok, 19);
  assert.equal(limited.length, 181);
  for (const answer of limited) {
    assert.equal(answer.headers.get("content-type"), "application/problem+json");
    assert.match(answer.headers.get("retry-after") ?? "", /^[1-9][0-9]*$/);
  }
  assert.equal(
    (await call(server.url, "/api/games/crowd")).json.home.score,
    19,
    "only those count",
  );
  assert.equal((await write(SCOPED_TOKEN, "game-a")).status, 200, "another token is not held up");
  clock.advance(1000);
  const refilled = await Promise.all(Array.from({ length: 20 }, () => write(TOKEN, "crowd")));
  assert.equal(refilled.filter((a) => a.status === 200).length, 10, "a second later: the rate");
});

Deno.test("a limited token's write is refused before its body is read", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock, env: { SCORELINE_WRITE_RATE: "1" } });
  for (let i = 0; i < 2; i++) {
    await call(server.url, "/api/games/g", { method: "PUT", token: TOKEN, body: gameBody() });
  }
  const big = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    raw: "x".repeat(200 * 1024),
    headers: { "content-type": "application/json" },
  });
  assert.equal(big.status, 429, "not 413: a flood costs the service no parsing");
});

Deno.test("without SCORELINE_TRUST_PROXY a client cannot dodge the per-client cap with X-Forwarded-For", async () => {
  await using server = await startServer({ env: { SCORELINE_FEEDS_PER_CLIENT: "3" } });
  const spoof = (n: number) => ({ "x-forwarded-for": `198.51.100.${n}` });
  const cursor = (await call(server.url, "/api/poll")).json.cursor;
  const sse = await openSse(`${server.url}/api/events`, spoof(1));
  const ndjson = await openNdjson(`${server.url}/api/stream`);
  const poll = call(server.url, `/api/poll?since=${cursor}&timeout=60`, { headers: spoof(3) });
  await server.opened("long_poll");
  for (const path of ["/api/events", "/api/stream", `/api/poll?since=${cursor}`, "/api/ws"]) {
    const refused = await call(server.url, path, { headers: spoof(9) });
    assert.equal(refused.status, path === "/api/ws" ? 426 : 429, path);
  }
  const ws = openWs(`${server.url}/api/ws`);
  await assert.rejects(ws, "a fourth feed, a WebSocket, is refused as well");
  assert.equal(server.capacity.open, 3);
  await call(server.url, "/api/games/a", { method: "PUT", token: TOKEN, body: gameBody() });
  assert.equal((await poll).status, 200);
  await sse.close();
  await ndjson.close();
});

Deno.test("HEAD on a stream answers its headers and takes no feed slot, however often it is sent", async () => {
  await using server = await startServer({ env: { SCORELINE_FEEDS_PER_CLIENT: "2" } });
  for (let i = 0; i < 50; i++) {
    for (const path of ["/api/events", "/api/games/a/stream"]) {
      const head = await call(server.url, path, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.match(
        head.headers.get("content-type") ?? "",
        /^(text\/event-stream|application\/x-ndjson)/,
      );
      assert.equal(head.text, "");
    }
  }
  assert.equal(server.capacity.open, 0);
  assert.equal(server.hub.open("sse") + server.hub.open("ndjson"), 0, "and no subscription");
  const sse = await openSse(`${server.url}/api/events`);
  assert.equal(sse.status, 200, "so the client's own feeds still open");
  await sse.close();
});

Deno.test("a thousand connections holding half-sent headers or bodies hold up no one else", async () => {
  await using server = await startServer();
  const port = Number(new URL(server.url).port);
  const stalled: Deno.TcpConn[] = [];
  for (let i = 0; i < 1000; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    stalled.push(conn);
    await conn.write(encoder.encode(
      i % 2 === 0
        ? "GET /api/games HTTP/1.1\r\nHost: t\r\nX-Slow: "
        : `PUT /api/games/x HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${TOKEN}\r\n` +
          `Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ho`,
    ));
  }
  try {
    const write = await call(server.url, "/api/games/g", {
      method: "PUT",
      token: TOKEN,
      body: gameBody(),
    });
    assert.equal(write.status, 201);
    const sse = await openSse(`${server.url}/api/games/g/events`);
    assert.ok((await sse.inbox.next()).retry !== undefined, "the stream opens");
    assert.equal(JSON.parse((await sse.inbox.next()).data).type, "snapshot");
    await sse.close();
  } finally {
    for (const conn of stalled) conn.close();
  }
});
