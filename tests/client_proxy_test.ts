/**
 * The client library's `auto` transport behind worse proxies than the documented one: nginx
 * running deploy/nginx.conf with the WebSocket upgrade headers removed (the upgrade never reaches
 * the service, which answers 426), and the same nginx buffering and compressing responses,
 * ignoring the service's `X-Accel-Buffering: no` (a stream's first bytes never arrive). The watch must find
 * the transport that works and end with exactly the server's state.
 */
import assert from "node:assert/strict";
import { Scorer, watch } from "../client/scoreline.js";
import { skipWithout } from "./support/binaries.ts";
import { startNginx } from "./support/nginx.ts";
import { startServer, TOKEN } from "./support/server.ts";
import { live, settles, statuses } from "./support/watching.ts";

const ignore = skipWithout("nginx", "apt-get install nginx");

/** deploy/scoreline-proxy.conf without the two headers that let a WebSocket upgrade through. */
function noUpgrades(conf: string): string {
  const out = conf.replace("proxy_set_header Upgrade $http_upgrade;", "")
    .replace(
      "proxy_set_header Connection $scoreline_connection;",
      'proxy_set_header Connection "";',
    );
  assert.notEqual(out, conf);
  return out;
}

/**
 * ...and buffering every answer, whatever the service asks, and compressing streams: nginx then
 * holds a stream's bytes until its compression buffers fill (kilobytes: minutes of pings), a
 * classic misconfiguration in front of SSE.
 */
function buffering(conf: string): string {
  const out = noUpgrades(conf)
    .replace("proxy_buffering off;", "proxy_buffering on;\nproxy_ignore_headers X-Accel-Buffering;")
    .replace(
      "gzip off;",
      "gzip on;\ngzip_types text/event-stream application/x-ndjson;\ngzip_min_length 1;",
    );
  assert.match(out, /proxy_buffering on;/);
  assert.match(out, /gzip on;/);
  return out;
}

async function scoreSome(url: string) {
  const scorer = new Scorer({ server: url, token: TOKEN });
  await scorer.put("a", { status: "live", home: { name: "Lions" }, away: { name: "Tigers" } });
  await scorer.event("a", { kind: "goal", side: "home", points: 1 });
  await scorer.score("a", "away", 2);
  await scorer.put("b", { home: { name: "Owls" }, away: { name: "Bears" } });
}

Deno.test({
  name: "behind nginx that drops the WebSocket upgrade headers, auto falls to SSE and ends exact",
  ignore,
  async fn() {
    await using server = await startServer();
    const nginx = await startNginx(new URL(server.url).host, { proxyConf: noUpgrades });
    const handle = watch({ server: nginx.url });
    try {
      const seen = statuses(handle);
      await live(handle, "sse");
      await scoreSome(server.url);
      await settles(handle, server.url, { all: true });
      assert.equal(handle.status.transport, "sse");
      assert.deepEqual(
        seen.map((s) => `${s.transport}:${s.state}${s.reason ? `:${s.reason}` : ""}`),
        ["websocket:connecting", "sse:connecting:websocket-failed", "sse:live"],
      );
    } finally {
      await handle.close();
      await nginx.stop();
    }
  },
});

Deno.test({
  name:
    "behind nginx that buffers and compresses streams, ignoring X-Accel-Buffering, auto falls to long polling and ends exact",
  ignore,
  async fn() {
    await using server = await startServer();
    const nginx = await startNginx(new URL(server.url).host, { proxyConf: buffering });
    // Two seconds for a stream's first message, instead of ten: the stream will never deliver.
    const handle = watch({ server: nginx.url, openTimeoutMs: 2_000 });
    try {
      const seen = statuses(handle);
      await live(handle, "poll");
      await scoreSome(server.url);
      await settles(handle, server.url, { all: true });
      assert.equal(handle.status.transport, "poll");
      assert.deepEqual(
        seen.map((s) => `${s.transport}:${s.state}${s.reason ? `:${s.reason}` : ""}`),
        [
          "websocket:connecting",
          "sse:connecting:websocket-failed",
          "poll:connecting:silent",
          "poll:live",
        ],
      );
    } finally {
      await handle.close();
      await nginx.stop();
    }
  },
});
