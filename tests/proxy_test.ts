/**
 * deploy/nginx.conf in front of the real main.ts: the defence against slow and silent clients
 * that Deno's server does not have (no header or idle timeout). Feeds, writes and WebSockets pass
 * through; X-Forwarded-For is set by nginx, so a client cannot pick its own address; half-sent
 * headers and bodies are cut off by nginx and never reach the service. The timeouts are shortened
 * to 1 s here, nothing else is changed.
 */
import assert from "node:assert/strict";
import { skipWithout } from "./support/binaries.ts";
import { type HttpFeed, openSse, openWs, type SseEvent } from "./support/feeds.ts";
import { call, gameBody } from "./support/http.ts";
import { startNginx } from "./support/nginx.ts";
import { type Child, spawnMain } from "./support/process.ts";
import { readToEnd, writeAll } from "./support/raw_http.ts";
import { closeCode, emptyFrames, openRawWs } from "./support/raw_ws.ts";

const TOKEN = "proxy-test-token-00000";

interface Front {
  url: string;
  port: number;
  app: Child;
  close(): Promise<void>;
}

async function startFront(env: Record<string, string>): Promise<Front> {
  const app = await spawnMain({
    SCORELINE_DATA: ":memory:",
    SCORELINE_TOKENS: TOKEN,
    SCORELINE_TRUST_PROXY: "1",
    ...env,
  });
  let nginx;
  try {
    // The site as it ships, with its client timeouts shortened to 1 s so a test can see them.
    nginx = await startNginx(new URL(app.url).host, { timeoutSeconds: 1 });
  } catch (error) {
    app.kill("SIGTERM");
    await app.exited;
    throw error;
  }
  return {
    url: nginx.url,
    port: nginx.port,
    app,
    async close() {
      await nginx.stop();
      app.kill("SIGTERM");
      await app.exited;
    },
  };
}

/** Runs `test` against a fresh front, and stops it whatever happens. */
async function withFront(env: Record<string, string>, test: (front: Front) => Promise<void>) {
  const front = await startFront(env);
  try {
    await test(front);
  } finally {
    await front.close();
  }
}

/** A write through the front, and `sse` seeing its update arrive. */
async function writeAndSee(front: Front, sse: HttpFeed<SseEvent>): Promise<void> {
  const put = await call(front.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(1),
  });
  assert.equal(put.status, 201);
  await sse.inbox.until((event) => event.event === "update");
}

const options = { ignore: skipWithout("nginx") };

Deno.test({
  ...options,
  name: "through nginx, writes, streams and WebSockets work as they do direct",
  async fn() {
    const front = await startFront({});
    try {
      const sse = await openSse(`${front.url}/api/games/g/events`);
      const ws = await openWs(`${front.url}/api/games/g/ws`);
      await writeAndSee(front, sse);
      assert.equal((await ws.inbox.until((m) => m.type !== "ping")).at(-1).type, "update");
      assert.equal(sse.headers.get("content-type"), "text/event-stream; charset=utf-8");
      await sse.close();
      await ws.close();
      const big = await call(front.url, "/api/games/g", {
        method: "PUT",
        token: TOKEN,
        raw: JSON.stringify({ ...gameBody(), title: "x".repeat(20_000) }),
        headers: { "content-type": "application/json" },
      });
      assert.equal(big.status, 413, "the body limit holds behind nginx");
      assert.equal(
        big.headers.get("content-type"),
        "application/problem+json",
        "answered by the service",
      );
    } finally {
      await front.close();
    }
  },
});

Deno.test({
  ...options,
  name: "through nginx, a client cannot choose its X-Forwarded-For to dodge the per-client cap",
  async fn() {
    // The v1 setting (the first hop) and the v2 one (the rightmost hop that is not a proxy).
    const settings: Record<string, string>[] = [
      {},
      { SCORELINE_TRUST_PROXY: "0", SCORELINE_TRUSTED_PROXIES: "127.0.0.1" },
    ];
    for (const trust of settings) {
      await withFront({ SCORELINE_FEEDS_PER_CLIENT: "2", ...trust }, async (front) => {
        const spoof = (n: number) => ({ "x-forwarded-for": `203.0.113.${n}` });
        const first = await openSse(`${front.url}/api/events`, spoof(1));
        const second = await openSse(`${front.url}/api/events`, spoof(2));
        const third = await call(front.url, "/api/stream", { headers: spoof(3) });
        assert.equal(third.status, 429, JSON.stringify(trust));
        assert.equal(third.headers.get("content-type"), "application/problem+json");
        await first.close();
        await second.close();
      });
    }
  },
});

Deno.test({
  ...options,
  name: "through nginx, a WebSocket flooded with empty frames is dropped, and others are served",
  fn: () =>
    withFront({ SCORELINE_TRUSTED_PROXIES: "127.0.0.1" }, async (front) => {
      const sse = await openSse(`${front.url}/api/games/g/events`);
      const { conn, status, rest } = await openRawWs(front.port, "/api/ws");
      assert.equal(status, 101);
      const ended = closeCode(conn, rest);
      await writeAll(conn, emptyFrames(1, 100_000)).catch(() => {});
      assert.ok([1008, 0, -1].includes(await ended), "the connection ended");
      conn.close();
      await writeAndSee(front, sse);
      await sse.close();
    }),
});

Deno.test({
  ...options,
  name: "through nginx, half-sent headers and bodies are cut off without reaching the service",
  async fn() {
    const front = await startFront({});
    try {
      const encoder = new TextEncoder();
      const slow = [
        "GET /api/games HTTP/1.1\r\nHost: t\r\nX-Slow: ",
        `PUT /api/games/slow HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ho`,
        "", // connected, silent
      ];
      for (const request of slow) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: front.port });
        if (request) await conn.write(encoder.encode(request));
        const { hung } = await readToEnd(conn);
        conn.close();
        assert.equal(hung, false, `nginx closes ${JSON.stringify(request.slice(0, 20))}`);
      }
      assert.equal((await call(front.url, "/api/games/slow")).status, 404, "nothing arrived");
    } finally {
      await front.close();
    }
  },
});
