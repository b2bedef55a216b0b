import assert from "node:assert/strict";
import { createClient } from "redis";
import { type Clock, systemClock } from "../core/clock.ts";
import { StoreUnavailableError } from "../core/errors.ts";
import {
  addPoints,
  deleteGame,
  type Mutation,
  replaceGame,
  type WriteOutcome,
} from "../core/scoreboard.ts";
import { gameInputSchema, validate } from "../core/schema.ts";
import { ALL_GAMES } from "../core/scope.ts";
import { changeTimer } from "../core/timeline.ts";
import { CLAIM_TTL_MS, openRedisStore, VIEWERS_TTL_MS } from "../store/redis.ts";
import type { Store } from "../store/store.ts";
import { skipWithout } from "./support/binaries.ts";
import { ManualClock } from "./support/clock.ts";
import { Inbox } from "./support/feeds.ts";
import { startRedis } from "./support/redis.ts";
import { storeConformance } from "./store_conformance.ts";

const ignore = skipWithout("redis-server");

storeConformance("redis", async () => {
  const redis = await startRedis();
  return {
    open: (clock) => openRedisStore({ url: redis.url, clock }),
    persistent: true,
    cleanup: () => redis[Symbol.asyncDispose](),
  };
}, { ignore });

/** A test on two instances, closed (with their Redis) however it ends. */
function instancesTest(
  name: string,
  fn: (t: Instances) => Promise<void>,
  options: { clock?: Clock } = {},
) {
  Deno.test({
    name: `redis store: ${name}`,
    ignore,
    async fn() {
      const t = await twoInstances(options);
      try {
        await fn(t);
      } finally {
        await t.close();
      }
    },
  });
}

type Instances = Awaited<ReturnType<typeof twoInstances>>;

/** Two instances on one Redis, each a store of its own, as two processes would have. */
async function twoInstances(options: { clock?: Clock } = {}) {
  const redis = await startRedis();
  const clock = options.clock ?? new ManualClock();
  const a = await openRedisStore({ url: redis.url, clock, name: "a" });
  const b = await openRedisStore({ url: redis.url, clock, name: "b" });
  const raw = createClient({ url: redis.url, socket: { reconnectStrategy: false } });
  raw.on("error", () => {}); // the tests kill Redis under it on purpose
  await raw.connect();
  return {
    redis,
    raw,
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      if (raw.isOpen) raw.destroy();
      await redis[Symbol.asyncDispose]();
    },
  };
}

const body = (() => {
  const r = validate(gameInputSchema, { status: "live", home: { name: "L" }, away: { name: "T" } });
  if (!r.ok) throw new Error("bad fixture");
  return r.value;
})();
const create = (store: Store, id: string) => store.write({ id, mutate: replaceGame(body, {}) });
const plusOne = (store: Store, id: string) =>
  store.write({ id, mutate: addPoints({ side: "home", points: 1 }, {}) });
const versionOf = (outcome: WriteOutcome) =>
  outcome.kind === "created" || outcome.kind === "saved"
    ? outcome.game.version
    : outcome.kind === "deleted"
    ? outcome.version
    : NaN;

/** Collects what a store's listeners are told, as versions, in the order told. */
function listen(store: Store) {
  const versions: number[] = [];
  const inbox = new Inbox<number>();
  store.onCommit((changes) => {
    for (const change of changes) {
      versions.push(change.version);
      inbox.push(change.version);
    }
  });
  return { versions, inbox };
}

/** Kills one named connection of an instance, as a network blip would. */
async function dropConnection(raw: ReturnType<typeof createClient>, name: string) {
  const list = String(await raw.sendCommand(["CLIENT", "LIST"]));
  const id = /id=(\d+) .*name=(\S+)/g;
  for (const [, clientId, clientName] of list.matchAll(id)) {
    if (clientName === `scoreline-${name}`) {
      await raw.sendCommand(["CLIENT", "KILL", "ID", clientId!]);
      return;
    }
  }
  throw new Error(`no connection named scoreline-${name}`);
}

instancesTest(
  "every instance is told of every commit, its own and the others', once and in order",
  async (t) => {
    const seenA = listen(t.a);
    const seenB = listen(t.b);
    const outcomes = [
      await create(t.a, "x"),
      await create(t.b, "y"),
      await plusOne(t.a, "y"),
      await t.b.write({ id: "x", mutate: deleteGame({}) }),
    ];
    const versions = outcomes.map(versionOf);
    const last = versions[versions.length - 1]!;
    await seenB.inbox.until((v) => v >= last);
    await seenA.inbox.until((v) => v >= last);
    assert.deepEqual(seenA.versions, versions, "a write resolves after its own listeners ran");
    assert.deepEqual(seenB.versions, versions);
    assert.deepEqual(await t.a.snapshot(), await t.b.snapshot());
  },
);

instancesTest(
  "a timer start that would change nothing is decided on fresh state, not on what this instance last wrote",
  async (t) => {
    const start = { mutate: changeTimer({ action: "start" }, {}), id: "g" };
    const stop = { mutate: changeTimer({ action: "stop" }, {}), id: "g" };
    await create(t.a, "g");
    assert.equal((await t.b.write(start)).kind, "saved");
    assert.equal((await t.a.write(stop)).kind, "saved");
    // B last saw the timer running; it was stopped on A since, so this start is a change.
    const again = await t.b.write(start);
    assert.equal(again.kind, "saved");
    assert.equal(again.kind === "saved" && again.game.timer?.running, true);
    assert.equal((await t.b.write(start)).kind, "unchanged");
  },
);

instancesTest(
  "concurrent +1 writes to one game split across two instances end exact",
  async (t) => {
    await create(t.a, "g");
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, (_, i) => plusOne(i % 2 ? t.a : t.b, "g")),
    );
    assert.ok(outcomes.every((o) => o.kind === "saved"));
    assert.equal(new Set(outcomes.map(versionOf)).size, 300, "no version repeats");
    assert.equal((await t.b.get("g"))?.home.score, 300);
  },
);

instancesTest(
  "an Idempotency-Key is busy on every instance while running, and its mark expires",
  async (t) => {
    await create(t.a, "g");
    const key = { scope: "scorer", key: "goal:1/é" };
    assert.deepEqual(await t.a.claim(key, "fp"), { kind: "new" });
    assert.deepEqual(await t.b.claim(key, "fp"), { kind: "in_progress" }, "409 on B too");
    assert.deepEqual(await t.b.claim(key, "other"), { kind: "mismatch" });
    const marks = await t.raw.keys("scoreline:claim:*");
    assert.equal(marks.length, 1);
    const ttl = await t.raw.pTTL(marks[0]!);
    assert.ok(ttl > 0 && ttl <= CLAIM_TTL_MS, "a crashed instance's mark goes away by itself");
    const first = await t.a.write({
      id: "g",
      mutate: addPoints({ side: "home", points: 1 }, {}),
      idempotency: { key, fingerprint: "fp" },
    });
    assert.deepEqual(await t.raw.keys("scoreline:claim:*"), [], "the commit clears the mark");
    assert.deepEqual(await t.b.claim(key, "fp"), { kind: "replay", outcome: first });
  },
);

instancesTest(
  "a key whose mark expired mid-request is still applied once, by the script",
  async (t) => {
    await create(t.a, "g");
    const key = { scope: "scorer", key: "k" };
    const write = (store: Store) =>
      store.write({
        id: "g",
        mutate: addPoints({ side: "home", points: 1 }, {}),
        idempotency: { key, fingerprint: "fp" },
      });
    assert.equal((await t.a.claim(key, "fp")).kind, "new");
    await t.raw.del(await t.raw.keys("scoreline:claim:*")); // as if it had expired
    assert.equal((await t.b.claim(key, "fp")).kind, "new");
    const fromB = await write(t.b);
    const fromA = await write(t.a);
    assert.deepEqual(fromA, fromB, "the second gets the first's answer");
    assert.equal((await t.a.get("g"))?.home.score, 1, "and changes nothing");
  },
);

instancesTest(
  "an instance whose stream connection dropped catches up from state, no gap",
  async (t) => {
    const seenB = listen(t.b);
    await create(t.a, "before");
    await dropConnection(t.raw, "b-stream");
    const written = [await create(t.a, "x"), await create(t.a, "y"), await plusOne(t.a, "x")];
    const last = versionOf(written[2]!);
    await seenB.inbox.until((v) => v >= last);
    const [, y, x] = written.map(versionOf);
    assert.ok(
      seenB.versions.includes(y!) && seenB.versions.includes(x!),
      "each game's latest state reaches B",
    );
    assert.deepEqual(seenB.versions, [...seenB.versions].sort((p, q) => p - q), "in order");
    assert.equal(new Set(seenB.versions).size, seenB.versions.length, "each once");
  },
);

instancesTest(
  "while Redis is down everything fails fast with 503, nothing queues, and it comes back",
  async (t) => {
    const seenB = listen(t.b);
    const before = await create(t.a, "g");
    await t.redis.kill();
    await until(async () => !(await t.a.ready()) && !(await t.b.ready()));
    const attempts = await Promise.allSettled(
      Array.from({ length: 1_000 }, () => plusOne(t.a, "g")),
    );
    assert.ok(
      attempts.every((r) => r.status === "rejected" && r.reason instanceof StoreUnavailableError),
    );
    assert.equal(t.a.inFlight, 0, "nothing is held waiting for Redis");
    await assert.rejects(() => t.a.get("g"), StoreUnavailableError);
    await assert.rejects(() => t.a.claim({ scope: "s", key: "k" }, "fp"), StoreUnavailableError);
    await t.redis.restart();
    await until(async () => (await t.a.ready()) && (await t.b.ready()));
    const after = await plusOne(t.a, "g");
    assert.ok(versionOf(after) > versionOf(before), "versions go on from the synced file");
    await seenB.inbox.until((v) => v >= versionOf(after));
    assert.equal((await t.b.get("g"))?.home.score, 1);
  },
  { clock: systemClock() },
);

const losses: [string, (t: Instances, first: number) => Promise<unknown>, string[]][] = [
  ["Redis lost its data", (t) => t.raw.flushAll(), ["h"]],
  [
    "Redis's counter went back (a failover to a replica that lagged)",
    (t, first) => t.raw.set("scoreline:version", String(first)),
    ["g", "h"],
  ],
];
for (const [what, lose, left] of losses) {
  instancesTest(
    `when ${what}, versions still go up and every instance resets its feeds`,
    async (t) => {
      let resets = 0;
      t.b.onReset(() => resets++);
      const seenB = listen(t.b);
      const first = await create(t.a, "g");
      const second = await plusOne(t.a, "g");
      await seenB.inbox.until((v) => v >= versionOf(second));
      await lose(t, versionOf(first));
      const next = await create(t.a, "h");
      assert.ok(versionOf(next) > versionOf(second), "a version is never handed out twice");
      await until(() => Promise.resolve(resets === 1));
      const resume = await t.b.resume(versionOf(second), ALL_GAMES);
      assert.equal(resume.kind, "snapshot", "an old cursor gets a fresh snapshot");
      assert.deepEqual(resume.kind === "snapshot" && resume.games.map((g) => g.id), left);
    },
  );
}

/** Waits for a condition that no event announces (a reconnect); the guard turns a hang into a failure. */
async function until(condition: () => Promise<boolean>, guardMs = 10_000) {
  const deadline = Date.now() + guardMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not true within ${guardMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

instancesTest(
  "a refusal is decided on the game read from Redis, never on what this instance last wrote",
  async (t) => {
    await create(t.a, "g");
    // The second write queues behind the first; the first leaves its result for it to start
    // from. A refusal needs no script, so no version check would catch that result being stale
    // (another instance may have written since): it is decided again on a fresh read.
    const seen: (number | undefined)[] = [];
    const refuse: Mutation = (current) => {
      seen.push(current?.home.score);
      return { kind: "reject", rejection: { code: "not_found", detail: "test" } };
    };
    const [scored, refused] = await Promise.all([
      plusOne(t.a, "g"),
      t.a.write({ id: "g", mutate: refuse }),
    ]);
    assert.equal(scored.kind, "saved");
    assert.equal(refused.kind, "rejected");
    assert.deepEqual(seen, [1, 1], "decided on the lane's state, then again on a fresh read");
    await plusOne(t.b, "g");
    const fresh = await t.a.write({ id: "g", mutate: refuse });
    assert.equal(fresh.kind, "rejected");
    assert.equal(seen.at(-1), 2, "B's write is seen by A's next decision");
  },
);

instancesTest(
  "viewer counts are summed over the instances that reported within 10 s; one that stops reporting drops out",
  async (t) => {
    const clock = new ManualClock();
    const a = await openRedisStore({ url: t.redis.url, clock, name: "va" });
    const b = await openRedisStore({ url: t.redis.url, clock, name: "vb" });
    try {
      const inCup = { ...body, competition: "cup" };
      await a.write({ id: "x", mutate: replaceGame(inCup, {}) });
      await a.write({ id: "y", mutate: replaceGame(inCup, {}) });
      await b.write({ id: "z", mutate: replaceGame(body, {}) });
      await a.countViewers(new Map([["c:cup", 2], ["*", 1]]));
      const both = await b.countViewers(new Map([["c:cup", 1], ["g:z", 4], ["l:x,later", 1]]));
      assert.equal(both.total, 9);
      assert.deepEqual(Object.fromEntries(both.games), { x: 4, y: 3, z: 4, later: 1 });
      assert.deepEqual(both.members.get("cup"), ["x", "y"]);
      // a's report lives 10 s in Redis, and b reads it while it is younger than that.
      const reports = await t.raw.keys("scoreline:viewers:*");
      assert.equal(reports.length, 2);
      for (const key of reports) {
        const ttl = await t.raw.pTTL(key);
        assert.ok(ttl > 0 && ttl <= VIEWERS_TTL_MS, `${key} expires within 10 s (${ttl} ms)`);
      }
      clock.advance(VIEWERS_TTL_MS);
      assert.equal((await b.countViewers(new Map([["g:z", 4]]))).total, 7, "10 s: a still counts");
      clock.advance(1);
      const alone = await b.countViewers(new Map([["g:z", 4]]));
      assert.equal(alone.total, 4, "a stopped reporting more than 10 s ago: it drops out");
      assert.deepEqual(Object.fromEntries(alone.games), { z: 4 });
      const listed = await t.raw.zRange("scoreline:viewers", 0, -1);
      assert.equal(listed.length, 1, "a is out of the set of instances reporting");
    } finally {
      await a.close();
      await b.close();
    }
  },
);
