/**
 * `?delta=1` in Redis mode: every instance learns of every commit through its stream follower and
 * makes its patches from that alone, so two instances send their viewers the very same patch
 * bytes whichever of them took the write, and an instance that did not see a game's previous
 * state (it started later) sends that game's next change whole.
 */
import { ALL_GAMES, gameScope } from "../core/scope.ts";
import assert from "node:assert/strict";
import { Hub } from "../core/hub.ts";
import type { Message } from "../core/messages.ts";
import { addPoints, deleteGame, type Mutation, replaceGame } from "../core/scoreboard.ts";
import { openRedisStore } from "../store/redis.ts";
import { skipWithout } from "./support/binaries.ts";
import { ManualClock } from "./support/clock.ts";
import { DeltaClient } from "./support/delta_client.ts";
import { body, FakeSink } from "./support/hub_fixture.ts";
import { startRedis } from "./support/redis.ts";

const ignore = skipWithout("redis-server");

/** A fake sink that can be waited on until a version has arrived. */
class WatchedSink extends FakeSink {
  #waiting: { version: number; resolve: () => void }[] = [];
  override send(message: Message) {
    super.send(message);
    for (const w of this.#waiting.filter((w) => message.version >= w.version)) w.resolve();
    this.#waiting = this.#waiting.filter((w) => message.version < w.version);
  }
  until(version: number): Promise<void> {
    if (this.sent.some((m) => m.version >= version)) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push({ version, resolve }));
  }
}

Deno.test({
  name:
    "redis: two instances send the same patches for every commit, whichever took the write; one that joined late sends the game whole first",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const clock = new ManualClock();
    const a = await openRedisStore({ url: redis.url, clock, name: "a" });
    const b = await openRedisStore({ url: redis.url, clock, name: "b" });
    const hubs = [a, b].map((source) => new Hub({ source, clock, heartbeatMs: 15_000 }));
    try {
      const sinks = [new WatchedSink(), new WatchedSink()];
      for (const [i, hub] of hubs.entries()) {
        await hub.subscribe(ALL_GAMES, null, sinks[i]!, { delta: true }).synced;
      }
      const score = (side: "home" | "away") => addPoints({ side, points: 1 }, {});
      const patch = (clockText: string): Mutation => (g) => ({
        kind: "put",
        body: { ...g!, clock: clockText },
      });
      const writes: [typeof a, string, Mutation][] = [
        [a, "g", replaceGame(body, {})],
        [b, "g", score("home")],
        [a, "g", score("away")],
        [b, "h", replaceGame(body, {})],
        [a, "g", patch("12'")],
        [b, "h", score("home")],
        [a, "g", deleteGame({})],
        [b, "g", replaceGame(body, {})],
        [a, "g", score("home")],
      ];
      let last = 0;
      for (const [store, id, mutate] of writes) {
        clock.advance(1_000);
        const outcome = await store.write({ id, mutate });
        last = outcome.kind === "deleted"
          ? outcome.version
          : (outcome as { game: { version: number } }).game.version;
      }
      await Promise.all(sinks.map((sink) => sink.until(last)));
      const [onA, onB] = sinks.map((sink) => sink.sent.slice(1).map((m) => m.json));
      assert.deepEqual(onA, onB, "byte for byte the same messages on both instances");
      assert.deepEqual(sinks[0]!.sent.slice(1).map((m) => m.type), [
        "update",
        "patch",
        "patch",
        "update",
        "patch",
        "patch",
        "removed",
        "update",
        "patch",
      ]);
      const client = new DeltaClient();
      for (const m of sinks[0]!.sent) client.apply(JSON.parse(m.json));
      const snapshot = await b.snapshot();
      const server = new DeltaClient();
      server.apply({ type: "snapshot", games: snapshot.games });
      assert.equal(client.picture(), server.picture());

      // An instance started now has seen no previous state of g: g's next change goes whole.
      const late = new Hub({ source: b, clock, heartbeatMs: 15_000 });
      hubs.push(late);
      const lateSink = new WatchedSink();
      await late.subscribe(gameScope("g"), null, lateSink, { delta: true }).synced;
      const next = await a.write({ id: "g", mutate: score("away") });
      const again = await b.write({ id: "g", mutate: score("away") });
      const version = (o: typeof next) => (o as { game: { version: number } }).game.version;
      await lateSink.until(version(again));
      assert.deepEqual(lateSink.sent.map((m) => [m.type, m.version]), [
        ["snapshot", snapshot.version],
        ["update", version(next)],
        ["patch", version(again)],
      ]);
    } finally {
      for (const hub of hubs) hub.close();
      await a.close();
      await b.close();
    }
  },
});
