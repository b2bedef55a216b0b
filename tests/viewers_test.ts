/**
 * Viewer counts end to end: `GET /api/viewers` and `GET /api/games/{id}/viewers` from real feeds
 * of every transport, and `viewers` messages on `?viewers=1` feeds, made on the injected clock's
 * 5-second count, sent only when a count in the feed's scope changed, moving no cursor.
 */
import assert from "node:assert/strict";
import { ManualClock } from "./support/clock.ts";
import { type Inbox, openNdjson, openSse, openWs } from "./support/feeds.ts";
import { call, gameBody } from "./support/http.ts";
import { startServer, type TestServer, TOKEN } from "./support/server.ts";

const put = (server: TestServer, id: string, competition?: string) =>
  call(server.url, `/api/games/${id}`, {
    method: "PUT",
    token: TOKEN,
    body: gameBody(0, 0, competition ? { competition } : {}),
  });

/** The next message, heartbeats skipped (three counts are a heartbeat's 15 s). */
// deno-lint-ignore no-explicit-any
async function next(inbox: Inbox<any>) {
  const [message] = (await inbox.until((m) => m.type !== "ping" && m.event !== "ping")).slice(-1);
  return message;
}

/** The next 5-second count, as the service's own timer starts it. */
async function tick(server: TestServer, clock: ManualClock) {
  clock.advance(5_000);
  await server.viewers.count();
}

Deno.test("GET /api/viewers and /api/games/{id}/viewers count the feeds whose scope names each game, every transport alike", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock });
  await put(server, "a", "cup");
  await put(server, "b", "cup");
  await put(server, "c");
  const { version } = (await call(server.url, "/api/games")).json;
  const feeds = [
    await openSse(`${server.url}/api/events?competition=cup`),
    await openNdjson(`${server.url}/api/games/c/stream`),
    await openSse(`${server.url}/api/events`),
    await openNdjson(`${server.url}/api/stream?games=a,later`),
  ];
  const ws = await openWs(`${server.url}/api/ws?games=c,b`);
  const poll = call(server.url, `/api/poll?competition=cup&since=${version}&timeout=60`);
  await server.opened("long_poll");
  await server.opened("sse", 2);
  await server.opened("ndjson", 2);
  await server.opened("ws");

  const before = await call(server.url, "/api/viewers");
  assert.deepEqual(before.json, { total: 0, games: {} }, "nothing counted before the first count");
  await tick(server, clock);
  const all = await call(server.url, "/api/viewers");
  assert.equal(all.status, 200);
  assert.equal(all.headers.get("content-type"), "application/json");
  assert.equal(all.headers.get("cache-control"), "max-age=5");
  assert.equal(all.headers.get("access-control-allow-origin"), "*");
  // a: the cup SSE feed and long poll, the list naming it; c: its own feed, the list naming it;
  // the unfiltered SSE feed counts only in the total.
  assert.deepEqual(all.json, { total: 6, games: { a: 3, b: 3, c: 2, later: 1 } });
  const one = await call(server.url, "/api/games/a/viewers");
  assert.equal(one.status, 200);
  assert.equal(one.headers.get("content-type"), "application/json");
  assert.equal(one.headers.get("cache-control"), "max-age=5");
  assert.deepEqual(one.json, { id: "a", viewers: 3 });
  assert.deepEqual((await call(server.url, "/api/games/nobody/viewers")).json, {
    id: "nobody",
    viewers: 0,
  });
  const bad = await call(server.url, "/api/games/No/viewers");
  assert.equal(bad.status, 400);
  assert.equal(bad.json.errors[0].path, "id");
  const wrong = await call(server.url, "/api/viewers", { method: "POST" });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "GET, HEAD");

  for (const feed of feeds) await feed.close();
  await ws.close();
  await put(server, "d", "cup"); // answers the long poll
  assert.equal((await poll).status, 200);
  await server.closedTo("sse", 0);
  await server.closedTo("ndjson", 0);
  await server.closedTo("ws", 0);
  await tick(server, clock);
  assert.deepEqual((await call(server.url, "/api/viewers")).json, { total: 0, games: {} });
});

Deno.test("?viewers=1 feeds get viewers messages on every transport at the 5-second count, only when a count in their scope changed, with no version", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock });
  await put(server, "a", "cup");
  const { version } = (await call(server.url, "/api/games")).json;
  const sse = await openSse(`${server.url}/api/events?competition=cup&viewers=1`);
  const ndjson = await openNdjson(`${server.url}/api/games/a/stream?viewers=1`);
  const ws = await openWs(`${server.url}/api/ws?games=a,zz&viewers=1`);
  const quiet = await openNdjson(`${server.url}/api/stream?competition=cup`);
  assert.equal((await sse.inbox.until((e) => e.event === "snapshot")).length, 2, "retry, then it");
  assert.equal((await next(ndjson.inbox)).type, "snapshot");
  assert.equal((await next(ws.inbox)).type, "snapshot");
  assert.equal((await next(quiet.inbox)).type, "snapshot");
  // Each feed's first ping follows its snapshot (the server's time as it opens).
  await sse.inbox.until((e) => e.event === "ping");
  for (const feed of [ndjson, ws, quiet]) await feed.inbox.until((m) => m.type === "ping");
  const poll = call(server.url, `/api/poll?competition=cup&since=${version}&timeout=60&viewers=1`);
  await server.opened("long_poll");

  clock.advance(4_999);
  assert.deepEqual((await call(server.url, "/api/viewers")).json.total, 0, "no count yet");
  assert.deepEqual([sse, ndjson, ws].map((feed) => feed.inbox.buffered), [0, 0, 0]);
  clock.advance(1);
  await server.viewers.count();
  const event = await next(sse.inbox);
  assert.deepEqual(event, {
    event: "viewers",
    data: '{"type":"viewers","games":{"a":5}}',
  }, "SSE: event: viewers, no id: line");
  assert.deepEqual(await next(ndjson.inbox), { type: "viewers", games: { a: 5 } });
  assert.deepEqual(await next(ws.inbox), { type: "viewers", games: { a: 5, zz: 1 } });
  const polled = await poll;
  assert.equal(polled.status, 200);
  assert.equal(polled.headers.get("content-type"), "application/json");
  const { time, ...answer } = polled.json;
  assert.deepEqual(answer, {
    cursor: version,
    messages: [{ type: "viewers", games: { a: 5 } }],
  }, "the poll's own cursor back: a count moves none");
  assert.equal(time, clock.now(), "with the server's time");

  // The client polls again at once: no count changed, so the next count sends nothing anywhere.
  const again = call(server.url, `/api/poll?competition=cup&since=${version}&timeout=60&viewers=1`);
  await server.opened("long_poll");
  await tick(server, clock);
  const changed = await put(server, "a", "cup");
  assert.equal((await next(sse.inbox)).event, "update", "the next SSE event is the update");
  assert.equal((await next(ndjson.inbox)).type, "update");
  assert.equal((await next(ws.inbox)).type, "update");
  assert.equal((await next(quiet.inbox)).type, "update");
  assert.deepEqual((await again).json.messages.map((m: { type: string }) => m.type), ["update"]);
  assert.equal((await again).json.cursor, changed.json.version);
  // A count that changes is sent: the poll is gone (-1), two more viewers of game a (+2).
  const more = [
    await openWs(`${server.url}/api/games/a/ws`),
    await openSse(`${server.url}/api/events?games=a`),
  ];
  await server.opened("ws", 2);
  await server.opened("sse", 2);
  await tick(server, clock);
  assert.deepEqual(JSON.parse((await next(sse.inbox)).data), { type: "viewers", games: { a: 6 } });
  assert.deepEqual(await next(ndjson.inbox), { type: "viewers", games: { a: 6 } });
  assert.deepEqual(await next(ws.inbox), { type: "viewers", games: { a: 6, zz: 1 } });
  const quietMessages = [];
  while (quiet.inbox.buffered > 0) quietMessages.push((await quiet.inbox.next()).type);
  assert.ok(!quietMessages.includes("viewers"), "a feed that did not ask gets no counts");
  for (const feed of [sse, ndjson, quiet, more[1]!]) await feed.close();
  await ws.close();
  await (more[0] as Awaited<ReturnType<typeof openWs>>).close();
});
