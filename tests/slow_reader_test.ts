/**
 * Slow readers: twenty clients that read nothing while 5,000 updates of the largest game the
 * contract allows (about 1.5 KiB each, 7.5 MiB in all) are published. The bound this proves:
 * the live heap grows by less than 2 MiB, and the hub holds at most one update per game for each
 * stuck viewer, because their streams stop at 64 KiB queued and later updates are conflated.
 * (An unbounded queue would keep what the kernel's ~4 MiB socket buffers cannot take: over
 * 3 MiB of messages plus a queue entry per message per viewer.) Meanwhile the viewers that do
 * read get every single version. Once stuck for 30 s they are closed, to resume by cursor.
 */
import assert from "node:assert/strict";
import { ManualClock } from "./support/clock.ts";
import { Inbox, openNdjson, openSse, openWs } from "./support/feeds.ts";
import { liveHeap } from "./support/heap.ts";
import { call, largestGame } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

const UPDATES = 5000;
const STUCK = 20;
const HEAP_BOUND = 2 * 1024 * 1024;

/** A client that sends its request and then never reads a byte. */
async function stuckClient(port: number, path: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`));
  return conn;
}

/** Reads a connection to its end (the server closing it), discarding what arrives. */
async function drainToEnd(conn: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    while ((await conn.read(buffer)) !== null);
  } catch {
    // Reset by the server: ended as well.
  }
}

Deno.test("a viewer that reads nothing costs bounded memory and delays no one", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock });
  const put = (score: number) =>
    call(server.url, "/api/games/big", { method: "PUT", token: TOKEN, body: largestGame(score) });
  const publish = async (from: number, count: number) => {
    let last = 0;
    for (let i = from; i < from + count; i += 10) {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, k) => put(i + k)));
      last = Math.max(last, ...answers.map((a) => a.json.version));
    }
    return last;
  };
  const first = await put(0);
  assert.equal(first.status, 201);

  // Viewers that read, one per streaming transport; each records the versions it is given.
  const sse = await openSse(`${server.url}/api/games/big/events`);
  const ndjson = await openNdjson(`${server.url}/api/stream`);
  const ws = await openWs(`${server.url}/api/games/big/ws`);
  const readers: [string, Inbox<number>][] = [];
  const follow = (name: string, next: () => Promise<number | null>) => {
    const versions = new Inbox<number>();
    readers.push([name, versions]);
    (async () => {
      for (;;) {
        const version = await next().catch(() => undefined);
        if (version === undefined) return versions.end();
        if (version !== null) versions.push(version);
      }
    })();
  };
  follow("sse", async () => {
    const event = await sse.inbox.next(60_000);
    return event.id ? Number(event.id) : null;
  });
  follow("ndjson", async () => (await ndjson.inbox.next(60_000)).version ?? null);
  follow("ws", async () => (await ws.inbox.next(60_000)).version ?? null);

  // Warm-up: the code paths compile and caches fill before the baseline is taken.
  await publish(1, 1000);

  const port = Number(new URL(server.url).port);
  const paths = ["/api/games/big/events", "/api/events", "/api/games/big/stream", "/api/stream"];
  const stuck = await Promise.all(
    Array.from({ length: STUCK }, (_, i) => stuckClient(port, paths[i % paths.length]!)),
  );
  try {
    await server.opened("sse", 1 + STUCK / 2);
    await server.opened("ndjson", 1 + STUCK / 2);
    const heapBefore = liveHeap();
    const last = await publish(1001, UPDATES);
    for (const [name, versions] of readers) {
      const got = await versions.until((v) => v >= last);
      const expected = Array.from(
        { length: last - first.json.version + 1 },
        (_, k) => first.json.version + k,
      );
      assert.deepEqual(got, expected, `${name} got every version, in order`);
    }
    const growth = liveHeap() - heapBefore;
    assert.ok(growth < HEAP_BOUND, `live heap grew by ${(growth / 1048576).toFixed(2)} MiB`);
    assert.ok(
      server.hub.held() <= STUCK,
      `held ${server.hub.held()} updates for ${STUCK} stuck viewers`,
    );
    assert.ok(server.hub.counters.conflated > 0, "the stuck viewers were conflated");
    assert.equal(server.hub.counters.slowClosed, 0);

    // Stuck past the time bound: closed, so they reconnect and resume by cursor.
    clock.advance(30_250);
    assert.equal(server.hub.counters.slowClosed, STUCK);
    await Promise.all(stuck.map(drainToEnd));
    await server.slotsDownTo(3); // their feed slots are free again, once Deno let go of them
  } finally {
    for (const conn of stuck) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }
  await sse.close();
  await ndjson.close();
  await ws.close();
});
