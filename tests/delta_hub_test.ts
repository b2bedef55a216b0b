/**
 * `?delta=1` in the hub: which subscriber gets a `patch` and which a whole `update`, that a patch
 * is computed once per change however many get it, and that every patch applies (with an
 * independent RFC 6902 implementation) to exactly what its subscriber holds.
 */
import { ALL_GAMES, gameScope } from "../core/scope.ts";
import assert from "node:assert/strict";
import { deltaSizes, goalAfter } from "../bench/delta_size.ts";
import type { ChangeSource } from "../core/change_source.ts";
import { Hub } from "../core/hub.ts";
import { MessageCache } from "../core/message_cache.ts";
import type { Message } from "../core/messages.ts";
import { type Change, materialize } from "../core/scoreboard.ts";
import { DeltaClient } from "./support/delta_client.ts";
import { body, FakeSink, setup } from "./support/hub_fixture.ts";

/**
 * Lets every promise the in-memory store has in flight settle (a resume is a few microtasks):
 * a turn of the event loop, no timing involved.
 */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const parsed = (sink: FakeSink) => sink.sent.map((m) => JSON.parse(m.json));
const types = (sink: FakeSink) => sink.sent.map((m) => m.type);

/** Applies everything a sink was handed to a fresh client picture. */
function clientOf(sink: FakeSink): DeltaClient {
  const client = new DeltaClient();
  for (const message of parsed(sink)) client.apply(message);
  return client;
}

async function serverPicture(store: { snapshot(): Promise<{ games: unknown[] }> }) {
  const client = new DeltaClient();
  client.apply({ type: "snapshot", games: (await store.snapshot()).games });
  return client.picture();
}

Deno.test("a live delta subscriber gets each change as a patch from the previous version; others get the update", async () => {
  const { hub, store, clock, create, score, done } = setup();
  await create("a");
  const delta = new FakeSink();
  const whole = new FakeSink("ndjson");
  await hub.subscribe(ALL_GAMES, null, delta, { delta: true }).synced;
  await hub.subscribe(ALL_GAMES, null, whole).synced;
  const before = (await store.get("a"))!;
  clock.advance(1_000);
  await score("a");
  const after = (await store.get("a"))!;
  assert.deepEqual(types(delta), ["snapshot", "patch"]);
  assert.deepEqual(types(whole), ["snapshot", "update"]);
  const patch = parsed(delta)[1];
  assert.deepEqual(Object.keys(patch), ["type", "version", "id", "base", "ops"]);
  assert.deepEqual([patch.version, patch.id, patch.base], [after.version, "a", before.version]);
  assert.deepEqual(patch.ops, [
    { op: "replace", path: "/home/score", value: 1 },
    { op: "replace", path: "/version", value: after.version },
    { op: "replace", path: "/updatedAt", value: after.updatedAt },
  ]);
  assert.equal(delta.sent[1]?.version, whole.sent[1]?.version, "the same cursor either way");
  assert.equal(clientOf(delta).picture(), await serverPicture(store));
  await done();
});

Deno.test("a patch is computed once per change and shared by every delta subscriber, on every transport and long polls", async () => {
  const { hub, create, score, version, done } = setup();
  await create("a");
  const sinks = Array.from(
    { length: 30 },
    (_, i) => new FakeSink((["sse", "ndjson", "ws"] as const)[i % 3]),
  );
  for (const [i, sink] of sinks.entries()) {
    await hub.subscribe(i % 2 ? gameScope("a") : ALL_GAMES, null, sink, { delta: true }).synced;
  }
  const cursor = await version();
  const polls = Array.from(
    { length: 10 },
    (_, i) =>
      hub.poll(i % 2 ? gameScope("a") : ALL_GAMES, cursor, 25_000, undefined, { delta: true }),
  );
  await settle(); // every poll is waiting, not catching up
  assert.equal(hub.open("long_poll"), 10);
  const patchesBefore = hub.counters.patches;
  const deliveriesBefore = hub.counters.deliveries;
  await score("a");
  const answers = await Promise.all(polls);
  assert.equal(hub.counters.patches - patchesBefore, 1, "one computation");
  assert.equal(hub.counters.deliveries - deliveriesBefore, 40, "for 40 deliveries");
  const patch = sinks[0]!.sent.at(-1)!;
  assert.equal(patch.type, "patch");
  assert.ok(sinks.every((s) => s.sent.at(-1) === patch), "the very same Message for all");
  assert.ok(answers.every((a) => a?.messages[0] === patch), "long polls answer with it too");
  assert.equal(answers[0], answers[2], "polls of one scope woken by one batch share one answer");
  assert.equal(answers[0]?.body, answers[2]?.body, "and its bytes");
  for (let i = 0; i < 5; i++) await score("a");
  assert.equal(hub.counters.patches - patchesBefore, 6, "one per change, not per subscriber");
  await done();
});

Deno.test("creation, and re-creation after a removal, come whole to a delta subscriber", async () => {
  const { hub, store, create, score, remove, done } = setup();
  const sink = new FakeSink();
  await hub.subscribe(ALL_GAMES, null, sink, { delta: true }).synced;
  await create("a");
  await score("a");
  await remove("a");
  await create("a");
  await score("a");
  assert.deepEqual(types(sink), ["snapshot", "update", "patch", "removed", "update", "patch"]);
  assert.equal(clientOf(sink).picture(), await serverPicture(store));
  await done();
});

Deno.test("resuming with a cursor: the catch-up comes as updates, the changes after it as patches", async () => {
  const { hub, store, create, score, done } = setup();
  await create("a");
  await create("b");
  const atCursor = await store.snapshot();
  await score("a");
  await score("b");
  const sink = new FakeSink();
  await hub.subscribe(ALL_GAMES, atCursor.version, sink, { delta: true }).synced;
  await score("a");
  await score("b");
  assert.deepEqual(types(sink), ["update", "update", "patch", "patch"]);
  const answer = await hub.poll(ALL_GAMES, atCursor.version, 25_000, undefined, { delta: true });
  assert.deepEqual(answer?.messages.map((m) => m.type), ["update", "update"], "a long poll too");
  const client = new DeltaClient();
  client.apply({ type: "snapshot", games: atCursor.games }); // what it held at its cursor
  for (const message of parsed(sink)) client.apply(message);
  assert.equal(client.picture(), await serverPicture(store));
  await done();
});

Deno.test("a slow delta subscriber gets a whole update for a game whose held change was replaced (conflated), a patch for one that was not", async () => {
  const { hub, store, create, score, done } = setup();
  await create("a");
  await create("b");
  const sink = new FakeSink();
  const subscription = hub.subscribe(ALL_GAMES, null, sink, { delta: true });
  await subscription.synced;
  sink.full = true;
  await score("a");
  await score("a");
  await score("b");
  assert.equal(hub.counters.conflated, 1);
  sink.full = false;
  subscription.drained();
  assert.deepEqual(sink.sent.slice(1).map((m) => [m.type, m.gameId]), [
    ["update", "a"],
    ["patch", "b"],
  ]);
  await score("a");
  assert.equal(sink.sent.at(-1)?.type, "patch", "and patches again once it keeps up");
  assert.equal(clientOf(sink).picture(), await serverPicture(store));
  await done();
});

Deno.test("changes held while a delta subscriber catches up: a replaced one goes whole, the rest as patches that apply", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const { hub, store, create, score, done } = setup({
    // Answers from the state as it was when asked, but only after more commits.
    source: (store) => ({
      onCommit: (listener) => store.onCommit(listener),
      resume: async (cursor, scope) => {
        const answer = await store.resume(cursor, scope);
        await gate;
        return answer;
      },
    }),
  });
  await create("a");
  await create("b");
  const atCursor = await store.snapshot();
  const sink = new FakeSink();
  const subscription = hub.subscribe(ALL_GAMES, atCursor.version, sink, { delta: true });
  await score("a");
  await score("a");
  await score("b");
  release();
  await subscription.synced;
  // Its catch-up read the state before these changes; a's two were collapsed while it waited.
  assert.deepEqual(types(sink), ["update", "patch"]);
  const client = new DeltaClient();
  client.apply({ type: "snapshot", games: atCursor.games }); // what it held at its cursor
  for (const message of parsed(sink)) client.apply(message);
  assert.equal(client.picture(), await serverPicture(store));
  await done();
});

/**
 * A source whose announcements lag behind its state, as a Redis follower's do: commits are held
 * back until `flush`, while `resume` already answers from the newer state.
 */
function laggingSource(store: ChangeSource) {
  const held: Change[][] = [];
  let listener: ((changes: readonly Change[]) => void) | undefined;
  const source: ChangeSource = {
    resume: (cursor, scope) => store.resume(cursor, scope),
    onCommit(l) {
      listener = l;
      const stop = store.onCommit((changes) => held.push([...changes]));
      return () => {
        listener = undefined;
        stop();
      };
    },
  };
  const flush = (skip?: (change: Change) => boolean) => {
    for (const changes of held.splice(0)) {
      const kept = changes.filter((c) => !skip?.(c));
      if (kept.length > 0) listener?.(kept);
    }
  };
  return { source, flush };
}

Deno.test("a subscriber whose catch-up read past the announcements still gets only patches it can apply", async () => {
  let lag!: ReturnType<typeof laggingSource>;
  const { hub, store, create, score, done } = setup({
    source: (store) => (lag = laggingSource(store)).source,
  });
  await create("a");
  lag.flush();
  await score("a");
  await score("a"); // not announced yet, but in the state a new subscriber reads
  const sink = new FakeSink();
  await hub.subscribe(ALL_GAMES, null, sink, { delta: true }).synced;
  lag.flush(); // both are at or below its catch-up: dropped
  await score("a");
  lag.flush();
  assert.deepEqual(types(sink), ["snapshot", "patch"]);
  assert.equal(clientOf(sink).picture(), await serverPicture(store));
  await done();
});

Deno.test("after a hole in the announced versions, each game's next change goes whole, then patches again", async () => {
  let lag!: ReturnType<typeof laggingSource>;
  const { hub, store, create, score, done } = setup({
    source: (store) => (lag = laggingSource(store)).source,
  });
  await create("a");
  await create("b");
  lag.flush();
  const sink = new FakeSink();
  await hub.subscribe(ALL_GAMES, null, sink, { delta: true }).synced;
  await score("b");
  await score("a");
  await score("a");
  // The follower lost b's change and the first of a's, and announces a's latest.
  let skipped = 0;
  lag.flush(() => skipped++ < 2);
  assert.deepEqual(
    types(sink),
    ["snapshot", "update"],
    "a whole update: the hole may hide anything",
  );
  await score("b");
  await score("a");
  lag.flush();
  assert.deepEqual(types(sink).slice(2), ["update", "patch"], "b goes whole too, a by patch");
  // What the hole hid from b reached the client with b's update, so the picture is exact.
  assert.equal(clientOf(sink).picture(), await serverPicture(store));
  await done();
});

Deno.test("a hub that has not seen a game's previous state (a restart, another instance) sends its next change whole", async () => {
  const { store, create, score, clock, done } = setup();
  await create("a");
  await score("a");
  const fresh = new Hub({ source: store, clock, heartbeatMs: 15_000 });
  const sink = new FakeSink();
  await fresh.subscribe(gameScope("a"), null, sink, { delta: true }).synced;
  await score("a");
  await score("a");
  assert.deepEqual(types(sink), ["snapshot", "update", "patch"]);
  assert.equal(clientOf(sink).picture(), await serverPicture(store));
  fresh.close();
  await done();
});

Deno.test("a waiting delta long poll gets a batch as patches, in order, each from the one before", async () => {
  const { hub, store, create, version, done } = setup();
  await create("a");
  const client = new DeltaClient();
  const first = await hub.poll(ALL_GAMES, null, 0, undefined, { delta: true });
  for (const m of first!.messages) client.apply(JSON.parse(m.json));
  const waiting = hub.poll(ALL_GAMES, await version(), 25_000, undefined, { delta: true });
  await Promise.resolve();
  // Two changes of one game committed together reach the poll in one batch.
  await Promise.all(
    [1, 2].map(() =>
      store.write({
        id: "a",
        mutate: (g) => ({ kind: "put", body: { ...g!, clock: `${g!.version}` } }),
      })
    ),
  );
  const answer = await waiting;
  assert.deepEqual(answer?.messages.map((m) => m.type), ["patch", "patch"]);
  const body = JSON.parse(new TextDecoder().decode(answer!.body));
  assert.deepEqual(Object.keys(body), ["cursor", "messages", "time"]);
  for (const m of body.messages) client.apply(m);
  assert.equal(client.picture(), await serverPicture(store));
  await done();
});

Deno.test("the message cache gives a patch only to a change whose previous state it announced", () => {
  const counter = { patches: 0 };
  const cache = new MessageCache(counter);
  const game = (version: number, score: number) =>
    materialize("a", { status: "live", home: { name: "L", score }, away: body.away }, version, 0);
  const update = (version: number, score: number): Change => ({
    type: "update",
    version,
    game: game(version, score),
  });
  // A catch-up read the game at 12 before 11 and 12 were announced: it must not be a base.
  cache.catchUp(ALL_GAMES, 10, { kind: "changes", version: 12, changes: [update(12, 2)] });
  const [first] = cache.announce([update(10, 0)]);
  const [eleven, twelve] = cache.announce([update(11, 1), update(12, 2)]);
  const delta = (m: Message | undefined) => JSON.parse(m!.delta.json);
  assert.equal(first!.delta, first, "no previous state: the update itself");
  assert.deepEqual([delta(eleven).type, delta(eleven).base], ["patch", 10]);
  assert.deepEqual([delta(twelve).type, delta(twelve).base], ["patch", 11]);
  assert.equal(eleven!.delta, eleven!.delta, "made once");
  assert.equal(counter.patches, 2);
  const [afterHole] = cache.announce([update(14, 3)]);
  assert.equal(afterHole!.delta, afterHole, "version 13 was never announced: whole");
  const [removed] = cache.announce([{ type: "removed", version: 15, id: "a", removedAt: 0 }]);
  const [again] = cache.announce([update(16, 0)]);
  assert.equal(removed!.delta, removed);
  assert.equal(again!.delta, again, "re-created: whole");
  cache.clear();
  const [afterReset] = cache.announce([update(17, 1)]);
  assert.equal(afterReset!.delta, afterReset, "after a reset nothing is a base");
});

Deno.test("a goal added to a game with 40 events travels as a patch in under a tenth of the bytes of the whole game, as one add to /events/-", () => {
  const [row] = deltaSizes().filter((r) => r.change.endsWith("with 40 events"));
  assert.ok(row, "the benchmark's table has the row");
  assert.ok(row.patch * 10 < row.update, `${row.patch} bytes against ${row.update}`);
  assert.ok(row.ssePatch * 10 < row.sseUpdate, "in SSE too");
  const { before, after } = goalAfter(40);
  const message = new MessageCache().announce([
    { type: "update", version: before.version, game: before },
    { type: "update", version: after.version, game: after },
  ])[1]!;
  const ops = JSON.parse(message.delta.json).ops;
  assert.deepEqual(ops.filter((op: { path: string }) => op.path.startsWith("/events")), [
    { op: "add", path: "/events/-", value: (after as unknown as { events: unknown[] }).events[40] },
  ]);
});
