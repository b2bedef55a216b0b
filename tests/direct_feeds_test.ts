/**
 * Feed GETs are served before Hono (feeds/direct.ts). Each request here is answered twice, once
 * over a socket (Deno.serve's handler, the direct path) and once by the app itself (Hono), and
 * the two answers must agree: status, headers (names, and values but the request id), body, and
 * the log line a failure writes.
 */
import assert from "node:assert/strict";
import { createLogger } from "../core/log.ts";
import { ManualClock } from "./support/clock.ts";
import { call, gameBody } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

interface Seen {
  status: number;
  headers: [string, string][];
  body: string;
}

/** What the wire adds (an app's own Response has neither). */
const WIRE = new Set(["date", "content-length"]);

/** The answer without what differs by design: the request id's value, the wire's headers. */
async function seen(response: Response): Promise<Seen> {
  const headers = [...response.headers].filter(([name]) => !WIRE.has(name)).map((
    [name, value],
  ): [string, string] => name === "x-request-id" ? [name, "<id>"] : [name, value]);
  return { status: response.status, headers, body: await response.text() };
}

Deno.test("a feed request answered before Hono gets exactly what the app answers", async () => {
  const clock = new ManualClock();
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("info", (line) => lines.push(JSON.parse(line)));
  await using server = await startServer({ clock, log, env: { SCORELINE_FEED_RATE: "0" } });
  const put = await call(server.url, "/api/games/a", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
  });
  assert.equal(put.status, 201);
  const version = put.json.version;
  const paths = [
    "/api/games/a/poll?timeout=0",
    `/api/games/a/poll?since=${version}&timeout=0`,
    `/api/games/a/poll?since=${version - 1}&timeout=0&delta=1`,
    "/api/poll?timeout=0&games=a,b",
    "/api/poll?timeout=0&competition=cup",
    "/api/poll?timeout=0&since=1&since=2&viewers",
    "/api/poll?since=x",
    "/api/poll?since=99999999999999999",
    "/api/poll?timeout=61",
    "/api/poll?viewers=2",
    "/api/poll?delta=yes",
    "/api/poll?games=a&competition=cup",
    "/api/poll?games=a&games=b",
    "/api/poll?games=A",
    "/api/games/a/ws",
  ];
  for (const path of paths) {
    const before = lines.length;
    const direct = await seen(await fetch(server.url + path));
    const directLines = lines.slice(before);
    const throughHono = await seen(
      await server.app.fetch(new Request(server.url + path), {
        remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 40000 },
      }),
    );
    const honoLines = lines.slice(before + directLines.length);
    assert.deepEqual(direct, throughHono, path);
    const strip = (line: Record<string, unknown>) => {
      const { time: _t, seconds: _s, requestId: _r, ...rest } = line;
      return rest;
    };
    assert.deepEqual(directLines.map(strip), honoLines.map(strip), `${path}: its log lines`);
  }
  assert.ok(lines.some((line) => line.problem === "validation"), "failures were logged");
});

Deno.test("a feed request's own X-Request-Id comes back from the direct path", async () => {
  await using server = await startServer();
  const answer = await call(server.url, "/api/poll?timeout=0", {
    headers: { "x-request-id": "board-7" },
  });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("x-request-id"), "board-7");
  assert.equal(answer.headers.get("x-content-type-options"), "nosniff");
  assert.equal(answer.headers.get("access-control-allow-origin"), "*");
});

Deno.test("what Hono would decode, and other methods, still go through the app", async () => {
  await using server = await startServer();
  // %2C is a comma: decoded, it is the list a,b (Hono decodes it; the direct path leaves it).
  const encoded = await call(server.url, "/api/poll?timeout=0&games=a%2Cb");
  assert.equal(encoded.status, 200);
  assert.deepEqual(encoded.json.messages[0].games, []);
  const head = await fetch(server.url + "/api/games/a/poll", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("x-content-type-options"), "nosniff");
  await head.body?.cancel();
  const post = await call(server.url, "/api/poll", { method: "POST" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  const badId = await call(server.url, "/api/games/Nope/poll");
  assert.equal(badId.status, 400);
  assert.equal(badId.json.errors[0].path, "id");
});
