/**
 * The stream follower against a real Redis, with the stream written by hand, so that the cases a
 * healthy service rarely meets can be made to happen: a hole in the stream (fallen behind its
 * MAXLEN), and a Redis that came back without its data.
 */
import assert from "node:assert/strict";
import { createClient } from "redis";
import type { Change, Resume } from "../core/scoreboard.ts";
import { silentLogger } from "../core/log.ts";
import { StreamFollower } from "../store/redis_follower.ts";
import { reconnectDelay, RedisLink } from "../store/redis_link.ts";
import { skipWithout } from "./support/binaries.ts";
import { Inbox } from "./support/feeds.ts";
import { startRedis } from "./support/redis.ts";

const ignore = skipWithout("redis-server");
const STREAM = "test:changes";

function removed(version: number, id = `g${version}`): Change {
  return { type: "removed", version, id, removedAt: 0 };
}

async function setup(start: number, answer: (cursor: number) => Resume) {
  const redis = await startRedis();
  const raw = createClient({ url: redis.url, socket: { reconnectStrategy: false } });
  raw.on("error", () => {}); // the tests kill Redis under it on purpose
  await raw.connect();
  const batches = new Inbox<number[]>();
  const resumed: number[] = [];
  let resets = 0;
  const follower = new StreamFollower({
    link: new RedisLink(redis.url, "follower-test", silentLogger),
    stream: STREAM,
    version: () => Promise.resolve(start),
    resume: (_link, cursor) => {
      resumed.push(cursor);
      return Promise.resolve(answer(cursor));
    },
    seed: (seen) => seen + 1,
    publish: (changes) => batches.push(changes.map((c) => c.version)),
    reset: () => resets++,
  });
  assert.equal(await follower.start(), true);
  await follower.firstSync();
  const add = (version: number) => raw.xAdd(STREAM, `${version}-0`, { r: `g${version}`, t: "0" });
  return {
    follower,
    batches,
    resumed,
    resets: () => resets,
    add,
    async done() {
      await follower.stop();
      if (raw.isOpen) raw.destroy();
      await redis[Symbol.asyncDispose]();
    },
  };
}

Deno.test({
  name: "the follower hands over consecutive versions as they come, and resolves writers waiting",
  ignore,
  async fn() {
    const t = await setup(10, () => assert.fail("no resync needed"));
    try {
      assert.equal(t.follower.live, true);
      const waiting = t.follower.caughtUp(12);
      await t.add(11);
      await t.add(12);
      const seen: number[] = [];
      while (seen.length < 2) seen.push(...await t.batches.next());
      assert.deepEqual(seen, [11, 12]);
      await waiting;
      assert.equal(t.follower.seen, 12);
    } finally {
      await t.done();
    }
  },
});

Deno.test({
  name: "a hole in the stream (fallen behind its MAXLEN) is filled from state: since the last seen",
  ignore,
  async fn() {
    const t = await setup(10, (cursor) => ({
      kind: "changes",
      version: 14,
      changes: [removed(12), removed(14)].filter((c) => c.version > cursor),
    }));
    try {
      await t.add(11);
      assert.deepEqual(await t.batches.next(), [11]);
      await t.add(13); // 12 was trimmed before this follower read it
      await t.add(14);
      assert.deepEqual(await t.batches.next(), [12, 14], "the latest state since 11");
      assert.deepEqual(t.resumed, [11]);
      await t.add(15);
      assert.deepEqual(await t.batches.next(), [15], "then it reads on after the resync");
      assert.equal(t.resets(), 0);
    } finally {
      await t.done();
    }
  },
});

Deno.test({
  name: "when Redis lost its data the follower signals a reset instead of a partial catch-up",
  ignore,
  async fn() {
    const t = await setup(10, () => ({ kind: "snapshot", version: 5_000, games: [] }));
    try {
      await t.add(5_000); // a reseeded counter: far above what was seen, below the horizon
      await t.add(5_001);
      assert.deepEqual(await t.batches.next(), [5_001], "entries after the reset flow again");
      assert.equal(t.resets(), 1);
      assert.deepEqual(t.resumed, [10]);
    } finally {
      await t.done();
    }
  },
});

Deno.test("reconnect delays double from 100 ms up to 5 s, with jitter in the upper half", () => {
  const low = Array.from({ length: 10 }, (_, i) => reconnectDelay(i, () => 0));
  const high = Array.from({ length: 10 }, (_, i) => reconnectDelay(i, () => 1));
  assert.deepEqual(high, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]);
  assert.deepEqual(low, high.map((ms) => ms / 2));
  assert.equal(reconnectDelay(1_000, () => 1), 5000, "no overflow after many attempts");
});
