/**
 * The nginx configuration the README recommends (deploy/nginx.conf), run for real in
 * front of a server: writes pass with their token, SSE arrives unbuffered while the stream stays
 * open, WebSockets upgrade, a long poll is held and wakes, and nginx's request id is the one the
 * service logs and echoes.
 */
import assert from "node:assert/strict";
import { createLogger } from "../log.ts";
import { findBinary, skipWithout } from "./support/binaries.ts";
import { openSse, openWs } from "./support/feeds.ts";
import { call, gameBody } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

const ignore = skipWithout("nginx");

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts nginx with the documented site on a free port, proxying to `upstream`. */
async function startNginx(upstream: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-nginx-" });
  await Deno.chmod(dir, 0o777);
  const site = await Deno.readTextFile(new URL("../deploy/nginx.conf", import.meta.url));
  for (;;) {
    const port = freePort();
    const conf = `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  ${
      site.replace("server 127.0.0.1:8080;", `server ${upstream};`)
        .replace("listen 80;", `listen 127.0.0.1:${port};`)
    }
}
`;
    await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
    const child = new Deno.Command(findBinary("nginx")!, {
      args: ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const stop = async () => {
      try {
        child.kill("SIGQUIT");
      } catch {
        // Already gone.
      }
      await child.status;
      await stderr.cancel();
      await Deno.remove(dir, { recursive: true });
    };
    // Ready once it accepts connections, or failed if it exits (a port taken meanwhile: retry).
    const exited = child.status.then(() => false);
    for (let i = 0; i < 200; i++) {
      const up = await Deno.connect({ hostname: "127.0.0.1", port }).then((c) => {
        c.close();
        return true;
      }, () => false);
      if (up) return { url: `http://127.0.0.1:${port}`, stop };
      const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 25))]);
      if (done === false) break;
    }
    const log = await Deno.readTextFile(`${dir}/error.log`).catch(() => "");
    await stop();
    if (!/Address already in use/.test(log)) throw new Error(`nginx did not start:\n${log}`);
  }
}

Deno.test({
  name: "behind the documented nginx site, writes, SSE, WebSocket and long polls work unbuffered",
  ignore,
  fn: async () => {
    const lines: Record<string, unknown>[] = [];
    await using server = await startServer({
      env: { SCORELINE_TRUST_PROXY: "1" },
      log: createLogger("info", (line) => lines.push(JSON.parse(line))),
    });
    const proxy = await startNginx(server.url.replace("http://", ""));
    try {
      const put = await call(proxy.url, "/api/games/cup", {
        method: "PUT",
        token: TOKEN,
        body: gameBody(),
      });
      assert.equal(put.status, 201);
      assert.equal(put.headers.get("content-type"), "application/json");
      const requestId = put.headers.get("x-request-id")!;
      assert.match(requestId, /^[0-9a-f]{32}$/, "nginx's $request_id");
      assert.equal(lines.at(-1)!.requestId, requestId, "the service logged nginx's id");

      const sse = await openSse(`${proxy.url}/api/games/cup/events`);
      assert.equal(sse.status, 200);
      assert.equal(sse.headers.get("content-type"), "text/event-stream; charset=utf-8");
      await sse.inbox.until((e) => e.event === "snapshot");
      const ws = await openWs(`${proxy.url}/api/ws`);
      assert.equal((await ws.inbox.next()).type, "snapshot");
      const poll = call(proxy.url, `/api/games/cup/poll?since=${put.json.version}&timeout=30`);
      await server.opened("long_poll");

      const goal = await call(proxy.url, "/api/games/cup/score", {
        method: "POST",
        token: TOKEN,
        body: { side: "home", points: 1 },
      });
      assert.equal(goal.status, 200);
      // The stream is still open: had nginx buffered it, nothing would arrive until it ended.
      const [update] = (await sse.inbox.until((e) => e.event === "update")).slice(-1);
      assert.equal(JSON.parse(update!.data).game.home.score, 1);
      assert.equal(sse.inbox.ended, false);
      assert.equal((await ws.inbox.next()).type, "update");
      const polled = await poll;
      assert.equal(polled.status, 200);
      assert.equal(polled.json.messages[0].game.home.score, 1);

      const metrics = await call(proxy.url, "/metrics");
      assert.equal(metrics.status, 200, "metrics are open to 127.0.0.1");
      await sse.close();
      await ws.close();
    } finally {
      await proxy.stop();
    }
  },
});
