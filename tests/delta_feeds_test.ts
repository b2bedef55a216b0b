/**
 * `?delta=1` end to end, over real sockets, on every push transport for one game and for all
 * games: what comes whole (snapshot, catch-up, creation, re-creation) and what comes as a patch,
 * every patch applied with an independent RFC 6902 implementation and the client's picture
 * compared with the server's after every write; a slow viewer skipped forward by conflation gets
 * the game whole. (A malformed `delta` is in feeds_test.ts, with the other parameters.)
 */
import assert from "node:assert/strict";
import { ChunkedDecoder, Framer, HeadReader } from "../bench/load/wire.ts";
import { ManualClock } from "./support/clock.ts";
import { canonical, DeltaClient } from "./support/delta_client.ts";
import { call, gameBody, gameWrites, writtenVersion as versionOf } from "./support/http.ts";
import { startServer, type TestServer, TOKEN } from "./support/server.ts";
import {
  longPollViewer,
  type Msg,
  ndjsonViewer,
  sseViewer,
  type Viewer,
  wsViewer,
} from "./support/viewers.ts";

const TRANSPORTS = {
  sse: (url: string, path: string, cursor: number | null) =>
    sseViewer(`${url}${path}?delta=1`, cursor === null ? {} : { "last-event-id": `${cursor}` }),
  ndjson: (url: string, path: string, cursor: number | null) =>
    ndjsonViewer(`${url}${path}?delta=1${cursor === null ? "" : `&since=${cursor}`}`),
  ws: (url: string, path: string, cursor: number | null) =>
    wsViewer(`${url}${path}?delta=1${cursor === null ? "" : `&since=${cursor}`}`),
  long_poll: (url: string, path: string, cursor: number | null) =>
    Promise.resolve(longPollViewer(url, `${path}?delta=1`, cursor)),
};
const PATHS = {
  sse: ["/api/events", "/api/games/a/events"],
  ndjson: ["/api/stream", "/api/games/a/stream"],
  ws: ["/api/ws", "/api/games/a/ws"],
  long_poll: ["/api/poll", "/api/games/a/poll"],
};

/** The server's picture of what a feed of `scope` shows, in the client's canonical form. */
async function serverPicture(url: string, scope: "a" | null): Promise<string> {
  const list = (await call(url, "/api/games")).json.games as Msg[];
  return canonical(list.filter((g) => scope === null || g.id === scope));
}

/** The writes of the test, each with the message type a delta viewer of all games expects. */
function writes(url: string) {
  const { put, score, patch, remove } = gameWrites(url, TOKEN);
  return {
    live: [
      { id: "a", expect: "patch", run: () => score("a") },
      { id: "a", expect: "patch", run: () => patch("a", { period: "2nd", away: { detail: "x" } }) },
      { id: "b", expect: "update", run: () => put("b", 2) }, // created: first sight
      { id: "b", expect: "patch", run: () => score("b") },
      { id: "a", expect: "patch", run: () => patch("a", { period: null, title: "Final" }) },
      { id: "a", expect: "removed", run: () => remove("a") },
      { id: "a", expect: "update", run: () => put("a", 5) }, // re-created
      { id: "a", expect: "patch", run: () => put("a", 6) },
    ],
    whileAway: [() => score("a"), () => score("b"), () => patch("a", { clock: "90'" })],
    afterResume: [{ id: "a", run: () => score("a") }, { id: "b", run: () => score("b") }],
  };
}

/** Takes messages up to `version`, applying each; returns their types, pings left out. */
async function takeUpTo(viewer: Viewer, client: DeltaClient, version: number) {
  const seen: string[] = [];
  for (;;) {
    const message = await viewer.inbox.next();
    client.apply(message);
    seen.push(message.type);
    if (message.version >= version) return seen;
  }
}

async function deltaCase(server: TestServer, transport: keyof typeof TRANSPORTS, all: boolean) {
  const { url } = server;
  const path = PATHS[transport][all ? 0 : 1]!;
  const scope = all ? null : "a";
  const label = `${transport} ${path}`;
  const open = (cursor: number | null) => TRANSPORTS[transport](url, path, cursor);
  // A long-poll client between two polls holds no subscription: a change then comes whole in
  // the next poll's catch-up. Writing only while its poll is in, it gets what a stream gets.
  const polling = () => transport === "long_poll" ? server.opened("long_poll") : undefined;
  const { live, whileAway, afterResume } = writes(url);
  await call(url, "/api/games/a", { method: "PUT", token: TOKEN, body: gameBody() });
  const client = new DeltaClient();
  const first = await open(null);
  const snapshot = await first.inbox.next();
  assert.equal(snapshot.type, "snapshot", label);
  client.apply(snapshot);
  let cursor = snapshot.version as number;
  for (const write of live) {
    await polling();
    const version = versionOf(await write.run());
    if (!all && write.id !== "a") continue; // not in this feed's scope
    const seen = await takeUpTo(first, client, version);
    assert.deepEqual(seen, [write.expect], `${label}: ${write.expect} at ${version}`);
    assert.equal(client.picture(), await serverPicture(url, scope), `${label} at ${version}`);
    cursor = version;
  }
  await first.close();

  for (const write of whileAway) versionOf(await write());
  const second = await open(cursor);
  const target = (await call(url, "/api/games")).json.version;
  const resumed = await takeUpTo(second, client, target);
  assert.deepEqual(resumed, all ? ["update", "update"] : ["update"], `${label}: catch-up whole`);
  for (const write of afterResume) {
    await polling();
    const version = versionOf(await write.run());
    if (!all && write.id !== "a") continue;
    assert.deepEqual(await takeUpTo(second, client, version), ["patch"], `${label}: then patches`);
  }
  assert.equal(client.picture(), await serverPicture(url, scope), `${label}: the server's state`);
  await second.close();
}

for (const transport of Object.keys(TRANSPORTS) as (keyof typeof TRANSPORTS)[]) {
  for (const all of [true, false]) {
    Deno.test(`delta=1 on ${transport}, ${all ? "all games" : "one game"}: patches live, whole games at first sight and on resume, every patch applying to the server's state`, async () => {
      await using server = await startServer();
      await deltaCase(server, transport, all);
    });
  }
}

Deno.test("without delta=1 (or with delta=0) every change still comes whole, while a delta viewer beside it gets patches", async () => {
  await using server = await startServer();
  await call(server.url, "/api/games/a", { method: "PUT", token: TOKEN, body: gameBody() });
  const plain = await sseViewer(`${server.url}/api/events`);
  const off = await wsViewer(`${server.url}/api/ws?delta=0`);
  const delta = await sseViewer(`${server.url}/api/events?delta=1`);
  for (const viewer of [plain, off, delta]) {
    assert.equal((await viewer.inbox.next()).type, "snapshot");
  }
  const scored = await call(server.url, "/api/games/a/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "away", points: 2 },
  });
  for (const viewer of [plain, off]) {
    assert.deepEqual(await viewer.inbox.next(), {
      type: "update",
      version: scored.json.version,
      game: scored.json,
    });
  }
  assert.equal((await delta.inbox.next()).type, "patch");
  for (const viewer of [plain, off, delta]) await viewer.close();
});

Deno.test("a patch travels in SSE as event: patch with id: its version, and its ops lead to the game a GET returns", async () => {
  await using server = await startServer();
  const created = await call(server.url, "/api/games/a", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
  });
  const response = await fetch(`${server.url}/api/games/a/events?delta=1`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const readUntil = async (pattern: RegExp) => {
    while (!pattern.test(text)) text += (await reader.read()).value ?? "";
  };
  await readUntil(/event: ping\n/);
  const scored = await call(server.url, "/api/games/a/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "home", points: 3 },
  });
  await readUntil(/event: patch\n.*\n.*\n\n/);
  await reader.cancel();
  const frame = text.slice(text.indexOf("event: patch"));
  const [event, id, data] = frame.split("\n");
  assert.equal(event, "event: patch");
  assert.equal(id, `id: ${scored.json.version}`);
  const patch = JSON.parse(data!.slice("data: ".length));
  assert.deepEqual(
    [patch.type, patch.version, patch.id, patch.base],
    ["patch", scored.json.version, "a", created.json.version],
  );
  assert.ok(patch.ops.some((op: Msg) => op.path === "/home/score" && op.value === 3));
});

Deno.test("long-poll answers carry the server's time: of the answer at once, of the wake when it waited", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock });
  const first = await call(server.url, "/api/poll?delta=1");
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("content-type"), "application/json");
  assert.deepEqual(Object.keys(first.json), ["cursor", "messages", "time"]);
  assert.equal(first.json.time, clock.now());
  const waiting = call(server.url, `/api/poll?since=${first.json.cursor}&timeout=60`);
  await server.opened("long_poll");
  clock.advance(7_000);
  await call(server.url, "/api/games/a", { method: "PUT", token: TOKEN, body: gameBody() });
  const woken = await waiting;
  assert.equal(woken.status, 200);
  assert.equal(woken.json.time, clock.now());
  assert.equal(woken.json.messages[0].type, "update");
});

/** A raw NDJSON reader over a socket that the test stops and starts reading at will. */
async function rawNdjson(url: string, path: string) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(url).port) });
  await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`));
  const messages: Msg[] = [];
  const decoder = new TextDecoder();
  const framer = new Framer(
    new Uint8Array([10]),
    (b, s, e) => messages.push(JSON.parse(decoder.decode(b.subarray(s, e)))),
  );
  const chunked = new ChunkedDecoder((b, s, e) => framer.push(b, s, e));
  const head = new HeadReader();
  const buffer = new Uint8Array(64 * 1024);
  /** Reads until a message at or above `version` has arrived. */
  const readUpTo = async (version: number) => {
    while (!messages.some((m) => m.version >= version)) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("the stream ended");
      let at = 0;
      if (!head.head) {
        at = head.push(buffer, 0, n);
        if (at < 0) continue;
        assert.equal(head.head!.status, 200);
        chunked.push(head.buffer, at, head.buffer === buffer ? n : head.buffer.length);
        continue;
      }
      chunked.push(buffer, at, n);
    }
  };
  return { messages, readUpTo, close: () => conn.close() };
}

/** A game whose every text field changes with `n`, so each change is a large patch. */
function wideGame(n: number) {
  const text = (length: number) => (n % 2 ? "🦁" : "🐯").repeat(length);
  return {
    title: text(120),
    status: "live",
    period: text(32),
    clock: text(16),
    home: { name: text(64), score: n, detail: text(32) },
    away: { name: text(64), score: 0, detail: text(32) },
  };
}

Deno.test("a delta viewer too slow to keep up is conflated and then gets that game whole, other games still by patch", async () => {
  await using server = await startServer();
  const put = (id: string, n: number) =>
    call(server.url, `/api/games/${id}`, { method: "PUT", token: TOKEN, body: wideGame(n) });
  await put("big", 0);
  await put("small", 0);
  const viewer = await rawNdjson(server.url, "/api/stream?delta=1");
  await server.opened("ndjson");
  // It reads nothing while the big game changes, until its queue is full and updates collapse.
  let n = 1;
  for (; server.hub.counters.conflated === 0 && n < 30_000; n += 10) {
    await Promise.all(Array.from({ length: 10 }, (_, k) => put("big", n + k)));
  }
  assert.ok(server.hub.counters.conflated > 0, `conflated after ${n} writes`);
  const small = versionOf(await put("small", 1)); // held once: nothing of it is skipped
  const last = versionOf(await put("big", n + 1)); // replaces a held change of big
  await viewer.readUpTo(last);
  viewer.close();
  const client = new DeltaClient();
  for (const message of viewer.messages) client.apply(message);
  assert.equal(client.picture(), await serverPicture(server.url, null));
  const byVersion = new Map(viewer.messages.map((m) => [m.version, m.type]));
  assert.equal(byVersion.get(small), "patch", "small was not conflated: a patch");
  assert.equal(byVersion.get(last), "update", "big skipped versions: whole");
  assert.ok(client.counts.patch > 1, "patches before it fell behind");
});
