/**
 * Abuse: clients that dribble their requests, flood writes, hoard feeds or churn connections,
 * flood a WebSocket with frames, or stop reading and come back for more. None of them may hold
 * the service, or hurt anyone else.
 */
import assert from "node:assert/strict";
import { SLOT_LINGER_MS } from "../core/capacity.ts";
import { ReadBudget, WS_BURST_MS, WS_MAX_FRAMES, WS_MAX_RECEIVED } from "../feeds/ws.ts";
import { BODY_TIMEOUT_MS } from "../http/body.ts";
import { ManualClock } from "./support/clock.ts";
import { openNdjson, openSse, openWs } from "./support/feeds.ts";
import { call, gameBody, largestGame } from "./support/http.ts";
import { headerOf, openRawFeed, readAnswer, readResponse, writeAll } from "./support/raw_http.ts";
import {
  answerPings,
  closeCode,
  emptyFrames,
  maskedHeader,
  openRawWs,
  WS_HANDSHAKE,
} from "./support/raw_ws.ts";
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

Deno.test("a WebSocket that sends more than 16 frames, empty ones and pongs included, is closed with 1008", async () => {
  await using server = await startServer();
  const port = Number(new URL(server.url).port);
  // Text, binary, and unsolicited pongs (which Deno never hands to onmessage).
  for (const opcode of [1, 2, 0xa]) {
    const { conn, status, rest } = await openRawWs(port, "/api/ws");
    assert.equal(status, 101);
    const code = closeCode(conn, rest);
    await writeAll(conn, emptyFrames(opcode, WS_MAX_FRAMES + 1));
    assert.equal(await code, 1008, `opcode ${opcode}`);
    conn.close();
  }
  await server.closedTo("ws", 0);
  assert.equal(server.capacity.openWebSockets, 0);
});

Deno.test("pongs that answer Deno's pings, or a client's own heartbeat, never add up; a burst of frames does", () => {
  let now = 0;
  const budget = new ReadBudget(() => now);
  assert.equal(budget.read(), true, "Deno's call as the socket opens");
  // Answers to Deno's pings (every 0.5 s at the shortest idle timeout), then a heartbeat of ten
  // pongs a second: for an hour each.
  const spacings: [every: number, count: number][] = [[500, 7200], [WS_BURST_MS, 36_000]];
  for (const [every, count] of spacings) {
    for (let i = 0; i < count; i++) {
      now += every;
      assert.equal(budget.read(), true, `one every ${every} ms, frame ${i + 1}`);
    }
  }
  for (let i = 0; i < WS_MAX_FRAMES; i++) {
    now += 1;
    assert.equal(budget.read(), true, `frame ${i + 1} of a burst`);
  }
  now += WS_BURST_MS - 1;
  assert.equal(budget.read(), false, "one frame more, still within the burst's reach");
});

Deno.test("a client that answers Deno's pings, as browsers do, is not refused for its pongs", async () => {
  // Deno pings after half the idle timeout without a frame from the client: every 0.5 s here, so
  // the answers that would have gone over a plain count of frames take about 9 s.
  await using server = await startServer({ env: { SCORELINE_WS_IDLE_TIMEOUT: "1" } });
  const { conn, status, rest } = await openRawWs(Number(new URL(server.url).port), "/api/ws");
  assert.equal(status, 101);
  assert.equal(await answerPings(conn, rest, WS_MAX_FRAMES + 2), "open");
  conn.close();
  await server.closedTo("ws", 0);
});

Deno.test("messages count in total however far apart they come, by number and by bytes", () => {
  let now = 0;
  const spaced = new ReadBudget(() => now);
  for (let i = 0; i < WS_MAX_FRAMES; i++) {
    now += 60_000;
    assert.equal(spaced.read() && spaced.message("x"), true, `message ${i + 1}`);
  }
  now += 60_000;
  assert.equal(spaced.read(), true);
  assert.equal(spaced.message("x"), false, "the 17th message, an hour on");
  const big = new ReadBudget(() => now);
  assert.equal(big.message("x".repeat(WS_MAX_RECEIVED)), true);
  assert.equal(big.message(new ArrayBuffer(1)), false, "one byte over");
});

Deno.test("a WebSocket flooded with empty frames or pongs is dropped at once, and everyone else is served", async () => {
  await using server = await startServer();
  const port = Number(new URL(server.url).port);
  const viewer = await openSse(`${server.url}/api/games/g/events`);
  for (const opcode of [1, 2, 0xa]) {
    const { conn, status, rest } = await openRawWs(port, "/api/ws");
    assert.equal(status, 101);
    const ended = closeCode(conn, rest);
    // Far past the budget in one go. Deno drops the socket at the first frame after the close,
    // before the close frame goes out, so the flooder sees its connection end (or reset).
    await writeAll(conn, emptyFrames(opcode, 100_000)).catch(() => {});
    assert.ok([1008, 0, -1].includes(await ended), "the connection ended");
    conn.close();
  }
  await server.closedTo("ws", 0);
  const write = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(1),
  });
  assert.equal(write.status, 201);
  const update = (await viewer.inbox.until((event) => event.event === "update")).at(-1)!;
  assert.equal(JSON.parse(update.data).game.home.score, 1);
  await viewer.close();
});

Deno.test("one address holds at most SCORELINE_WS_PER_CLIENT WebSockets, and the service SCORELINE_MAX_WEBSOCKETS", async () => {
  await using server = await startServer({
    env: { SCORELINE_WS_PER_CLIENT: "2", SCORELINE_MAX_WEBSOCKETS: "3", SCORELINE_FEED_RATE: "0" },
  });
  const port = Number(new URL(server.url).port);
  const held: Deno.TcpConn[] = [];
  try {
    const open = async (headers: Record<string, string> = {}) => {
      const ws = await openRawWs(port, "/api/ws", headers);
      if (ws.status === 101) held.push(ws.conn);
      else ws.conn.close();
      return ws;
    };
    assert.equal((await open()).status, 101);
    assert.equal((await open()).status, 101);
    const third = await open();
    assert.equal(third.status, 429, "a third from one address");
    assert.match(third.head, /^content-type: application\/problem\+json/im);
    const sse = await openSse(`${server.url}/api/events`);
    assert.equal(sse.status, 200, "a stream is still open to it");
    await sse.close();
    // Beyond the total, from anywhere: 503 with Retry-After, so clients take another transport.
    await using behind = await startServer({
      env: { SCORELINE_MAX_WEBSOCKETS: "0", SCORELINE_FEED_RATE: "0" },
    });
    const none = await call(behind.url, "/api/ws", { headers: { ...WS_HANDSHAKE } });
    assert.equal(none.status, 503);
    assert.equal(none.headers.get("content-type"), "application/problem+json");
    assert.match(none.headers.get("retry-after") ?? "", /^[1-9][0-9]*$/);
  } finally {
    for (const conn of held) conn.close();
  }
  await server.closedTo("ws", 0);
});

Deno.test("a large WebSocket frame is refused with 1008 once it has arrived, and gives its slots back", async () => {
  await using server = await startServer();
  const port = Number(new URL(server.url).port);
  const { conn, status, rest } = await openRawWs(port, "/api/ws");
  assert.equal(status, 101);
  const code = closeCode(conn, rest);
  const size = 4 * 1024 * 1024;
  await writeAll(conn, maskedHeader(2, size));
  await writeAll(conn, new Uint8Array(size));
  assert.equal(await code, 1008);
  conn.close();
  await server.closedTo("ws", 0);
  assert.equal(server.capacity.openWebSockets, 0);
});

/**
 * Publishes updates of the largest game until every stuck viewer has an update held back (one
 * game, so one held update per viewer) even after the hub's tick has tried to send it: Deno
 * keeps taking a stream's bytes into its own buffers for a while after the kernel's are full.
 */
async function fillStuck(
  server: TestServer,
  clock: ManualClock,
  stuck: number,
  max = 20_000,
): Promise<void> {
  for (let i = 0; i < max; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, k) =>
      call(server.url, "/api/games/big", {
        method: "PUT",
        token: TOKEN,
        body: largestGame(i + k),
      })));
    clock.advance(250); // a tick: whatever Deno still takes is sent
    if (server.hub.held() >= stuck) return;
  }
  assert.fail(`${server.hub.held()} held for ${stuck} stuck viewers`);
}

Deno.test("a client that opens streams, stops reading and reopens in a loop holds no more sockets than its cap", async () => {
  const clock = new ManualClock();
  await using server = await startServer({
    clock,
    env: { SCORELINE_FEEDS_PER_CLIENT: "4", SCORELINE_FEED_RATE: "0" },
  });
  const port = Number(new URL(server.url).port);
  const stalled: Deno.TcpConn[] = [];
  try {
    for (let round = 1; round <= 3; round++) {
      const statuses = [];
      for (const path of ["/api/events", "/api/stream", "/api/events", "/api/stream"]) {
        const feed = await openRawFeed(port, path);
        statuses.push(feed.status);
        if (feed.status === 200) stalled.push(feed.conn); // and never read again
        else feed.conn.close();
      }
      assert.deepEqual(statuses, round === 1 ? [200, 200, 200, 200] : [429, 429, 429, 429]);
      if (round === 1) await fillStuck(server, clock, 4);
      // Stuck past the time bound: the hub gives up on them...
      clock.advance(30_250);
      assert.equal(server.hub.counters.slowClosed, 4);
      // ...but Deno is still blocked writing to their connections: the slots stay taken.
      assert.equal(server.capacity.open, 4, `round ${round}`);
    }
    // The client lets go of its connections: then, and only then, they come back.
    for (const conn of stalled.splice(0)) conn.close();
    await server.slotsDownTo(0);
    const again = await openRawFeed(port, "/api/events");
    assert.equal(again.status, 200);
    again.conn.close();
  } finally {
    for (const conn of stalled) conn.close();
  }
});

Deno.test("a WebSocket closed while its writes are stuck keeps its slot a while, even when the client makes Deno report it closed", async () => {
  const clock = new ManualClock();
  await using server = await startServer({
    clock,
    env: {
      SCORELINE_WS_PER_CLIENT: "2",
      SCORELINE_FEED_RATE: "0",
      SCORELINE_WS_IDLE_TIMEOUT: "3600",
    },
  });
  const port = Number(new URL(server.url).port);
  const stalled: Awaited<ReturnType<typeof openRawWs>>[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const ws = await openRawWs(port, "/api/ws");
      assert.equal(ws.status, 101);
      stalled.push(ws); // and not read until the end
    }
    await fillStuck(server, clock, 2);
    clock.advance(30_250);
    assert.equal(server.hub.counters.slowClosed, 2);
    // Each sends a frame: Deno now reports its socket closed, with its writes still blocked.
    for (const { conn } of stalled) await writeAll(conn, emptyFrames(1, 1));
    await server.closedTo("ws", 0);
    for (let round = 0; round < 3; round++) {
      const again = await openRawWs(port, "/api/ws");
      assert.equal(again.status, 429, `round ${round}: the address is still at its cap`);
      again.conn.close();
      clock.advance(SLOT_LINGER_MS / 4);
    }
    clock.advance(SLOT_LINGER_MS);
    const later = await openRawWs(port, "/api/ws");
    assert.equal(later.status, 101, "given back once the linger has passed");
    later.conn.close();
    // The client reads at last: Deno's stuck writes go out, then the close frame of the hub's
    // slow close. Only then has Deno's close op ended; closing the connection instead left it to
    // end at some later turn of the loop, sometimes after the test's op sanitizer had looked.
    for (const { conn, rest } of stalled.splice(0)) {
      assert.equal(await closeCode(conn, rest), 1013);
      conn.close();
    }
  } finally {
    for (const { conn } of stalled) conn.close();
  }
});
