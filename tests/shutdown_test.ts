/**
 * Graceful shutdown of the real main.ts: with viewers on every transport, a client that reads
 * nothing and writes in flight, SIGTERM (and SIGINT) must answer the long poll, end the streams
 * and sockets cleanly, finish the writes it accepted, close the store and exit 0.
 */
import assert from "node:assert/strict";
import { openNdjson, openSse, openWs } from "./support/feeds.ts";
import { gameBody } from "./support/http.ts";
import { spawnMain } from "./support/process.ts";

const TOKEN = "shutdown-test-token-0000";

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal} ends every feed cleanly, keeps every acknowledged write and exits 0`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "scoreline-shutdown-" });
    const env = {
      SCORELINE_DATA: `${dir}/s.db`,
      SCORELINE_TOKENS: TOKEN,
      SCORELINE_WRITE_RATE: "0",
      SCORELINE_LOG: "debug",
    };
    try {
      const child = await spawnMain(env);
      const put = (id: string) =>
        fetch(`${child.url}/api/games/${id}`, {
          method: "PUT",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify(gameBody()),
        }).then(
          async (r) => ({ id, status: r.status, body: await r.text() }),
          () => ({ id, status: 0, body: "" }),
        );
      await put("before");
      const sse = await openSse(`${child.url}/api/events`);
      const ndjson = await openNdjson(`${child.url}/api/stream`);
      const ws = await openWs(`${child.url}/api/ws`);
      assert.equal((await ndjson.inbox.next()).type, "snapshot");
      assert.equal((await ws.inbox.next()).type, "snapshot");
      const cursor = (await (await fetch(`${child.url}/api/poll`)).json()).cursor;
      const poll = fetch(`${child.url}/api/poll?since=${cursor}&timeout=60`);
      // The poll must be waiting before the signal, or it would only meet a closed port.
      await child.logged(/"msg":"feeds open","transport":"long_poll","open":1\b/);
      const port = Number(new URL(child.url).port);

      const stuck = await Deno.connect({ hostname: "127.0.0.1", port });
      await stuck.write(new TextEncoder().encode("GET /api/events HTTP/1.1\r\nHost: t\r\n\r\n"));

      const writes = Array.from({ length: 20 }, (_, i) => put(`inflight-${i}`));
      child.kill(signal);

      const pollAnswer = await poll;
      assert.ok(
        [200, 204].includes(pollAnswer.status),
        `the long poll is answered (${pollAnswer.status})`,
      );
      await pollAnswer.body?.cancel();
      await sse.done;
      await ndjson.done;
      const closed = await ws.closed;
      assert.equal(
        closed.code,
        1001,
        "the socket says going away, so the client reconnects elsewhere",
      );
      const status = await child.exited;
      assert.equal(status.code, 0, child.lines.join("\n"));
      assert.ok(
        child.lines.some((line) => line.includes('"msg":"stopped"')),
        "the store was closed before exit",
      );
      stuck.close();
      await assert.rejects(() => fetch(`${child.url}/healthz`), "no longer accepting");

      const outcomes = await Promise.all(writes);
      const acknowledged = outcomes.filter((o) => o.status === 201);
      assert.ok(
        outcomes.every((o) => o.status === 201 || o.status === 0 || o.status === 503),
        JSON.stringify(outcomes.map((o) => o.status)),
      );
      const again = await spawnMain(env);
      try {
        const games = (await (await fetch(`${again.url}/api/games`)).json()).games.map((
          g: { id: string },
        ) => g.id);
        for (const { id } of acknowledged) {
          assert.ok(games.includes(id), `${id} was acknowledged, so it is there`);
        }
      } finally {
        again.kill("SIGTERM");
        await again.exited;
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
