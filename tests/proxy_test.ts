/**
 * deploy/nginx.conf in front of the real main.ts: the defence against slow and silent clients
 * that Deno's server does not have (no header or idle timeout). Feeds, writes and WebSockets pass
 * through; X-Forwarded-For is set by nginx, so a client cannot pick its own address; half-sent
 * headers and bodies are cut off by nginx and never reach the service. The timeouts are shortened
 * to 1 s here, nothing else is changed.
 */
import assert from "node:assert/strict";
import { findBinary, skipWithout } from "./support/binaries.ts";
import { openSse, openWs } from "./support/feeds.ts";
import { call, gameBody } from "./support/http.ts";
import { type Child, spawnMain } from "./support/process.ts";
import { readToEnd } from "./support/raw_http.ts";

const TOKEN = "proxy-test-token-00000";
const CONFIG = new URL("../deploy/nginx.conf", import.meta.url).pathname;

interface Front {
  url: string;
  port: number;
  app: Child;
  close(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Resolves once something answers on the port (nginx prints nothing when it is ready). */
async function answering(url: string, nginx: Deno.ChildProcess): Promise<void> {
  let exited = false;
  nginx.status.then(() => (exited = true));
  for (let i = 0; i < 200 && !exited; i++) {
    try {
      await (await fetch(`${url}/healthz`)).body?.cancel();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  throw new Error("nginx did not start");
}

async function startFront(env: Record<string, string>): Promise<Front> {
  const app = await spawnMain({
    SCORELINE_DATA: ":memory:",
    SCORELINE_TOKENS: TOKEN,
    SCORELINE_TRUST_PROXY: "1",
    ...env,
  });
  const dir = await Deno.makeTempDir({ prefix: "scoreline-nginx-" });
  for (let attempt = 0;; attempt++) {
    const port = freePort();
    const site = (await Deno.readTextFile(CONFIG))
      .replace("server 127.0.0.1:8080;", `server ${new URL(app.url).host};`)
      .replace("listen 80;", `listen 127.0.0.1:${port};`)
      .replaceAll(/timeout 10s;/g, "timeout 1s;");
    await Deno.writeTextFile(
      `${dir}/nginx.conf`,
      `daemon off;\nmaster_process off;\npid ${dir}/nginx.pid;\nerror_log stderr error;\n` +
        `events { worker_connections 1024; }\n` +
        `http {\naccess_log off;\nclient_body_temp_path ${dir};\nproxy_temp_path ${dir};\n` +
        `${site}\n}\n`,
    );
    const nginx = new Deno.Command(findBinary("nginx")!, {
      args: ["-p", dir, "-c", `${dir}/nginx.conf`],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const url = `http://127.0.0.1:${port}`;
    try {
      await answering(url, nginx);
    } catch (error) {
      const { stderr } = await nginx.output();
      if (attempt < 3 && /Address already in use/.test(new TextDecoder().decode(stderr))) continue;
      app.kill("SIGTERM");
      await app.exited;
      throw error;
    }
    return {
      url,
      port,
      app,
      async close() {
        nginx.kill("SIGTERM");
        await nginx.output();
        app.kill("SIGTERM");
        await app.exited;
        await Deno.remove(dir, { recursive: true });
      },
    };
  }
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
      const put = await call(front.url, "/api/games/g", {
        method: "PUT",
        token: TOKEN,
        body: gameBody(1),
      });
      assert.equal(put.status, 201);
      await sse.inbox.until((event) => event.event === "update");
      assert.equal((await ws.inbox.next()).type, "update");
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
    const front = await startFront({ SCORELINE_FEEDS_PER_CLIENT: "2" });
    try {
      const spoof = (n: number) => ({ "x-forwarded-for": `203.0.113.${n}` });
      const first = await openSse(`${front.url}/api/events`, spoof(1));
      const second = await openSse(`${front.url}/api/events`, spoof(2));
      const third = await call(front.url, "/api/stream", { headers: spoof(3) });
      assert.equal(third.status, 429);
      assert.equal(third.headers.get("content-type"), "application/problem+json");
      await first.close();
      await second.close();
    } finally {
      await front.close();
    }
  },
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
