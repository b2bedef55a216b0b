/**
 * The client library against the real service in-process (tests/support/server.ts), over real
 * sockets: every transport and every scope ends with exactly the server's state; patches are
 * applied, and a patch that does not fit makes it reconnect from its cursor; a game that does not
 * exist yet; a consumer too slow for the feed (the service conflates); rescoping one connection;
 * viewer counts; the server's clock from a device whose clock is wrong; falling back and coming
 * back to WebSocket; 429 with Retry-After; a refusal no retry can fix.
 */
import assert from "node:assert/strict";
import {
  type Change,
  type ScorelineWatch,
  Scorer,
  type Transport,
  watch,
} from "../client/scoreline.js";
import { ManualClock } from "./support/clock.ts";
import { startServer, TOKEN } from "./support/server.ts";
import { startTcpProxy } from "./support/tcp_proxy.ts";
import {
  held,
  live,
  type ScopeQuery,
  serverPicture,
  settles,
  statuses,
  until,
} from "./support/watching.ts";

const TRANSPORTS: Transport[] = ["websocket", "sse", "ndjson", "poll"];
const side = (name: string) => ({ name });

/** A scorer's afternoon over three games of two competitions: every kind of change. */
async function playScenario(scorer: Scorer): Promise<void> {
  await scorer.put("a", {
    competition: "cup",
    status: "live",
    home: side("Lions"),
    away: side("Tigers"),
  });
  await scorer.put("b", { competition: "cup", home: side("Owls"), away: side("Bears") });
  await scorer.put("c", { competition: "league", home: side("Foxes"), away: side("Wolves") });
  await scorer.timer("a", { action: "start" });
  await scorer.score("a", "home", 1);
  await scorer.event("a", { kind: "goal", side: "away", points: 1, text: "Okafor" });
  await scorer.event("a", { kind: "card", side: "home", text: "Yellow" });
  const game = await scorer.patch("b", {
    status: "live",
    period: "1st half",
    home: { detail: "10 men" },
  });
  await scorer.score("b", "away", 2, { ifMatch: game.version });
  await scorer.remove("c");
  await scorer.removeEvent("a", 2);
  await scorer.timer("a", { action: "stop" });
  await scorer.put("d", { competition: "cup", home: side("Hawks"), away: side("Eagles") });
  await scorer.remove("b");
  await scorer.put("b", {
    competition: "cup",
    title: "Replay",
    home: side("Owls"),
    away: side("Bears"),
  });
  await scorer.patch("a", { clock: "45+2'", away: { detail: null } });
}

const SCOPES: [string, Parameters<typeof watch>[0], ScopeQuery][] = [
  ["one game", { game: "a" }, { game: "a" }],
  ["a games list", { games: ["a", "b", "x"] }, { games: ["a", "b", "x"] }],
  ["a competition", { competition: "cup" }, { competition: "cup" }],
  ["every game", {}, { all: true }],
];

for (const transport of TRANSPORTS) {
  Deno.test(`over ${transport}, a watch of one game, a games list, a competition and every game each ends with exactly the server's state`, async () => {
    await using server = await startServer();
    const scorer = new Scorer({ server: server.url, token: TOKEN });
    await scorer.put("a", { home: side("Lions"), away: side("Tigers"), competition: "cup" });
    const handles = SCOPES.map(([, scope]) => watch({ server: server.url, transport, ...scope }));
    try {
      await Promise.all(handles.map((handle) => live(handle, transport)));
      await playScenario(scorer);
      for (const [i, [name, , query]] of SCOPES.entries()) {
        await settles(handles[i]!, server.url, query).catch((error) => {
          throw new Error(`${name}: ${error.message}`);
        });
      }
      assert.ok(server.hub.counters.patches > 0, "changes to games held came as patches");
      assert.deepEqual(
        handles.map((handle) => handle.status.transport),
        SCOPES.map(() => transport),
      );
    } finally {
      await Promise.all(handles.map((handle) => handle.close()));
    }
  });
}

Deno.test("with delta: false the same scenario ends exact without a single patch", async () => {
  await using server = await startServer();
  const scorer = new Scorer({ server: server.url, token: TOKEN });
  await using handle = watch({ server: server.url, delta: false });
  await live(handle);
  await playScenario(scorer);
  await settles(handle, server.url, { all: true });
  assert.equal(server.hub.counters.patches, 0);
});

/**
 * An HTTP proxy for SSE feeds that loses the first `patch` event it sees, as a bug or a broken
 * middlebox would: the client then holds a game at another version than the next patch's base.
 */
function lossyProxy(upstream: string) {
  const requests: URL[] = [];
  let dropped = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    const url = new URL(request.url);
    requests.push(url);
    const answer = await fetch(upstream + url.pathname + url.search, { signal: request.signal });
    if (!answer.headers.get("content-type")?.startsWith("text/event-stream")) return answer;
    let buffer = "";
    const frames = answer.body!.pipeThrough(new TextDecoderStream()).pipeThrough(
      new TransformStream<string, string>({
        transform(text, out) {
          buffer += text;
          const parts = buffer.split("\n\n");
          buffer = parts.pop()!;
          for (const frame of parts) {
            if (dropped === 0 && frame.startsWith("event: patch")) dropped++;
            else out.enqueue(`${frame}\n\n`);
          }
        },
      }),
    ).pipeThrough(new TextEncoderStream());
    return new Response(frames, { headers: answer.headers });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    get dropped() {
      return dropped;
    },
    close: () => server.shutdown(),
  };
}

Deno.test("a patch whose base is not the copy held is not applied: the watch reconnects from its cursor and ends exact", async () => {
  await using server = await startServer();
  const proxy = lossyProxy(server.url);
  const scorer = new Scorer({ server: server.url, token: TOKEN });
  const first = await scorer.put("a", { home: side("Lions"), away: side("Tigers") });
  const handle = watch({ server: proxy.url, game: "a", transport: "sse" });
  try {
    const seen = statuses(handle);
    await live(handle);
    await scorer.score("a", "home", 1); // its patch is lost on the way
    await scorer.score("a", "home", 1); // its patch is from a version the client never saw
    await settles(handle, server.url, { game: "a" });
    assert.equal(proxy.dropped, 1);
    assert.ok(seen.some((status) => status.reason === "resync"), JSON.stringify(seen));
    assert.equal(handle.games.get("a")!.home.score, 2);
    // The second connection resumed from the last version the client had: the first state.
    const since = proxy.requests.map((url) => url.searchParams.get("since"));
    assert.deepEqual(since, [null, String(first.version)]);
  } finally {
    await handle.close();
    await proxy.close();
  }
});

for (const transport of TRANSPORTS) {
  Deno.test(`over ${transport}, a game that does not exist yet: the watch is live, holds nothing, and shows the game once it is created`, async () => {
    await using server = await startServer();
    await using handle = watch({ server: server.url, game: "later", transport });
    const first = new Promise<Change>((resolve) =>
      handle.addEventListener("change", (event) => resolve(event.detail), { once: true })
    );
    await live(handle, transport);
    const change = await first;
    assert.equal(change.games.size, 0, "the first change says nothing exists yet");
    const scorer = new Scorer({ server: server.url, token: TOKEN });
    await scorer.put("later", { home: side("Lions"), away: side("Tigers") });
    await scorer.score("later", "away", 3);
    await settles(handle, server.url, { game: "later" });
    assert.equal(handle.games.get("later")!.away.score, 3);
  });
}

/** A game whose every text changes with `n`: each change is a patch of about 1.5 KB. */
function noisyGame(n: number) {
  const text = (length: number) => String.fromCodePoint(0x1f400 + (n % 64)).repeat(length);
  return {
    title: text(120),
    status: "live" as const,
    period: text(32),
    clock: text(16),
    home: { name: text(64), score: n, detail: text(32) },
    away: { name: text(64), score: 0, detail: text(32) },
  };
}

for (const transport of ["websocket", "sse"] as const) {
  Deno.test(`over ${transport}, a consumer too slow for the feed is conflated by the service and still ends exact`, async () => {
    await using server = await startServer();
    await using proxy = startTcpProxy(Number(new URL(server.url).port));
    const scorer = new Scorer({ server: server.url, token: TOKEN });
    await scorer.put("big", noisyGame(0));
    await scorer.put("small", noisyGame(0));
    await using handle = watch({ server: proxy.url, transport });
    await live(handle, transport);
    // The client reads nothing while the big game changes, until the service's queue for it is
    // full and its updates collapse into the latest.
    proxy.pause();
    let n = 1;
    for (; server.hub.counters.conflated === 0 && n < 30_000; n += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => scorer.put("big", noisyGame(n + k))));
    }
    assert.ok(server.hub.counters.conflated > 0, `conflated after ${n} writes`);
    await scorer.score("small", "home", 1);
    proxy.resume();
    await settles(handle, server.url, { all: true }, 30_000);
    assert.equal(handle.status.transport, transport);
  });
}

Deno.test("setScope moves one connection to other games, and what it shows is replaced by the new scope's state", async () => {
  await using server = await startServer();
  const scorer = new Scorer({ server: server.url, token: TOKEN });
  await scorer.put("a", { competition: "cup", home: side("Lions"), away: side("Tigers") });
  await scorer.put("b", { competition: "cup", home: side("Owls"), away: side("Bears") });
  await using handle = watch({ server: server.url, games: ["a"], transport: "websocket" });
  await settles(handle, server.url, { game: "a" });
  const changes: Change[] = [];
  handle.addEventListener("change", (event) => changes.push(event.detail));
  handle.setScope({ games: ["b", "a", "a"] }); // duplicates and order do not matter
  assert.deepEqual(handle.scope, { games: ["a", "b"] });
  await scorer.score("b", "home", 1);
  await settles(handle, server.url, { games: ["a", "b"] });
  assert.ok(changes.some((change) => change.changed.includes("b")));
  handle.setScope({ games: ["a", "b"] }); // the same scope: nothing happens
  handle.setScope({ competition: "cup" });
  await scorer.put("c", { competition: "cup", home: side("Hawks"), away: side("Eagles") });
  await settles(handle, server.url, { competition: "cup" });
  handle.setScope({ game: "b" });
  await scorer.score("b", "home", 1);
  await settles(handle, server.url, { game: "b" });
  await server.closedTo("ws", 1);
  assert.equal(server.hub.open("ws"), 1, "one connection at a time");
});

Deno.test("a for-await consumer that looks late gets the latest state and every id changed meanwhile; leaving the loop closes the watch", async () => {
  await using server = await startServer();
  const scorer = new Scorer({ server: server.url, token: TOKEN });
  await scorer.put("a", { home: side("Lions"), away: side("Tigers") });
  const handle = watch({ server: server.url });
  const iterator = handle[Symbol.asyncIterator]();
  await scorer.put("b", { home: side("Owls"), away: side("Bears") });
  await scorer.score("a", "home", 2);
  await settles(handle, server.url, { all: true });
  const { value } = await iterator.next();
  assert.deepEqual([...value!.changed].sort(), ["a", "b"]);
  assert.equal(value!.games.get("a")!.home.score, 2);
  let loops = 0;
  for await (const change of handle) {
    loops++;
    assert.equal(change.games.size, 2, "a new loop starts from the state held");
    break;
  }
  assert.equal(loops, 1);
  assert.equal(handle.status.state, "closed");
  assert.deepEqual(await iterator.next(), { value: undefined, done: true });
});

Deno.test("viewers: true gets the counts of the games in scope on every transport, as the service counts them", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock });
  const handles = TRANSPORTS.map((transport) =>
    watch({ server: server.url, games: ["a", "b"], viewers: true, transport })
  );
  try {
    await Promise.all(handles.map((handle) => live(handle)));
    // A long poll counts while it waits: its second request, after the first answered at once.
    await server.opened("long_poll");
    const counted = handles.map((handle) =>
      until(handle, () => handle.viewers.get("a") === 4, "viewers of a", { events: ["viewers"] })
    );
    clock.advance(5_000);
    await server.viewers.count();
    await Promise.all(counted);
    for (const handle of handles) {
      assert.deepEqual(Object.fromEntries(handle.viewers), { a: 4, b: 4 });
    }
  } finally {
    await Promise.all(handles.map((handle) => handle.close()));
  }
});

Deno.test("now() is the server's time from its pings, told by a time event, even when the device's clock is five minutes slow", async () => {
  await using server = await startServer();
  const skew = 5 * 60_000;
  await using handle = watch({ server: server.url, game: "a", clock: () => Date.now() - skew });
  const before = handle.now();
  assert.ok(Math.abs(before - (Date.now() - skew)) < 1_000, "before a ping: the device's clock");
  const told = new Promise<number>((resolve) =>
    handle.addEventListener("time", (event) => resolve(event.detail.now), { once: true })
  );
  await live(handle);
  const first = await told;
  assert.ok(
    Math.abs(first - Date.now()) < 1_000,
    `the time event says the server's time: ${first}`,
  );
  // The service runs on this machine's clock: the estimate may trail it by a ping's trip, and
  // is never ahead of it.
  const low = Date.now();
  const estimate = handle.now();
  const high = Date.now();
  assert.ok(estimate <= high, `${estimate} is not ahead of the server (${high})`);
  assert.ok(estimate >= low - 1_000, `${estimate} is within a second of the server (${low})`);
});

Deno.test("auto falls back to SSE where WebSocket upgrades are refused, stays there, and comes back to WebSocket once they pass", async () => {
  await using server = await startServer();
  let refuseUpgrades = true;
  await using proxy = startTcpProxy(Number(new URL(server.url).port), {
    onRequest: (
      head,
    ) => (refuseUpgrades && /^upgrade: websocket$/im.test(head) ? "refuse" : "forward"),
  });
  await using handle = watch({ server: proxy.url, game: "a", preferredRetryMs: 200 });
  const seen = statuses(handle);
  await live(handle, "sse");
  assert.ok(proxy.refused > 0);
  const scorer = new Scorer({ server: server.url, token: TOKEN });
  await scorer.put("a", { home: side("Lions"), away: side("Tigers") });
  await settles(handle, server.url, { game: "a" });
  // It tries WebSocket again later (and falls back again while upgrades are still refused).
  await until(handle, () => proxy.refused >= 2 && handle.status.connected, "a second try", {
    events: ["status"],
  });
  refuseUpgrades = false;
  await live(handle, "websocket");
  await scorer.score("a", "home", 1);
  await settles(handle, server.url, { game: "a" });
  const path = seen.filter((s) => s.state !== "retrying").map((s) => `${s.transport}:${s.state}`);
  assert.deepEqual(path.slice(0, 4), [
    "websocket:connecting",
    "sse:connecting",
    "sse:live",
    "websocket:connecting",
  ]);
  assert.equal(path.at(-1), "websocket:live");
  assert.ok(seen.some((s) => s.reason === "preferred"));
});

Deno.test("auto reaches long polling where every stream is cut before its first message, goes back to it at once when a try of WebSocket fails, and returns to WebSocket once streams pass", async () => {
  await using server = await startServer();
  let cutStreams = true;
  await using proxy = startTcpProxy(Number(new URL(server.url).port), {
    // A middlebox that lets plain requests through but resets streams: the service answers,
    // nothing of the answer arrives.
    onRequest: (
      head,
    ) => (cutStreams && /^GET \S*\/(ws|events)[?\s]/.test(head) ? "cut" : "forward"),
  });
  await using handle = watch({
    server: proxy.url,
    game: "a",
    retryMinMs: 1,
    retryMaxMs: 5,
    preferredRetryMs: 50,
    preferredRetryMaxMs: 50,
    pollTimeout: 1, // a waiting poll is confirmed by its answer: a quiet game answers within 1 s
  });
  const seen = statuses(handle);
  await live(handle, "poll");
  assert.ok(proxy.cut >= 5, `streams cut: ${proxy.cut}`);
  const scorer = new Scorer({ server: server.url, token: TOKEN });
  await scorer.put("a", { home: side("Lions"), away: side("Tigers") });
  await settles(handle, server.url, { game: "a" });
  // A try of WebSocket (cut again) comes straight back to long polling: no round of back-offs.
  const tries = seen.length;
  await until(
    handle,
    () =>
      seen.slice(tries).some((s) => s.reason === "preferred") &&
      handle.status.transport === "poll" && handle.status.connected,
    "a try of WebSocket, then long polling again",
    { events: ["status"] },
  );
  const afterTry = seen.slice(seen.findLastIndex((s) => s.reason === "preferred"));
  assert.ok(
    afterTry.filter((s) => s.state === "retrying").length <= 1,
    `back to long polling after at most one wait: ${JSON.stringify(afterTry)}`,
  );
  cutStreams = false;
  await live(handle, "websocket");
  await scorer.score("a", "home", 1);
  await settles(handle, server.url, { game: "a" });
});

Deno.test("a 429 with Retry-After is waited out, the status says why, and then the watch connects on its preferred transport", async () => {
  await using server = await startServer({ env: { SCORELINE_FEEDS_PER_CLIENT: "1" } });
  // One feed open from this address already: the next one is refused with 429.
  const blocker = await fetch(`${server.url}/api/events`);
  await server.opened("sse");
  await using handle = watch({ server: server.url, game: "a" });
  await until(handle, () => handle.status.state === "retrying", "retrying", { events: ["status"] });
  const status = handle.status;
  assert.equal(status.reason, "rate-limited");
  assert.equal(status.httpStatus, 429);
  assert.equal(status.retryAfterMs, 5_000);
  assert.ok(status.retryInMs! >= 5_000, `waits at least Retry-After: ${status.retryInMs}`);
  assert.equal(
    status.transport,
    "websocket",
    "back to the preferred transport: SSE was refused too",
  );
  await blocker.body!.cancel();
  await live(handle, "websocket");
});

Deno.test("a refusal no retry can fix fails the watch: the status has the problem, and a for-await loop throws it", async () => {
  await using server = await startServer();
  const handle = watch({ server: `${server.url}/not-the-api`, game: "a" });
  await assert.rejects(
    async () => {
      for await (const _ of handle) throw new Error("no change can arrive");
    },
    (error: Error & { status?: number }) => error.name === "ScorelineError" && error.status === 404,
  );
  assert.equal(handle.status.state, "failed");
  assert.equal(handle.status.httpStatus, 404);
  assert.equal(handle.status.problem?.type, "/problems/not-found");
  await handle.close();
});

Deno.test("a closed watch holds no timer, socket or request, whatever it was doing", async () => {
  await using server = await startServer();
  const states: ScorelineWatch[] = [
    watch({ server: server.url, transport: "websocket" }),
    watch({ server: server.url, transport: "poll" }),
    watch({ server: "http://127.0.0.1:9", transport: "sse", retryMinMs: 60_000 }),
  ];
  await Promise.all(states.slice(0, 2).map((handle) => live(handle)));
  await until(states[2]!, () => states[2]!.status.state === "retrying", "retrying");
  for (const handle of states) await handle.close();
  assert.deepEqual(states.map((handle) => handle.status.state), ["closed", "closed", "closed"]);
  assert.equal(held(states[0]!), await serverPicture(server.url, { all: true }));
});
