/**
 * What one write costs the server with nobody watching: sequential changes through each peer's
 * own write API (the next sent once the last was acknowledged), the server pinned to core 0 and
 * this process to core 1; prints the server's CPU per write and the round trip. README, "The bare
 * floor": the SQLite commit, and the write path's share of a delivery at 1,000 viewers.
 *
 *   deno run -A bench/write_cost.ts [--writes 4000] [--peer scoreline,scoreline-memory,bare]
 *
 * Not a test: it measures. Every server is started and stopped by its own PID (bench/servers.ts).
 */
import { takeOption } from "./args.ts";
import { cpuSeconds, pin } from "./proc.ts";
import { type PeerName, PEERS, startServer } from "./servers.ts";

const args = [...Deno.args];
const option = (name: string, fallback: string) => takeOption(args, name, fallback);

const writes = Number(option("--writes", "4000"));
const peers = option("--peer", "scoreline,scoreline-memory,bare").split(",") as PeerName[];
for (const peer of peers) {
  if (!PEERS.includes(peer)) throw new Error(`unknown peer ${peer} (${PEERS.join(", ")})`);
}
await pin(Deno.pid, 1);

console.log("| peer | writes | server CPU per write, µs | round trip p50, µs |");
console.log("|---|--:|--:|--:|");
for (const peer of peers) {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-write-cost-" });
  const server = await startServer(peer, { cpu: 0, dir, store: "sqlite" });
  try {
    await server.publisher.seed();
    // Warm up: JIT, the store's statements, the connection pool.
    for (let i = 0; i < 500; i++) await server.publisher.publish();
    const trips: number[] = [];
    const before = cpuSeconds(server.pid());
    for (let i = 0; i < writes; i++) {
      const started = performance.now();
      await server.publisher.publish();
      trips.push(performance.now() - started);
    }
    const cpu = cpuSeconds(server.pid()) - before;
    trips.sort((a, b) => a - b);
    const p50 = trips[Math.floor(trips.length / 2)]!;
    console.log(
      `| ${peer} | ${writes} | ${Math.round(cpu * 1e6 / writes)} | ${Math.round(p50 * 1000)} |`,
    );
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}
