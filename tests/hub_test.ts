/**
 * The hub on its own: fake sinks, the memory store as its source, and a manual clock; and the
 * message cache and scope index it is built from, where the hub cannot show what they keep.
 */
import assert from "node:assert/strict";
import type { ChangeSource } from "../core/change_source.ts";
import { Hub } from "../core/hub.ts";
import { MessageCache } from "../core/message_cache.ts";
import {
  addPoints,
  type Change,
  deleteGame,
  materialize,
  replaceGame,
  type Resume,
} from "../core/scoreboard.ts";
import { ScopeIndex } from "../core/scope_index.ts";
import { ALL_GAMES, competitionScope, gameScope, gamesScope } from "../core/scope.ts";
import { ViewerCounter } from "../core/viewer_counter.ts";
import { VIEWERS_EVERY_MS } from "../core/viewers.ts";
import type { StreamTransport } from "../core/stream_subscribers.ts";
import { openMemoryStore } from "../store/memory.ts";
import { ManualClock } from "./support/clock.ts";
import { body, FakeSink, setup } from "./support/hub_fixture.ts";

Deno.test("a new subscriber gets a snapshot, then every change live, each encoded once", async () => {
  const { hub, create, score, done } = await setup();
  await create("a");
  const one = new FakeSink();
  const two = new FakeSink("ndjson");
  await hub.subscribe(ALL_GAMES, null, one).synced;
  await hub.subscribe(ALL_GAMES, null, two).synced;
  assert.equal(one.sent[0]?.type, "snapshot");
  await score("a");
  assert.deepEqual(one.sent.map((m) => m.type), ["snapshot", "update"]);
  assert.equal(one.sent[1], two.sent[1], "the very same Message object: serialised once");
  assert.equal(one.sent[1]?.sse, two.sent[1]?.sse, "and the same bytes");
  assert.equal(hub.counters.published, 2, "the create and the score");
  assert.equal(hub.counters.deliveries, 4);
  await done();
});

Deno.test("a one-game subscriber sees only its game, and waits for a game that does not exist yet", async () => {
  const { hub, create, score, done } = await setup();
  await create("other");
  const sink = new FakeSink();
  await hub.subscribe(gameScope("later"), null, sink).synced;
  assert.equal(sink.sent.length, 0, "nothing to show yet: the feed waits");
  await score("other");
  await create("later");
  assert.deepEqual(sink.sent.map((m) => [m.type, m.gameId]), [["update", "later"]]);
  await done();
});

Deno.test("changes committed while a subscriber catches up arrive once, in order", async () => {
  const clock = new ManualClock();
  const store = openMemoryStore(clock);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  // A source whose resume answers from the state as it was, but only after more commits.
  const source: ChangeSource = {
    onCommit: (listener) => store.onCommit(listener),
    resume: async (cursor, scope) => {
      const answer: Resume = await store.resume(cursor, scope);
      await gate;
      return answer;
    },
  };
  const hub = new Hub({ source, clock, heartbeatMs: 15_000 });
  const v0 = (await store.snapshot()).version;
  await store.write({ id: "a", mutate: replaceGame(body, {}) });
  const sink = new FakeSink();
  const subscription = hub.subscribe(ALL_GAMES, v0, sink);
  await store.write({ id: "a", mutate: addPoints({ side: "home", points: 1 }, {}) });
  await store.write({ id: "b", mutate: replaceGame(body, {}) });
  release();
  await subscription.synced;
  assert.deepEqual(sink.versions, [v0 + 1, v0 + 2, v0 + 3]);
  await store.write({ id: "b", mutate: deleteGame({}) });
  assert.deepEqual(sink.versions, [v0 + 1, v0 + 2, v0 + 3, v0 + 4]);
  hub.close();
  await store.close();
});

Deno.test("a full sink has updates of one game collapsed to the latest, sent in version order when it drains", async () => {
  const { hub, create, score, version, done } = await setup();
  await create("a");
  await create("b");
  const sink = new FakeSink();
  const subscription = hub.subscribe(ALL_GAMES, await version(), sink);
  await subscription.synced;
  sink.full = true;
  for (let i = 0; i < 50; i++) await score("a");
  await score("b");
  await score("a");
  assert.equal(sink.sent.length, 0);
  assert.equal(hub.held(), 2, "one held update per game, however many were published");
  assert.equal(hub.counters.conflated, 50);
  sink.full = false;
  subscription.drained();
  const now = await version();
  assert.deepEqual(sink.sent.map((m) => [m.gameId, m.version]), [["b", now - 1], ["a", now]]);
  assert.equal(hub.held(), 0);
  await done();
});

Deno.test("a subscriber that stays stuck is closed as slow: past the time bound or past the game bound", async () => {
  const { clock, hub, create, score, done } = await setup({ maxStallMs: 30_000, maxPending: 3 });
  await create("a");
  const stuck = new FakeSink();
  await hub.subscribe(ALL_GAMES, null, stuck).synced;
  stuck.full = true;
  await score("a");
  clock.advance(29_750);
  assert.equal(stuck.closed, undefined);
  clock.advance(500);
  assert.equal(stuck.closed, "slow");
  assert.equal(hub.counters.slowClosed, 1);

  const many = new FakeSink();
  await hub.subscribe(ALL_GAMES, null, many).synced;
  many.full = true;
  for (const id of ["b", "c", "d"]) await create(id);
  assert.equal(many.closed, undefined);
  await create("e");
  assert.equal(many.closed, "slow");
  assert.equal(hub.open("sse"), 0);
  await done();
});

Deno.test("heartbeats come from one shared timer, to every stream that can take them, each tick's ping made once with the server's time", async () => {
  const { clock, hub, done } = await setup();
  const sinks = [new FakeSink("sse"), new FakeSink("ndjson"), new FakeSink("ws")];
  for (const sink of sinks) await hub.subscribe(ALL_GAMES, null, sink).synced;
  const opened = clock.now();
  const timers = clock.timers;
  const full = new FakeSink();
  await hub.subscribe(ALL_GAMES, null, full).synced;
  full.full = true;
  assert.equal(clock.timers, timers, "no timer per subscriber");
  const count = () => sinks.map((s) => s.pings.length);
  assert.deepEqual(count(), [1, 1, 1], "one ping as the feed opens");
  clock.advance(14_999);
  assert.deepEqual(count(), [1, 1, 1]);
  clock.advance(1);
  assert.deepEqual(count(), [2, 2, 2]);
  const [tick] = sinks[0]!.pings.slice(-1);
  assert.ok(
    sinks.every((s) => s.pings.at(-1) === tick),
    "one Ping object (one set of bytes) per tick",
  );
  assert.equal(tick?.time, opened + 15_000, "carrying the server's time");
  assert.equal(tick?.json, `{"type":"ping","time":${opened + 15_000}}`);
  assert.equal(
    new TextDecoder().decode(tick?.sse),
    `event: ping\ndata: {"type":"ping","time":${opened + 15_000}}\n\n`,
    "an SSE event with no id: line",
  );
  clock.advance(30_000);
  assert.deepEqual(count(), [4, 4, 4]);
  assert.equal(
    full.pings.length,
    1,
    "a full sink gets no heartbeat (only the ping it opened with)",
  );
  await done();
});

Deno.test("a stream's first ping follows its snapshot or catch-up at once, with the time it opened", async () => {
  const { clock, hub, create, score, version, done } = await setup();
  await create("a");
  const cursor = await version();
  await score("a");
  const fresh = new FakeSink();
  await hub.subscribe(ALL_GAMES, null, fresh).synced;
  const resumed = new FakeSink();
  await hub.subscribe(ALL_GAMES, cursor, resumed).synced;
  const waiting = new FakeSink();
  await hub.subscribe(gameScope("later"), null, waiting).synced;
  assert.deepEqual([fresh.sent.length, fresh.pings.length], [1, 1], "snapshot, then ping");
  assert.deepEqual([resumed.sent.map((m) => m.type), resumed.pings.length], [["update"], 1]);
  assert.deepEqual(
    [waiting.sent.length, waiting.pings.length],
    [0, 1],
    "a feed waiting for its game gets its ping too",
  );
  assert.equal(fresh.pings[0]?.time, clock.now());
  assert.equal(fresh.pings[0], waiting.pings[0], "feeds opened at the same time share a ping");
  await done();
});

Deno.test("a long poll answers at once when something is newer, else waits for the next change", async () => {
  const { hub, create, score, version, done } = await setup();
  await create("a");
  const before = await version();
  await score("a");
  const now = await hub.poll(ALL_GAMES, before, 25_000);
  assert.deepEqual(now?.messages.map((m) => m.version), [before + 1]);
  const waiting = hub.poll(ALL_GAMES, before + 1, 25_000);
  assert.equal(hub.open("long_poll"), 1);
  await score("a");
  assert.deepEqual((await waiting)?.messages.map((m) => [m.type, m.version]), [[
    "update",
    before + 2,
  ]]);
  assert.equal(hub.open("long_poll"), 0);
  await done();
});

Deno.test("polls behind the same change in the same millisecond share one answer, and its body", async () => {
  const { clock, hub, create, score, version, done } = await setup();
  await create("a");
  const before = await version();
  await score("a");
  const first = await hub.poll(ALL_GAMES, before, 25_000);
  const second = await hub.poll(gameScope("a"), before, 25_000);
  assert.ok(first && second);
  assert.equal(second, first, "one answer for both: one body encoded, not one per poll");
  clock.advance(1);
  const later = await hub.poll(ALL_GAMES, before, 25_000);
  assert.notEqual(later, first, "a millisecond later: its own time, so its own answer");
  assert.equal(later?.time, first.time + 1);
  assert.deepEqual(later?.messages, first.messages);
  await score("a");
  const newer = await hub.poll(ALL_GAMES, before, 25_000);
  assert.notEqual(newer, later, "a newer change in the same millisecond: a new answer");
  assert.deepEqual(newer?.messages.map((m) => m.version), [before + 2]);
  await done();
});

Deno.test("a long poll with nothing new answers null at its deadline, measured on the shared tick", async () => {
  const { clock, hub, version, done } = await setup();
  const poll = hub.poll(ALL_GAMES, await version(), 25_000);
  let answered: unknown = "pending";
  poll.then((m) => (answered = m));
  await Promise.resolve();
  clock.advance(24_750);
  await Promise.resolve();
  assert.equal(answered, "pending");
  clock.advance(250);
  assert.equal(await poll, null);
  assert.equal(await hub.poll(ALL_GAMES, await version(), 0), null, "timeout=0 answers at once");
  await done();
});

Deno.test("a long poll without cursor gets a snapshot, unless its game does not exist yet", async () => {
  const { hub, create, done } = await setup();
  await create("a");
  const all = await hub.poll(ALL_GAMES, null, 25_000);
  assert.deepEqual(all?.messages.map((m) => m.type), ["snapshot"]);
  const waiting = hub.poll(gameScope("b"), null, 25_000);
  await create("b");
  assert.deepEqual((await waiting)?.messages.map((m) => [m.type, m.gameId]), [["update", "b"]]);
  await done();
});

Deno.test("a long poll whose client leaves stops waiting", async () => {
  const { hub, version, done } = await setup();
  const controller = new AbortController();
  const poll = hub.poll(ALL_GAMES, await version(), 25_000, controller);
  await Promise.resolve();
  assert.equal(hub.open("long_poll"), 1);
  controller.abort();
  assert.equal(await poll, null);
  assert.equal(hub.open("long_poll"), 0);
  await done();
});

Deno.test("a long poll reads its client's signal only if it waits, and one whose client left is not kept", async () => {
  const { hub, create, version, done } = await setup();
  await create("a");
  let reads = 0;
  const controller = new AbortController();
  const departure = {
    get signal() {
      reads++;
      return controller.signal;
    },
  };
  assert.notEqual(await hub.poll(ALL_GAMES, null, 25_000, departure), null, "answered at once");
  assert.equal(reads, 0, "a poll answered at once never asks (Deno makes a signal when asked)");
  const waiting = hub.poll(ALL_GAMES, await version(), 25_000, departure);
  assert.equal(reads, 1);
  controller.abort();
  assert.equal(await waiting, null);
  assert.equal(
    await hub.poll(ALL_GAMES, await version(), 25_000, controller),
    null,
    "gone already",
  );
  assert.equal(hub.open("long_poll"), 0);
  await done();
});

Deno.test("a one-game feed resuming after its game was deleted and forgotten is told it is removed", async () => {
  const { hub, create, remove, version, done } = await setup();
  await create("a");
  const sink = new FakeSink();
  // A cursor from the future (a reset store) means: start over, and the game is not there.
  await hub.subscribe(gameScope("gone"), (await version()) + 100, sink).synced;
  assert.deepEqual(sink.sent.map((m) => [m.type, m.gameId, m.version]), [[
    "removed",
    "gone",
    await version(),
  ]]);
  const live = new FakeSink();
  await hub.subscribe(gameScope("a"), await version(), live).synced;
  await remove("a");
  assert.deepEqual(live.sent.map((m) => m.type), ["removed"]);
  await done();
});

Deno.test("closing the hub ends streams for shutdown and answers long polls; later subscribers are closed at once", async () => {
  const { hub, version, done } = await setup();
  const sink = new FakeSink();
  await hub.subscribe(ALL_GAMES, null, sink).synced;
  const poll = hub.poll(ALL_GAMES, await version(), 25_000);
  await Promise.resolve();
  hub.close();
  assert.equal(sink.closed, "shutdown");
  assert.equal(await poll, null);
  const late = new FakeSink();
  hub.subscribe(ALL_GAMES, null, late);
  assert.equal(late.closed, "shutdown");
  assert.equal(hub.open("sse"), 0);
  await done();
});

Deno.test("a subscriber that leaves is forgotten and counted out", async () => {
  const { hub, create, done } = await setup();
  const sink = new FakeSink("ws");
  const subscription = hub.subscribe(gameScope("a"), null, sink);
  await subscription.synced;
  assert.equal(hub.open("ws"), 1);
  subscription.cancel();
  subscription.cancel();
  assert.equal(hub.open("ws"), 0);
  await create("a");
  assert.equal(sink.sent.length, 0);
  await done();
});

Deno.test("a source that lost its history resets the hub: streams end with reset, long polls answer empty, new subscribers start over", async () => {
  const { clock, store, create, version, done } = await setup();
  let reset: (() => void) | undefined;
  let unsubscribed = false;
  const source: ChangeSource = {
    resume: (cursor, scope) => store.resume(cursor, scope),
    onCommit: (listener) => store.onCommit(listener),
    onReset(listener) {
      reset = listener;
      return () => (unsubscribed = true);
    },
  };
  const hub = new Hub({ source, clock, heartbeatMs: 15_000 });
  await create("a");
  const all = new FakeSink();
  const one = new FakeSink("ws");
  await hub.subscribe(ALL_GAMES, null, all).synced;
  await hub.subscribe(gameScope("a"), null, one).synced;
  const waiting = hub.poll(ALL_GAMES, await version(), 60_000);
  await Promise.resolve();
  assert.ok(reset, "the hub listens for resets");
  reset();
  assert.equal(all.closed, "reset");
  assert.equal(one.closed, "reset");
  assert.equal(
    await waiting,
    null,
    "the long poll is answered empty, to come back with its cursor",
  );
  assert.equal(hub.open("sse") + hub.open("ws") + hub.open("long_poll"), 0);
  const again = new FakeSink();
  await hub.subscribe(ALL_GAMES, 0, again).synced;
  assert.deepEqual(again.sent.map((m) => m.type), ["snapshot"], "a cursor below the horizon");
  assert.equal(again.closed, undefined, "the hub itself goes on");
  hub.close();
  assert.ok(unsubscribed, "closing the hub stops listening for resets");
  await done();
});

Deno.test("the message cache encodes a change once, never lets an older change replace a game's newest, and forgets all on clear", () => {
  const cache = new MessageCache();
  const update = (version: number): Change => ({
    type: "update",
    version,
    game: materialize("a", { status: "live", home: body.home, away: body.away }, version, 0),
  });
  const newest = cache.forChange(update(2));
  assert.equal(cache.forChange(update(2)), newest, "the same version: the same Message");
  assert.notEqual(cache.forChange(update(1)), newest, "an older change is encoded for itself");
  assert.equal(cache.forChange(update(2)), newest, "and did not replace the newest");
  cache.clear();
  assert.notEqual(
    cache.forChange(update(2)),
    newest,
    "after a reset, nothing is served from before",
  );
});

Deno.test("the snapshot cache encodes each snapshot once and keeps only the 64 most recent, until a reset", () => {
  const cache = new MessageCache();
  const snapshot = (version: number) =>
    cache.catchUp(ALL_GAMES, null, { kind: "snapshot", version, games: [] }).messages[0];
  const made = Array.from({ length: 65 }, (_, i) => snapshot(i + 1));
  assert.equal(snapshot(65), made[64]);
  assert.equal(snapshot(2), made[1], "the 64 most recent are kept");
  assert.notEqual(snapshot(1), made[0], "the oldest was dropped: the cache is bounded");
  cache.clear();
  assert.notEqual(snapshot(65), made[64], "a reset forgets snapshots too");
});

Deno.test("a scope's group in the index goes with its last feed, so scopes nobody watches are not remembered", () => {
  const index = new ScopeIndex<string>();
  index.add(ALL_GAMES, "all");
  const a = index.add(gameScope("a"), "one");
  index.add(gameScope("a"), "two");
  const list = index.add(gamesScope(["b", "a"]), "list");
  assert.equal(index.add(gamesScope(["a", "b"]), "same list"), list, "one group per distinct list");
  assert.deepEqual([...index], ["all", "one", "two", "list", "same list"]);
  index.delete(a, "one");
  assert.deepEqual([...index.groupsOf("a", null)].map((g) => g.scope.key), ["*", "g:a", "l:a,b"]);
  index.delete(a, "two");
  index.delete(list, "list");
  index.delete(list, "same list");
  assert.deepEqual([...index.groupsOf("a", null)].map((g) => g.scope.key), ["*"]);
  assert.deepEqual([...index.groups()].map((g) => g.scope.key), ["*"]);
  assert.deepEqual(index.items(), ["all"]);
});

Deno.test("a change to one competition touches only that competition's feeds: 1,000 feeds over 50 competitions, work counted per feed", async () => {
  const { hub, create, score, remove, done } = await setup();
  for (let c = 0; c < 50; c++) await create(`g${c}`, `c${c}`);
  const feeds: { competition: number; sink: FakeSink }[] = [];
  for (let c = 0; c < 50; c++) {
    for (let i = 0; i < 20; i++) {
      const sink = new FakeSink(["sse", "ndjson", "ws"][i % 3] as StreamTransport);
      feeds.push({ competition: c, sink });
      await hub.subscribe(competitionScope(`c${c}`), null, sink).synced;
    }
  }
  const others = {
    own: gameScope("g7"),
    listed: gamesScope(["g8", "g7"]),
    unlisted: gamesScope(["g1", "g2"]),
    otherGame: gameScope("g9"),
    all: ALL_GAMES,
  };
  const sinks = Object.fromEntries(Object.keys(others).map((name) => [name, new FakeSink()]));
  for (const [name, scope] of Object.entries(others)) {
    await hub.subscribe(scope, null, sinks[name]!).synced;
  }
  for (const sink of [...feeds.map((f) => f.sink), ...Object.values(sinks)]) {
    assert.equal(sink.sent[0]?.type, "snapshot");
    sink.sent = [];
    sink.asked = 0;
  }
  const deliveries = hub.counters.deliveries;

  await score("g7");
  const touched = feeds.filter((f) => f.sink.asked > 0);
  assert.equal(touched.length, 20, "the 20 feeds of c7, and none of the 980 others");
  assert.ok(touched.every((f) => f.competition === 7));
  assert.ok(touched.every((f) => f.sink.asked === 1 && f.sink.sent.length === 1));
  assert.deepEqual(
    Object.fromEntries(Object.entries(sinks).map(([name, sink]) => [name, sink.asked])),
    { own: 1, listed: 1, unlisted: 0, otherGame: 0, all: 1 },
  );
  assert.equal(hub.counters.deliveries - deliveries, 23);
  const update = touched[0]!.sink.sent[0]!;
  assert.ok(touched.every((f) => f.sink.sent[0] === update), "one Message for all of them");

  // A removal reaches the competition the game had, and only it.
  await remove("g7");
  assert.equal(feeds.filter((f) => f.sink.asked > 0).length, 20);
  assert.ok(touched.every((f) => f.sink.sent[1]?.type === "removed"));
  assert.equal(hub.counters.deliveries - deliveries, 46);
  await done();
});

Deno.test("viewer counts come from scope-group sizes; each group's viewers message is made once and sent only when a count in its scope changed", async () => {
  const { clock, store, hub, create, done } = await setup();
  const counter = new ViewerCounter({ hub, source: store, clock });
  await create("a", "cup");
  await create("b", "cup");
  await create("c", "league");
  const counting = [new FakeSink("sse"), new FakeSink("ws")];
  for (const sink of counting) {
    await hub.subscribe(competitionScope("cup"), null, sink, { viewers: true }).synced;
  }
  const quiet = new FakeSink();
  await hub.subscribe(competitionScope("cup"), null, quiet).synced;
  const one = new FakeSink();
  await hub.subscribe(gameScope("c"), null, one, { viewers: true }).synced;
  const all = new FakeSink();
  await hub.subscribe(ALL_GAMES, null, all, { viewers: true }).synced;
  assert.deepEqual(Object.fromEntries(hub.tally()), { "c:cup": 3, "g:c": 1, "*": 1 });

  const lastViewers = (sink: FakeSink) => sink.sent.filter((m) => m.type === "viewers").at(-1);
  clock.advance(VIEWERS_EVERY_MS);
  await counter.count();
  assert.deepEqual(counter.latest.games, new Map([["a", 3], ["b", 3], ["c", 1]]));
  assert.equal(counter.latest.total, 5);
  assert.equal(lastViewers(counting[0]!)?.json, '{"type":"viewers","games":{"a":3,"b":3}}');
  assert.equal(lastViewers(counting[1]!), lastViewers(counting[0]!), "encoded once per group");
  assert.equal(lastViewers(counting[0]!)?.version, -1, "no version: no cursor moves");
  assert.equal(lastViewers(quiet), undefined, "only feeds that asked");
  assert.equal(lastViewers(one)?.json, '{"type":"viewers","games":{"c":1}}');
  assert.equal(lastViewers(all)?.json, '{"type":"viewers","games":{"a":3,"b":3,"c":1}}');
  assert.ok(
    new TextDecoder().decode(lastViewers(all)!.sse).startsWith("event: viewers\ndata: {"),
    "SSE: event: viewers, no id: line",
  );

  const sentBefore = [...counting, one, all].map((sink) => sink.sent.length);
  clock.advance(VIEWERS_EVERY_MS);
  await counter.count();
  assert.deepEqual(
    [...counting, one, all].map((sink) => sink.sent.length),
    sentBefore,
    "nothing changed, nothing sent",
  );

  await hub.subscribe(gameScope("a"), null, new FakeSink()).synced;
  clock.advance(VIEWERS_EVERY_MS);
  await counter.count();
  assert.equal(lastViewers(counting[0]!)?.json, '{"type":"viewers","games":{"a":4,"b":3}}');
  assert.equal(one.sent.length, sentBefore[2], "no count in its scope changed");
  assert.equal(lastViewers(all)?.json, '{"type":"viewers","games":{"a":4,"b":3,"c":1}}');
  counter.close();
  await done();
});

Deno.test("a long poll that asked for counts is answered by a viewers message when one changes, once, and keeps its cursor", async () => {
  const { clock, store, hub, create, version, done } = await setup();
  const counter = new ViewerCounter({ hub, source: store, clock });
  await create("a", "cup");
  const cursor = await version();
  const counting = hub.poll(competitionScope("cup"), cursor, 60_000, undefined, { viewers: true });
  const plain = hub.poll(competitionScope("cup"), cursor, 60_000);
  await Promise.resolve();
  clock.advance(VIEWERS_EVERY_MS);
  await counter.count();
  const answer = await counting;
  assert.deepEqual(answer?.messages.map((m) => m.json), ['{"type":"viewers","games":{"a":2}}']);
  const again = hub.poll(competitionScope("cup"), cursor, 60_000, undefined, { viewers: true });
  await Promise.resolve();
  clock.advance(VIEWERS_EVERY_MS);
  await counter.count();
  assert.equal(hub.open("long_poll"), 2, "the same counts are not sent twice");
  await create("b", "cup");
  assert.deepEqual((await again)?.messages.map((m) => m.type), ["update"]);
  assert.deepEqual((await plain)?.messages.map((m) => m.type), ["update"]);
  counter.close();
  await done();
});
