/**
 * What the metrics cost on the hub's hot path, measured in-process:
 *   deno run --allow-env --allow-read scripts/metrics_cost.ts
 * prints the cost of the per-batch fan-out timing (two clock reads and one histogram
 * observation), the time one fan-out to 10,000 subscribers takes for comparison, and the time to
 * render /metrics with those 10,000 open. A measurement, not a test: it asserts nothing.
 */
import { systemClock } from "../core/clock.ts";
import type { ChangeSource } from "../core/change_source.ts";
import { Hub } from "../core/hub.ts";
import type { Change } from "../core/scoreboard.ts";
import { ALL_GAMES } from "../core/scope.ts";
import { FeedCapacity } from "../core/capacity.ts";
import { Metrics } from "../http/metrics.ts";

const VIEWERS = 10_000;
const BATCHES = 500;
const OBSERVATIONS = 200_000;

function hookCost(metrics: Metrics): number {
  for (let i = 0; i < 10_000; i++) metrics.fanout(0.0001); // warm-up
  const started = performance.now();
  for (let i = 0; i < OBSERVATIONS; i++) {
    const at = performance.now();
    metrics.fanout((performance.now() - at) / 1000);
  }
  return ((performance.now() - started) / OBSERVATIONS) * 1000;
}

async function fanout(metrics: Metrics): Promise<{ batchMs: number; renderMs: number }> {
  let commit: (changes: readonly Change[]) => void = () => {};
  const source: ChangeSource = {
    resume: () => Promise.resolve({ kind: "snapshot", version: 1, games: [] }),
    onCommit(listener) {
      commit = listener;
      return () => {};
    },
  };
  const hub = new Hub({
    source,
    clock: systemClock(),
    heartbeatMs: 3_600_000,
    onFanout: metrics.fanout,
  });
  metrics.watch({ hub, capacity: new FeedCapacity(VIEWERS, VIEWERS) });
  let bytes = 0;
  const subscriptions = Array.from({ length: VIEWERS }, () =>
    hub.subscribe(ALL_GAMES, null, {
      transport: "sse",
      send: (message) => (bytes += message.sse.byteLength),
      ping() {},
      writable: () => true,
      close() {},
    }));
  await Promise.all(subscriptions.map((s) => s.synced));
  const change = (version: number): Change => ({
    type: "update",
    version,
    game: {
      id: "cup",
      status: "live",
      home: { name: "Lions", score: version },
      away: { name: "Tigers", score: 0 },
      version,
      updatedAt: new Date(0).toISOString(),
    },
  });
  for (let v = 2; v < 52; v++) commit([change(v)]); // warm-up
  const started = performance.now();
  for (let v = 52; v < 52 + BATCHES; v++) commit([change(v)]);
  const batchMs = (performance.now() - started) / BATCHES;
  const renderStarted = performance.now();
  for (let i = 0; i < 20; i++) await metrics.render();
  const renderMs = (performance.now() - renderStarted) / 20;
  hub.close();
  if (bytes === 0) throw new Error("nothing was delivered");
  return { batchMs, renderMs };
}

const metrics = new Metrics();
const hook = hookCost(metrics);
const { batchMs, renderMs } = await fanout(metrics);
console.log(`fan-out timing per batch: ${hook.toFixed(2)} µs (two clock reads, one observation)`);
console.log(`one fan-out to ${VIEWERS} subscribers: ${(batchMs * 1000).toFixed(0)} µs`);
console.log(`render /metrics with ${VIEWERS} subscribers open: ${renderMs.toFixed(2)} ms`);
