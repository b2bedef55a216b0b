/**
 * The push feeds end to end over real sockets: parity across transports, resume by cursor,
 * waiting subscriptions, headers, heartbeats, malformed input, the read-only socket and caps.
 */
import assert from "node:assert/strict";
import { ManualClock } from "./support/clock.ts";
import { openNdjson, openSse, openWs } from "./support/feeds.ts";
import { type Answer, call, gameBody, gameWrites, writtenVersion } from "./support/http.ts";
import { startServer, type TestServer, TOKEN } from "./support/server.ts";
import {
  longPollViewer,
  type Msg,
  ndjsonViewer,
  sseViewer,
  type Viewer,
  wsViewer,
} from "./support/viewers.ts";

/** Applies a message to a client-side picture of the board. */
function fold(state: Map<string, Msg>, message: Msg): void {
  if (message.type === "snapshot") {
    if (message.games) state.clear();
    for (const game of message.games ?? (message.game ? [message.game] : [])) {
      state.set(game.id, game);
    }
  } else if (message.type === "update") {
    state.set(message.game.id, message.game);
  } else if (message.type === "removed") {
    state.delete(message.id);
  }
}

const picture = (state: Map<string, Msg>) =>
  JSON.stringify([...state.values()].sort((a, b) => a.id.localeCompare(b.id)));

async function serverPicture(url: string) {
  const list = (await call(url, "/api/games")).json;
  return { version: list.version as number, picture: JSON.stringify(list.games) };
}

/** Writes of every kind: creates, updates, deletes and re-creates. Returns each acked version. */
function scriptedWrites(url: string) {
  const { put, score, patch, remove } = gameWrites(url, TOKEN);
  const breakAt = { clock: "45:00", status: "break" };
  return [
    () => put("a"),
    () => put("b", 3),
    () => score("a", "away"),
    () => patch("b", breakAt),
    () => remove("a"),
    () => put("c"),
    () => put("a", 7),
    () => score("a", "away"),
    () => remove("b"),
    () => patch("c", breakAt),
  ];
}

const versionOf = async (answer: Promise<{ status: number; headers: Headers }>) =>
  writtenVersion(await answer);

/** Every viewer saw what short polling saw after each write, in the same order; then closes them. */
async function assertMatchShortPolling(
  viewers: Viewer[],
  sequences: Map<string, string[]>,
  shortPolls: string[],
) {
  for (const viewer of viewers) {
    assert.deepEqual(
      sequences.get(viewer.name),
      shortPolls,
      `${viewer.name} matches short polling`,
    );
    await viewer.close();
  }
}

Deno.test("parity: every feed and short polling see the same (version, state) sequence", async () => {
  await using server = await startServer();
  const viewers = [
    await sseViewer(`${server.url}/api/events`),
    await ndjsonViewer(`${server.url}/api/stream`),
    await wsViewer(`${server.url}/api/ws`),
    longPollViewer(server.url, "/api/poll"),
  ];
  const sequences = new Map<string, string[]>(viewers.map((v) => [v.name, []]));
  const states = new Map(viewers.map((v) => [v.name, new Map<string, Msg>()]));
  const take = async (viewer: Viewer, upTo: number) => {
    for (;;) {
      const message = await viewer.inbox.next();
      fold(states.get(viewer.name)!, message);
      if (message.type !== "snapshot") {
        sequences.get(viewer.name)!.push(`${message.version} ${picture(states.get(viewer.name)!)}`);
      }
      if (message.version >= upTo) return;
    }
  };
  const { version: start } = await serverPicture(server.url);
  for (const viewer of viewers) await take(viewer, start);
  const shortPolls: string[] = [];
  for (const write of scriptedWrites(server.url)) {
    const version = await versionOf(write());
    // Lockstep: each viewer has this version before the next write, so nothing is conflated.
    await Promise.all(viewers.map((viewer) => take(viewer, version)));
    const now = await serverPicture(server.url);
    shortPolls.push(`${now.version} ${now.picture}`);
  }
  await assertMatchShortPolling(viewers, sequences, shortPolls);
  assert.equal(shortPolls.length, 10);
});

/** Opens a feed, reads part of the sequence, leaves, and comes back with its cursor. */
async function resumeCase(
  server: TestServer,
  open: (cursor: number | null) => Promise<Viewer>,
) {
  const writes = scriptedWrites(server.url);
  const state = new Map<string, Msg>();
  let cursor = -1;
  const first = await open(null);
  const snapshot = await first.inbox.next();
  assert.equal(snapshot.type, "snapshot");
  fold(state, snapshot);
  cursor = snapshot.version;
  for (const write of writes.slice(0, 4)) {
    const version = await versionOf(write());
    const [message] = await first.inbox.until((m) => m.version >= version);
    fold(state, message);
    cursor = message.version;
  }
  await first.close();
  for (const write of writes.slice(4)) await versionOf(write());
  const target = await serverPicture(server.url);
  const second = await open(cursor);
  const seen: Msg[] = [];
  while (cursor < target.version) {
    const message = await second.inbox.next();
    assert.notEqual(message.type, "snapshot", "a valid cursor resumes, it does not start over");
    assert.ok(
      message.version > cursor,
      `version ${message.version} after cursor ${cursor}: never twice, never backwards`,
    );
    fold(state, message);
    seen.push(message);
    cursor = message.version;
  }
  await second.close();
  assert.equal(picture(state), target.picture, "the client ends with exactly the server's state");
  const ids = seen.map((m) => m.game?.id ?? m.id);
  assert.equal(new Set(ids).size, ids.length, "each game once, at its latest state");
  assert.ok(seen.some((m) => m.type === "removed"), "removals are included");
}

Deno.test("resume: SSE with Last-Event-ID", async () => {
  await using server = await startServer();
  await resumeCase(
    server,
    (c) => sseViewer(`${server.url}/api/events`, c === null ? {} : { "last-event-id": String(c) }),
  );
});

Deno.test("resume: SSE with ?since= when there is no Last-Event-ID", async () => {
  await using server = await startServer();
  await resumeCase(
    server,
    (c) => sseViewer(`${server.url}/api/events${c === null ? "" : `?since=${c}`}`),
  );
});

Deno.test("resume: Last-Event-ID wins over ?since=", async () => {
  await using server = await startServer();
  await resumeCase(
    server,
    (c) =>
      sseViewer(
        `${server.url}/api/events?since=0`,
        c === null ? {} : { "last-event-id": String(c) },
      ),
  );
});

Deno.test("resume: NDJSON with ?since=", async () => {
  await using server = await startServer();
  await resumeCase(
    server,
    (c) => ndjsonViewer(`${server.url}/api/stream${c === null ? "" : `?since=${c}`}`),
  );
});

Deno.test("resume: WebSocket with ?since=", async () => {
  await using server = await startServer();
  await resumeCase(
    server,
    (c) => wsViewer(`${server.url}/api/ws${c === null ? "" : `?since=${c}`}`),
  );
});

Deno.test("resume: long polling with since=", async () => {
  await using server = await startServer();
  await resumeCase(server, (c) => Promise.resolve(longPollViewer(server.url, "/api/poll", c)));
});

Deno.test("resume: a one-game feed resumes its game only, removal included", async () => {
  await using server = await startServer();
  const put = (home: number) =>
    versionOf(
      call(server.url, "/api/games/a", { method: "PUT", token: TOKEN, body: gameBody(home) }),
    );
  const v1 = await put(1);
  await versionOf(
    call(server.url, "/api/games/b", { method: "PUT", token: TOKEN, body: gameBody() }),
  );
  await put(2);
  const viewer = await sseViewer(`${server.url}/api/games/a/events`, {
    "last-event-id": String(v1),
  });
  const message = await viewer.inbox.next();
  assert.deepEqual([message.type, message.game.home.score], ["update", 2]);
  await versionOf(call(server.url, "/api/games/b", { method: "DELETE", token: TOKEN }));
  const removed = await versionOf(
    call(server.url, "/api/games/a", { method: "DELETE", token: TOKEN }),
  );
  const next = await viewer.inbox.next();
  assert.deepEqual([next.type, next.id, next.version], ["removed", "a", removed]);
  await viewer.close();
});

Deno.test("a one-game feed for a game that does not exist yet waits, on every transport, and delivers its creation", async () => {
  await using server = await startServer();
  const viewers = [
    await sseViewer(`${server.url}/api/games/soon/events`),
    await ndjsonViewer(`${server.url}/api/games/soon/stream`),
    await wsViewer(`${server.url}/api/games/soon/ws`),
    longPollViewer(server.url, "/api/games/soon/poll"),
  ];
  // Every viewer is subscribed (and has found nothing) before the game is created.
  await Promise.all(["sse", "ndjson", "ws", "long_poll"].map((t) => server.opened(t as "sse")));
  await call(server.url, "/api/games/elsewhere", { method: "PUT", token: TOKEN, body: gameBody() });
  const created = await call(server.url, "/api/games/soon", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(4),
  });
  for (const viewer of viewers) {
    const message = await viewer.inbox.next();
    assert.deepEqual([message.type, message.game.id, message.version], [
      "update",
      "soon",
      created.json.version,
    ], viewer.name);
    await viewer.close();
  }
});

Deno.test("a cursor above the current version (a reset store) gets a fresh snapshot, at once on a long poll", async () => {
  await using server = await startServer();
  await call(server.url, "/api/games/a", { method: "PUT", token: TOKEN, body: gameBody() });
  const { version } = await serverPicture(server.url);
  const future = version + 1000;
  const sse = await sseViewer(`${server.url}/api/events`, { "last-event-id": String(future) });
  const snapshot = await sse.inbox.next();
  assert.deepEqual([snapshot.type, snapshot.version, snapshot.games.length], [
    "snapshot",
    version,
    1,
  ]);
  await sse.close();
  const poll = await call(server.url, `/api/poll?since=${future}&timeout=60`);
  assert.equal(poll.status, 200);
  assert.equal(poll.json.messages[0].type, "snapshot");
  assert.equal(poll.json.cursor, version);
  const one = await call(server.url, `/api/games/a/poll?since=${future}&timeout=60`);
  assert.deepEqual([one.json.messages[0].type, one.json.messages[0].game.id], ["snapshot", "a"]);
});

Deno.test("long polling: no since answers a snapshot at once; nothing new answers 204 when time is up", async () => {
  await using server = await startServer();
  const first = await call(server.url, "/api/poll");
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("content-type"), "application/json");
  assert.equal(first.json.messages[0].type, "snapshot");
  const empty = await call(server.url, `/api/poll?since=${first.json.cursor}&timeout=0`);
  assert.equal(empty.status, 204);
  assert.equal(empty.text, "");
  assert.equal(empty.headers.get("cache-control"), "no-store");
});

Deno.test("a long poll waits on the shared clock: 204 only once its timeout has passed", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock });
  const cursor = (await call(server.url, "/api/poll")).json.cursor;
  const waiting = call(server.url, `/api/poll?since=${cursor}&timeout=10`);
  await server.opened("long_poll");
  clock.advance(9_000);
  assert.equal(server.hub.open("long_poll"), 1, "still waiting after 9 s");
  clock.advance(1_000);
  const answer = await waiting;
  assert.equal(answer.status, 204);
});

Deno.test("malformed cursors, timeouts and delta values are 400 problem+json naming the parameter, on every feed route", async () => {
  await using server = await startServer();
  const routes = [
    "/api/events",
    "/api/games/a/events",
    "/api/stream",
    "/api/games/a/stream",
    "/api/ws",
    "/api/games/a/ws",
    "/api/poll",
    "/api/games/a/poll",
  ];
  const malformed: [string, string[]][] = [
    ["since", ["", "-1", "+1", "1.5", "1e3", "abc", "0x1"]],
    ["delta", ["", "true", "yes", "2", "01", "1 ", "on", "-1"]], // 1 or 0, nothing else
  ];
  for (const route of routes) {
    for (const [name, values] of malformed) {
      for (const value of values) {
        const answer = await call(server.url, `${route}?${name}=${encodeURIComponent(value)}`);
        assert.equal(answer.status, 400, `${route}?${name}=${value}`);
        assert.equal(answer.headers.get("content-type"), "application/problem+json");
        assert.equal(answer.json.errors[0].path, name);
      }
    }
  }
  for (const timeout of ["61", "-1", "1.5", "", "x"]) {
    const answer = await call(server.url, `/api/poll?timeout=${timeout}`);
    assert.equal(answer.status, 400, `timeout=${timeout}`);
    assert.equal(answer.json.errors[0].path, "timeout");
  }
  const lastEventId = await call(server.url, "/api/events", {
    headers: { "last-event-id": "1.5" },
  });
  assert.equal(lastEventId.status, 400);
  assert.equal(lastEventId.json.errors[0].path, "Last-Event-ID");
  const badId = await call(server.url, "/api/games/BAD/events");
  assert.equal(badId.status, 400);
  assert.equal(badId.json.errors[0].path, "id");
});

Deno.test("streams send exactly the contract's headers, and SSE opens with a retry line", async () => {
  await using server = await startServer();
  for (
    const [path, type] of [["/api/events", "text/event-stream; charset=utf-8"], [
      "/api/stream",
      "application/x-ndjson",
    ]]
  ) {
    const response = await fetch(server.url + path);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), type);
    assert.equal(response.headers.get("cache-control"), "no-cache, no-transform");
    assert.equal(response.headers.get("x-accel-buffering"), "no");
    assert.equal(response.headers.get("access-control-allow-origin"), "*");
    assert.equal(response.headers.get("content-encoding"), null);
    assert.equal(response.headers.get("connection"), null);
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    if (path === "/api/events") assert.match(new TextDecoder().decode(value), /^retry: \d+\n\n/);
    await reader.cancel();
  }
});

Deno.test("SSE's retry delays are spread over 1-3 s in steps of 10 ms (docs/API.md)", async () => {
  await using server = await startServer();
  const seen = new Set<number>();
  for (let i = 0; i < 40; i++) {
    const response = await fetch(`${server.url}/api/events`);
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    const retry = Number(/^retry: (\d+)\n\n/.exec(new TextDecoder().decode(value))?.[1]);
    assert.ok(retry >= 1000 && retry <= 2990 && retry % 10 === 0, `retry: ${retry}`);
    seen.add(retry);
  }
  // 40 draws of 200 delays give about 36 distinct ones: under 20 means the jitter is gone.
  assert.ok(seen.size >= 20, `${seen.size} distinct delays in 40 connections`);
});

Deno.test("HEAD on a feed answers its headers at once and holds no subscription", async () => {
  await using server = await startServer();
  for (const path of ["/api/events", "/api/games/a/stream", "/api/poll?timeout=60"]) {
    const answer = await call(server.url, path, { method: "HEAD" });
    assert.equal(answer.status, 200, path);
    assert.equal(answer.text, "");
    assert.ok(answer.headers.get("content-type"), path);
  }
  assert.equal(server.capacity.open, 0);
  assert.deepEqual(["sse", "ndjson", "long_poll"].map((t) => server.hub.open(t as "sse")), [
    0,
    0,
    0,
  ]);
});

Deno.test("a long poll whose client goes away stops waiting and frees its slot", async () => {
  await using server = await startServer();
  const cursor = (await call(server.url, "/api/poll")).json.cursor;
  const controller = new AbortController();
  const waiting = fetch(`${server.url}/api/poll?since=${cursor}&timeout=60`, {
    signal: controller.signal,
  })
    .catch(() => null);
  await server.opened("long_poll");
  assert.equal(server.capacity.open, 1);
  controller.abort();
  assert.equal(await waiting, null);
  await server.closedTo("long_poll", 0);
  await call(server.url, "/healthz"); // the slot is released just after the hub lets go
  assert.equal(server.capacity.open, 0);
});

Deno.test("the app itself sets no hop-by-hop header on a stream, even when the client asks for compression", async () => {
  await using server = await startServer();
  for (const path of ["/api/events", "/api/stream"]) {
    const response = await server.app.fetch(
      new Request(`http://x${path}`, { headers: { "accept-encoding": "gzip, br" } }),
      { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 } },
    );
    for (
      const name of [
        "connection",
        "transfer-encoding",
        "keep-alive",
        "content-encoding",
        "content-length",
      ]
    ) {
      assert.equal(response.headers.get(name), null, `${path} ${name}`);
    }
    await response.body?.cancel();
  }
});

Deno.test("an SSE stream's first chunk is its retry line, its snapshot and its opening ping together: one write into Deno's stream bridge", async () => {
  await using server = await startServer();
  const response = await server.app.fetch(new Request("http://x/api/events"), {
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
  });
  const reader = response.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  assert.match(
    first,
    /^retry: \d+\n\nevent: snapshot\nid: \d+\ndata: \{.*\}\n\nevent: ping\ndata: \{"type":"ping","time":\d+\}\n\n$/,
  );
});

Deno.test("an SSE stream opened after the hub closed (shutdown) still gets its retry line, then ends", async () => {
  await using server = await startServer();
  server.hub.close();
  const response = await server.app.fetch(new Request("http://x/api/events"), {
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
  });
  assert.match(await response.text(), /^retry: \d+\n\n$/);
});

Deno.test("every stream pings with the server's time as it opens and then at each heartbeat of the injected clock", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock, env: { SCORELINE_HEARTBEAT: "5" } });
  const sse = await openSse(`${server.url}/api/events`);
  const ndjson = await openNdjson(`${server.url}/api/stream`);
  const ws = await openWs(`${server.url}/api/ws`);
  const opened = clock.now();
  const ssePing = (time: number) => ({ event: "ping", data: `{"type":"ping","time":${time}}` });
  assert.match((await sse.inbox.next()).retry ?? "", /^\d+$/);
  assert.equal((await sse.inbox.next()).event, "snapshot");
  assert.deepEqual(await sse.inbox.next(), ssePing(opened), "an event with no id: line");
  assert.equal((await ndjson.inbox.next()).type, "snapshot");
  assert.deepEqual(await ndjson.inbox.next(), { type: "ping", time: opened });
  assert.equal((await ws.inbox.next()).type, "snapshot");
  assert.deepEqual(await ws.inbox.next(), { type: "ping", time: opened });
  clock.advance(5_000);
  assert.deepEqual(await sse.inbox.next(), ssePing(opened + 5_000));
  assert.deepEqual(await ndjson.inbox.next(), { type: "ping", time: opened + 5_000 });
  assert.deepEqual(await ws.inbox.next(), { type: "ping", time: opened + 5_000 });
  await sse.close();
  await ndjson.close();
  await ws.close();
});

Deno.test("the WebSocket is read-only: small messages are ignored, more than 4 KiB in all closes it with 1008", async () => {
  await using server = await startServer();
  const ws = await openWs(`${server.url}/api/ws`);
  assert.equal((await ws.inbox.next()).type, "snapshot");
  assert.equal((await ws.inbox.next()).type, "ping");
  for (let i = 0; i < 4; i++) ws.socket.send("x".repeat(1000));
  await call(server.url, "/api/games/a", { method: "PUT", token: TOKEN, body: gameBody() });
  assert.equal(
    (await ws.inbox.next()).type,
    "update",
    "still open and delivering after 4,000 bytes",
  );
  ws.socket.send("y".repeat(200));
  const closed = await ws.closed;
  assert.equal(closed.code, 1008);
});

Deno.test("a WebSocket route without an upgrade is 426", async () => {
  await using server = await startServer();
  const answer = await call(server.url, "/api/games/a/ws");
  assert.equal(answer.status, 426);
  assert.equal(answer.headers.get("content-type"), "application/problem+json");
});

Deno.test("open feeds are capped per client address (429) and in total (503), with Retry-After; slots come back", async () => {
  await using server = await startServer({
    env: { SCORELINE_FEEDS_PER_CLIENT: "2", SCORELINE_MAX_FEEDS: "3", SCORELINE_TRUST_PROXY: "1" },
  });
  const cursor = (await call(server.url, "/api/poll")).json.cursor;
  const from = (client: string) => ({ "x-forwarded-for": `${client}, 10.0.0.1` });
  const sseA = await openSse(`${server.url}/api/events`, from("192.0.2.1"));
  const pollA = call(server.url, `/api/poll?since=${cursor}&timeout=60`, {
    headers: from("192.0.2.1"),
  });
  assert.equal(sseA.status, 200);
  const thirdA = await call(server.url, "/api/stream", { headers: from("192.0.2.1") });
  assert.equal(thirdA.status, 429);
  assert.equal(thirdA.json.type, "/problems/too-many-feeds");
  assert.match(thirdA.headers.get("retry-after") ?? "", /^\d+$/);
  const ws = await openWs(`${server.url}/api/games/x/ws`);
  assert.equal(server.capacity.open, 3, "WebSockets count too");
  const full = await call(server.url, "/api/events", { headers: from("192.0.2.9") });
  assert.equal(full.status, 503);
  assert.match(full.headers.get("retry-after") ?? "", /^\d+$/);
  // The waiting long poll is answered by a change, and its slot is free before the answer arrives.
  await call(server.url, "/api/games/a", { method: "PUT", token: TOKEN, body: gameBody() });
  assert.equal((await pollA).status, 200);
  const again = await openNdjson(`${server.url}/api/stream`);
  assert.equal(again.status, 200);
  await again.close();
  await sseA.close();
  await ws.close();
});

// ---- Filtered feeds: `?games=` and `?competition=` on every all-games transport ----

/** A write of the filtered script, and the scopes it concerns (by the game's competition). */
interface ScopedWrite {
  id: string;
  competition?: string;
  run: (url: string) => Promise<Answer>;
}

/**
 * Creations (before and after the feeds open), updates, removals, a re-creation, in and out of
 * both filters used below (`competition=cup`, `games=a,e,q,zz`), ending with one in both.
 */
function filteredWrites(): { before: ScopedWrite[]; after: ScopedWrite[] } {
  const put = (id: string, competition?: string, home = 0): ScopedWrite => ({
    id,
    competition,
    run: (url) =>
      call(url, `/api/games/${id}`, {
        method: "PUT",
        token: TOKEN,
        body: gameBody(home, 0, competition ? { competition } : {}),
      }),
  });
  const score = (id: string, competition?: string): ScopedWrite => ({
    id,
    competition,
    run: (url) =>
      call(url, `/api/games/${id}/score`, {
        method: "POST",
        token: TOKEN,
        body: { side: "away", points: 1 },
      }),
  });
  const remove = (id: string, competition?: string): ScopedWrite => ({
    id,
    competition,
    run: (url) => call(url, `/api/games/${id}`, { method: "DELETE", token: TOKEN }),
  });
  return {
    before: [put("p", "cup", 1), put("q", "league", 2), put("r")],
    after: [
      put("a", "cup"),
      put("b", "league"),
      score("p", "cup"),
      score("q", "league"),
      put("c", "cup", 4),
      remove("a", "cup"),
      put("d"),
      put("a", "cup", 7),
      remove("q", "league"),
      score("c", "cup"),
      remove("p", "cup"),
      put("e", "cup"),
      score("e", "cup"),
    ],
  };
}

const FILTERS: { query: string; holds: (w: ScopedWrite) => boolean }[] = [
  { query: "competition=cup", holds: (w) => w.competition === "cup" },
  { query: "games=q,e,a,zz", holds: (w) => ["a", "e", "q", "zz"].includes(w.id) },
];

for (const filter of FILTERS) {
  Deno.test(`parity with ?${filter.query}: every feed and short polling see the same (version, state) sequence, only of games in scope`, async () => {
    await using server = await startServer();
    const { before, after } = filteredWrites();
    for (const write of before) await versionOf(write.run(server.url));
    const viewers = [
      await sseViewer(`${server.url}/api/events?${filter.query}`),
      await ndjsonViewer(`${server.url}/api/stream?${filter.query}`),
      await wsViewer(`${server.url}/api/ws?${filter.query}`),
      longPollViewer(server.url, `/api/poll?${filter.query}`),
    ];
    const states = new Map(viewers.map((v) => [v.name, new Map<string, Msg>()]));
    const sequences = new Map<string, string[]>(viewers.map((v) => [v.name, []]));
    const filtered = async () => {
      const list = (await call(server.url, `/api/games?${filter.query}`)).json;
      return { version: list.version as number, picture: JSON.stringify(list.games) };
    };
    // The snapshot lists only the games in scope.
    const start = await filtered();
    for (const viewer of viewers) {
      const snapshot = await viewer.inbox.next();
      assert.equal(snapshot.type, "snapshot", viewer.name);
      fold(states.get(viewer.name)!, snapshot);
      assert.equal(picture(states.get(viewer.name)!), start.picture, viewer.name);
    }
    const shortPolls: string[] = [];
    for (const write of after) {
      const version = await versionOf(write.run(server.url));
      if (!filter.holds(write)) continue;
      await Promise.all(viewers.map(async (viewer) => {
        const message = await viewer.inbox.next();
        assert.equal(message.version, version, `${viewer.name}: only changes in scope, in order`);
        fold(states.get(viewer.name)!, message);
        sequences.get(viewer.name)!.push(`${message.version} ${picture(states.get(viewer.name)!)}`);
      }));
      const now = await filtered();
      assert.equal(now.version, version);
      shortPolls.push(`${now.version} ${now.picture}`);
    }
    for (const viewer of viewers) {
      assert.equal(viewer.inbox.buffered, 0, `${viewer.name} got nothing out of scope`);
    }
    await assertMatchShortPolling(viewers, sequences, shortPolls);
    assert.ok(shortPolls.length >= 5);
    assert.ok(
      shortPolls.some((entry) => entry.includes('"id":"e"')),
      "a game created later joined",
    );
  });

  for (
    const [transport, open] of [
      [
        "SSE with Last-Event-ID",
        (url: string, c: number | null) =>
          sseViewer(
            `${url}/api/events?${filter.query}`,
            c === null ? {} : { "last-event-id": String(c) },
          ),
      ],
      [
        "NDJSON",
        (url: string, c: number | null) =>
          ndjsonViewer(`${url}/api/stream?${filter.query}${c === null ? "" : `&since=${c}`}`),
      ],
      [
        "WebSocket",
        (url: string, c: number | null) =>
          wsViewer(`${url}/api/ws?${filter.query}${c === null ? "" : `&since=${c}`}`),
      ],
      [
        "long polling",
        (url: string, c: number | null) =>
          Promise.resolve(longPollViewer(url, `/api/poll?${filter.query}`, c)),
      ],
    ] as const
  ) {
    Deno.test(`resume within ?${filter.query} on ${transport}: each game in scope once, at its latest state, removals included`, async () => {
      await using server = await startServer();
      const { before, after } = filteredWrites();
      for (const write of before) await versionOf(write.run(server.url));
      const state = new Map<string, Msg>();
      const first = await open(server.url, null);
      const snapshot = await first.inbox.next();
      assert.equal(snapshot.type, "snapshot");
      fold(state, snapshot);
      let cursor: number = snapshot.version;
      for (const write of after.slice(0, 4)) {
        const version = await versionOf(write.run(server.url));
        if (!filter.holds(write)) continue;
        const message = await first.inbox.next();
        assert.equal(message.version, version);
        fold(state, message);
        cursor = message.version;
      }
      await first.close();
      for (const write of after.slice(4)) await versionOf(write.run(server.url));
      const target = (await call(server.url, `/api/games?${filter.query}`)).json;
      const second = await open(server.url, cursor);
      const seen: Msg[] = [];
      const expected = after.slice(4).filter(filter.holds).map((w) => w.id);
      while (seen.length < new Set(expected).size) {
        const message = await second.inbox.next();
        assert.notEqual(message.type, "snapshot", "a valid cursor resumes within the scope");
        assert.ok(message.version > cursor, "never twice, never backwards");
        fold(state, message);
        seen.push(message);
        cursor = message.version;
      }
      await second.close();
      assert.equal(
        picture(state),
        JSON.stringify(target.games),
        "exactly the server's games in scope",
      );
      const ids = seen.map((m) => m.game?.id ?? m.id);
      assert.deepEqual(
        ids.sort(),
        [...new Set(expected)].sort(),
        "each game in scope once, no other",
      );
      assert.ok(seen.some((m) => m.type === "removed"), "removals are included");
    });
  }
}

Deno.test("bad filters are 400 naming the parameter on every all-games read, and open nothing", async () => {
  await using server = await startServer();
  const tooMany = Array.from({ length: 101 }, (_, i) => `g${i}`).join(",");
  const cases: [string, string][] = [
    [`games=${tooMany}`, "games"],
    ["games=a,b,a", "games"],
    ["games=a,B", "games"],
    ["games=a,,b", "games"],
    ["games=", "games"],
    ["games=a&games=b", "games"],
    ["competition=Cup", "competition"],
    ["competition=", "competition"],
    ["competition=a&competition=b", "competition"],
    ["games=a&competition=b", "games"],
    ["viewers=yes", "viewers"],
    ["viewers=", "viewers"],
  ];
  const routes = ["/api/games", "/api/events", "/api/stream", "/api/ws", "/api/poll"];
  for (const route of routes) {
    for (const [query, name] of cases) {
      if (route === "/api/games" && name === "viewers") continue; // not a feed
      const answer = await call(server.url, `${route}?${query}`);
      assert.equal(answer.status, 400, `${route}?${query}`);
      assert.equal(answer.headers.get("content-type"), "application/problem+json");
      assert.equal(answer.json.errors[0].path, name, `${route}?${query}`);
    }
  }
  const both = await call(server.url, "/api/events?games=a&competition=b");
  assert.deepEqual(both.json.errors.map((e: Msg) => e.path), ["games", "competition"]);
  const oneGame = await call(server.url, "/api/games/a/events?viewers=2");
  assert.equal(oneGame.status, 400);
  assert.equal(oneGame.json.errors[0].path, "viewers");
  assert.equal(server.capacity.open, 0);
  // 100 distinct ids are fine.
  const hundred = Array.from({ length: 100 }, (_, i) => `g${i}`).join(",");
  const ok = await call(server.url, `/api/games?games=${hundred}`);
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json.games, []);
});
