/**
 * Connection churn: ten rounds of 2,000 clients that connect and drop, in every way a crowd does
 * (a bare connect, half a header, half a body, a short poll, an SSE or NDJSON stream, a waiting
 * long poll, a WebSocket), a hundred at a time. Afterwards every feed slot is back and the live
 * heap (after GC; `deno task test` passes --expose-gc) is where it was after the first round,
 * within HEAP_MARGIN: a leak of 200 bytes per connection would show as 3.6 MB.
 *
 * Deno keeps a closed server WebSocket until its idle timer fires (feeds/ws.ts), so this test
 * gives sockets a 1 s idle timeout: what is kept for the last second of sockets is the same after
 * every round, and anything that stayed for good would pile up.
 */
import assert from "node:assert/strict";
import { liveHeap } from "./support/heap.ts";
import { call, gameBody } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

const ROUNDS = 10;
const PER_ROUND = 2000;
const AT_ONCE = 100;
const HEAP_MARGIN = 4 * 1024 * 1024;

const encoder = new TextEncoder();

interface Kind {
  name: string;
  request: string | null;
  /** Wait for the first bytes of the answer before dropping (a feed has started). */
  answered: boolean;
}

function kinds(cursor: number): Kind[] {
  const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;
  return [
    { name: "a bare connect", request: null, answered: false },
    {
      name: "half a header",
      request: "GET /api/games HTTP/1.1\r\nHost: t\r\nX-Half: ",
      answered: false,
    },
    {
      name: "half a body",
      request: `PUT /api/games/churn HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ho`,
      answered: false,
    },
    { name: "a short poll, kept alive", request: get("/api/games"), answered: true },
    { name: "SSE, all games", request: get("/api/events"), answered: true },
    { name: "NDJSON, one game", request: get("/api/games/a/stream"), answered: true },
    {
      name: "a waiting long poll",
      request: get(`/api/poll?since=${cursor}&timeout=60`),
      answered: false,
    },
    {
      name: "a WebSocket",
      request: get(
        "/api/ws",
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
      ),
      answered: true,
    },
  ];
}

async function connectAndDrop(port: number, kind: Kind): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    if (kind.request !== null) {
      await conn.write(encoder.encode(kind.request));
      if (kind.answered) await conn.read(new Uint8Array(4096));
    }
  } finally {
    conn.close();
  }
}

async function round(port: number, all: Kind[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: AT_ONCE }, async () => {
    while (next < PER_ROUND) await connectAndDrop(port, all[next++ % all.length]!);
  }));
}

Deno.test("ten rounds of 2,000 connects and drops give back every feed slot and leave the heap where it was", async () => {
  await using server = await startServer({
    // Every client is 127.0.0.1: no per-address limit may refuse the churn it is here to make.
    env: {
      SCORELINE_FEEDS_PER_CLIENT: "100000",
      SCORELINE_FEED_RATE: "0",
      SCORELINE_WS_PER_CLIENT: "100000",
      SCORELINE_WS_IDLE_TIMEOUT: "1",
    },
  });
  await call(server.url, "/api/games/a", { method: "PUT", token: TOKEN, body: gameBody() });
  const cursor = (await call(server.url, "/api/poll")).json.cursor;
  const port = Number(new URL(server.url).port);
  const all = kinds(cursor);

  await round(port, all); // warm-up: code compiled, pools and caches filled
  await server.slotsDownTo(0);
  const start = liveHeap();
  const heaps: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    await round(port, all);
    await server.slotsDownTo(0);
    heaps.push(liveHeap());
  }
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  console.log(`live heap: ${mib(start)} MiB after the warm-up, then ${heaps.map(mib).join(", ")}`);
  for (const transport of ["sse", "ndjson", "ws", "long_poll"] as const) {
    assert.equal(server.hub.open(transport), 0, `no ${transport} subscriber left`);
  }
  const grown = Math.max(...heaps) - start;
  assert.ok(grown < HEAP_MARGIN, `the heap grew by ${mib(grown)} MiB (margin ${mib(HEAP_MARGIN)})`);
  const write = await call(server.url, "/api/games/a", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(1),
  });
  assert.equal(write.status, 200, "and the service goes on");
});
