/**
 * Write throughput of the Redis store, one or two instances (stores) on one redis-server of its
 * own with appendfsync always, +1 writes from concurrent callers on one game or spread over many.
 * Bounded: a fixed number of writes per scenario.
 *
 *   deno run -A bench/redis_store.ts
 */
import { systemClock } from "../core/clock.ts";
import { addPoints, replaceGame } from "../core/scoreboard.ts";
import { gameInputSchema, validate } from "../core/schema.ts";
import { openRedisStore, type RedisStore } from "../store/redis.ts";
import { startRedis } from "../tests/support/redis.ts";

const WRITES = 2_000;
const CALLERS = 64;

const parsed = validate(gameInputSchema, { home: { name: "A" }, away: { name: "B" } });
if (!parsed.ok) throw new Error("bad fixture");
const game = parsed.value;
const plusOne = addPoints({ side: "home", points: 1 }, {});

async function scenario(name: string, instances: number, games: number) {
  await using redis = await startRedis();
  const stores: RedisStore[] = [];
  for (let i = 0; i < instances; i++) {
    stores.push(await openRedisStore({ url: redis.url, clock: systemClock(), name: `bench-${i}` }));
  }
  for (let g = 0; g < games; g++) {
    await stores[0]!.write({ id: `g${g}`, mutate: replaceGame(game, {}) });
  }
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CALLERS }, async (_, caller) => {
    const store = stores[caller % instances]!;
    while (next < WRITES) {
      const n = next++;
      const t0 = performance.now();
      await store.write({ id: `g${n % games}`, mutate: plusOne });
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  let total = 0;
  for (let g = 0; g < games; g++) total += (await stores[0]!.get(`g${g}`))?.home.score ?? 0;
  for (const store of stores) await store.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.floor(q * (latencies.length - 1))]!.toFixed(1);
  console.log(
    `${name}: ${Math.round(WRITES / seconds)} writes/s, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms` +
      ` (${CALLERS} callers, ${WRITES} writes, total score ${total})`,
  );
}

await scenario("1 instance, 1 game", 1, 1);
await scenario("2 instances, 1 game", 2, 1);
await scenario("1 instance, 64 games", 1, 64);
await scenario("2 instances, 64 games", 2, 64);
