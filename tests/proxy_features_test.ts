/**
 * The nginx configuration the README recommends (deploy/nginx.conf), run for real in
 * front of a server: writes pass with their token, SSE arrives unbuffered while the stream stays
 * open, WebSockets upgrade, a long poll is held and wakes, and nginx's request id is the one the
 * service logs and echoes.
 */
import assert from "node:assert/strict";
import { createLogger } from "../core/log.ts";
import { skipWithout } from "./support/binaries.ts";
import { startNginx } from "./support/nginx.ts";
import { openSse, openWs } from "./support/feeds.ts";
import { call, gameBody } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

const ignore = skipWithout("nginx");

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
    // Closed however the test ends: nginx's graceful stop waits for its open connections.
    const open: { close(): Promise<unknown> }[] = [];
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
      open.push(sse);
      assert.equal(sse.status, 200);
      assert.equal(sse.headers.get("content-type"), "text/event-stream; charset=utf-8");
      await sse.inbox.until((e) => e.event === "snapshot");
      const ws = await openWs(`${proxy.url}/api/ws`);
      open.push(ws);
      assert.equal((await ws.inbox.next()).type, "snapshot");
      assert.equal((await ws.inbox.next()).type, "ping");
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

      // A page served through nginx (the console) writes from nginx's origin, port included;
      // a page of another origin may not.
      const sameOrigin = await call(proxy.url, "/api/games/cup/score", {
        method: "POST",
        token: TOKEN,
        body: { side: "away", points: 1 },
        headers: { origin: proxy.url },
      });
      assert.equal(sameOrigin.status, 200, sameOrigin.text);
      const elsewhere = await call(proxy.url, "/api/games/cup/score", {
        method: "POST",
        token: TOKEN,
        body: { side: "away", points: 1 },
        headers: { origin: "http://elsewhere.example" },
      });
      assert.equal(elsewhere.status, 403, elsewhere.text);

      const metrics = await call(proxy.url, "/metrics");
      assert.equal(metrics.status, 200, "metrics are open to 127.0.0.1");
    } finally {
      for (const feed of open) await feed.close();
      await proxy.stop();
    }
  },
});
