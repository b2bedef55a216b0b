/**
 * Crowds behind one address (stadium Wi-Fi, carrier NAT) and what one address may do: over real
 * sockets, a thousand viewers from one address get their feeds under the defaults, while one
 * address opening feeds in a loop is held to SCORELINE_FEED_RATE; behind trusted proxies the
 * client is the rightmost X-Forwarded-For address that is not a proxy, and an IPv6 site is one
 * client however many addresses it uses.
 */
import assert from "node:assert/strict";
import { ManualClock } from "./support/clock.ts";
import { call } from "./support/http.ts";
import { openRawFeed } from "./support/raw_http.ts";
import { startServer, type TestServer } from "./support/server.ts";

const port = (server: TestServer) => Number(new URL(server.url).port);

/** Opens an SSE feed by hand and keeps its connection; returns its status (and head). */
async function openFeed(
  server: TestServer,
  held: Deno.TcpConn[],
  headers: Record<string, string> = {},
  path = "/api/events",
) {
  const feed = await openRawFeed(port(server), path, headers);
  if (feed.status === 200) held.push(feed.conn);
  else feed.conn.close();
  return feed;
}

function closeAll(conns: Deno.TcpConn[]): void {
  for (const conn of conns.splice(0)) conn.close();
}

/** A refusal's problem type and Retry-After, read from a raw head. */
function refusal(head: string): { type: string | undefined; retryAfter: string | undefined } {
  return {
    type: /^content-type: application\/problem\+json/im.test(head) ? "problem" : undefined,
    retryAfter: /^retry-after: *(\S+)/im.exec(head)?.[1],
  };
}

Deno.test("under the defaults, a thousand viewers behind one address all get their feeds", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock });
  const held: Deno.TcpConn[] = [];
  try {
    // They arrive as a crowd does after kick-off: a burst, then at the rate of new feeds (50 a
    // second, bursts of 100), all from 127.0.0.1.
    for (let batch = 0; batch < 10; batch++) {
      const statuses = [];
      for (let i = 0; i < 100; i++) statuses.push((await openFeed(server, held)).status);
      assert.deepEqual(new Set(statuses), new Set([200]), `batch ${batch}`);
      clock.advance(2000);
    }
    assert.equal(held.length, 1000);
    assert.equal(server.capacity.open, 1000);
    const beyond = await openFeed(server, held);
    assert.equal(beyond.status, 429, "the 1,001st is past SCORELINE_FEEDS_PER_CLIENT");
    assert.match(beyond.head, /^content-type: application\/problem\+json/im);
  } finally {
    closeAll(held);
  }
});

Deno.test("one address opening feeds in a loop gets 429 with Retry-After past the rate, and other addresses are served", async () => {
  const clock = new ManualClock();
  await using server = await startServer({
    clock,
    env: { SCORELINE_TRUSTED_PROXIES: "127.0.0.1/32", SCORELINE_FEED_RATE: "10" },
  });
  const held: Deno.TcpConn[] = [];
  const looper = { "x-forwarded-for": "198.51.100.1" };
  try {
    const statuses: number[] = [];
    let last = { status: 0, head: "" };
    for (let i = 0; i < 40; i++) {
      last = await openFeed(server, held, looper);
      statuses.push(last.status);
      closeAll(held); // and drops it at once, to open the next
    }
    assert.deepEqual(statuses, [...Array(20).fill(200), ...Array(20).fill(429)], "a burst of 2×10");
    assert.deepEqual(refusal(last.head), { type: "problem", retryAfter: "1" });
    const problem = await call(server.url, "/api/stream", { headers: looper });
    assert.equal(problem.status, 429);
    assert.equal(problem.headers.get("content-type"), "application/problem+json");
    assert.equal(problem.json.type, "/problems/too-many-new-feeds");

    // What the client writes to the left of the proxy's entry is never read: no way around it.
    const spoofed = await openFeed(server, held, {
      "x-forwarded-for": "203.0.113.9, 198.51.100.1",
    });
    assert.equal(spoofed.status, 429);
    // Another address behind the same proxy is not held up.
    const other = await openFeed(server, held, { "x-forwarded-for": "203.0.113.9" });
    assert.equal(other.status, 200);

    clock.advance(1000);
    const refilled = [];
    for (let i = 0; i < 12; i++) refilled.push((await openFeed(server, held, looper)).status);
    assert.deepEqual(refilled, [...Array(10).fill(200), 429, 429], "a second later: the rate");
  } finally {
    closeAll(held);
  }
});

/** A server behind trusted proxies (the test's own 127.0.0.1 among them), with no feed rate. */
function behindProxies(proxies: string, feedsPerClient: number, env: Record<string, string> = {}) {
  return startServer({
    env: {
      SCORELINE_TRUSTED_PROXIES: proxies,
      SCORELINE_FEEDS_PER_CLIENT: String(feedsPerClient),
      SCORELINE_FEED_RATE: "0",
      ...env,
    },
  });
}

Deno.test("behind trusted proxies the client is the rightmost address that is not a proxy", async () => {
  await using server = await behindProxies("127.0.0.1, 10.0.0.0/8", 1);
  const held: Deno.TcpConn[] = [];
  const xff = (value: string) => ({ "x-forwarded-for": value });
  try {
    assert.equal((await openFeed(server, held, xff("198.51.100.7, 10.1.1.1"))).status, 200);
    // The same client through another proxy hop, with whatever it wrote itself on the left.
    for (
      const value of ["198.51.100.7", "6.6.6.6, 198.51.100.7, 10.2.2.2", "garbage, 198.51.100.7"]
    ) {
      assert.equal((await openFeed(server, held, xff(value))).status, 429, value);
    }
    // Every hop a trusted proxy: the leftmost is the client.
    assert.equal((await openFeed(server, held, xff("10.9.9.9, 10.1.1.1"))).status, 200);
    assert.equal((await openFeed(server, held, xff("10.9.9.9"))).status, 429);
    // No header: the peer itself (127.0.0.1) is the client.
    assert.equal((await openFeed(server, held)).status, 200);
    assert.equal((await openFeed(server, held, xff(""))).status, 429, "an empty header is none");
  } finally {
    closeAll(held);
  }
});

Deno.test("an IPv6 site is one client: its /64 takes one client's feeds whatever addresses it uses", async () => {
  await using server = await behindProxies("127.0.0.1", 2);
  const held: Deno.TcpConn[] = [];
  const from = (address: string) => openFeed(server, held, { "x-forwarded-for": address });
  try {
    assert.equal((await from("2001:db8:0:1::1")).status, 200);
    assert.equal((await from("2001:db8:0:1:8000::2")).status, 200);
    const third = await from("[2001:db8:0:1::ffff]:4711");
    assert.equal(third.status, 429, "a third address of the same /64");
    assert.equal((await from("2001:db8:0:2::1")).status, 200, "the next /64 is someone else");
  } finally {
    closeAll(held);
  }
});

Deno.test("an X-Forwarded-For entry that is not an address, where it is read, is a 400 naming the header, and opens nothing", async () => {
  await using server = await startServer({ env: { SCORELINE_TRUSTED_PROXIES: "127.0.0.1" } });
  for (const value of ["garbage", "198.51.100.7, nope", "nope, 127.0.0.1", "1.2.3.4;5.6.7.8"]) {
    for (const path of ["/api/events", "/api/games/a/stream", "/api/poll"]) {
      const answer = await call(server.url, path, { headers: { "x-forwarded-for": value } });
      assert.equal(answer.status, 400, `${value} on ${path}`);
      assert.equal(answer.headers.get("content-type"), "application/problem+json");
      assert.equal(answer.json.type, "/problems/validation");
      assert.equal(answer.json.errors[0].path, "X-Forwarded-For");
    }
  }
  assert.equal(server.capacity.open, 0);
  await using direct = await startServer();
  const ignored = await call(direct.url, "/api/poll", {
    headers: { "x-forwarded-for": "garbage" },
  });
  assert.equal(ignored.status, 200, "from a peer that is not a trusted proxy, it is not read");
});

Deno.test("with both SCORELINE_TRUSTED_PROXIES and SCORELINE_TRUST_PROXY set, the trusted proxies decide", async () => {
  await using server = await behindProxies("127.0.0.1", 1, { SCORELINE_TRUST_PROXY: "1" });
  const held: Deno.TcpConn[] = [];
  try {
    const first = await openFeed(server, held, { "x-forwarded-for": "6.6.6.6, 198.51.100.7" });
    assert.equal(first.status, 200);
    // The first hop would be a new client every time; the rightmost untrusted one is not.
    const again = await openFeed(server, held, { "x-forwarded-for": "7.7.7.7, 198.51.100.7" });
    assert.equal(again.status, 429);
  } finally {
    closeAll(held);
  }
});
