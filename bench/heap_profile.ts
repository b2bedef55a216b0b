/**
 * Where a connected viewer's memory goes: runs Scoreline in this process (the same parts main.ts
 * wires, memory store), or the bare floor (`--server bare` or `bare-contract`), connects viewers
 * from load processes, and compares V8 heap snapshots taken before and after (after a full GC),
 * per constructor, per viewer. What RSS grows beyond the V8 heap is native memory (the HTTP
 * server's per-connection state and buffers).
 *
 *   deno run -A --v8-flags=--expose-gc bench/heap_profile.ts [--viewers N] [--transport sse]
 *     [--server scoreline|bare|bare-contract]
 */
import v8 from "node:v8";
import { LoadPool } from "./load/pool.ts";
import type { ViewerTransport } from "./load/viewer_process.ts";
import { delay } from "./proc.ts";
import { takeOption } from "./args.ts";
import { FEED_PATHS, fullGc, HERE_SERVERS, type HereServer, serveHere } from "./in_process.ts";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

type Census = Map<string, { count: number; bytes: number }>;

/** Objects per (type, constructor name) in a heap snapshot file. */
function census(path: string): Census {
  const data = JSON.parse(Deno.readTextFileSync(path)) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0];
  const stride = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const out: Census = new Map();
  for (let i = 0; i < data.nodes.length; i += stride) {
    const type = types[data.nodes[i + typeAt]!]!;
    let name = data.strings[data.nodes[i + nameAt]!]!;
    if (type === "string" || type === "concatenated string" || type === "sliced string") {
      name = "(strings)";
    } else if (type === "code") name = "(compiled code)";
    else if (name.length > 60) name = name.slice(0, 57) + "...";
    const key = `${type}: ${name}`;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += data.nodes[i + sizeAt]!;
    out.set(key, entry);
  }
  return out;
}

async function main(): Promise<void> {
  const args = [...Deno.args];
  const option = (name: string, fallback: string) => takeOption(args, name, fallback);
  const viewers = Number(option("--viewers", "2000"));
  const transport = option("--transport", "sse") as ViewerTransport;
  const serverName = option("--server", "scoreline") as HereServer;
  if (!HERE_SERVERS.includes(serverName)) throw new Error(`--server: ${HERE_SERVERS.join(", ")}`);
  const gc = fullGc();
  const server = await serveHere(serverName);
  const port = server.port;
  const path = FEED_PATHS[transport];
  const dir = await Deno.makeTempDir({ prefix: "scoreline-heap-" });
  const pool = LoadPool.start(2);
  try {
    // A few viewers first, so that what every connection's first use compiles or caches is in
    // both snapshots and not counted per viewer.
    await pool.open({ transport, port, path, resume: "since" }, 20, 10_000);
    await delay(500);
    gc();
    const before = Deno.memoryUsage();
    v8.writeHeapSnapshot(`${dir}/before.heapsnapshot`);
    const opened = await pool.open(
      { transport, port, path, resume: "since" },
      viewers,
      30_000,
    );
    const connected = opened.reduce((n, r) => n + r.synced, 0);
    await delay(1000);
    gc();
    const after = Deno.memoryUsage();
    v8.writeHeapSnapshot(`${dir}/after.heapsnapshot`);
    const a = census(`${dir}/before.heapsnapshot`);
    const b = census(`${dir}/after.heapsnapshot`);
    const per = (x: number) => (x / connected).toFixed(2).padStart(8);
    const kib = (x: number) => (x / connected / 1024).toFixed(2);
    console.log(`${connected} ${transport} viewers connected (of ${viewers})`);
    console.log(
      `per viewer: RSS ${kib(after.rss - before.rss)} KiB, V8 heap used ${
        kib(after.heapUsed - before.heapUsed)
      } KiB (committed ${kib(after.heapTotal - before.heapTotal)} KiB), external ${
        kib(after.external - before.external)
      } KiB`,
    );
    const rows = [...b.entries()].map(([key, v]) => {
      const was = a.get(key) ?? { count: 0, bytes: 0 };
      return { key, count: v.count - was.count, bytes: v.bytes - was.bytes };
    }).filter((r) => r.bytes > 0).sort((x, y) => y.bytes - x.bytes);
    const total = rows.reduce((n, r) => n + r.bytes, 0);
    console.log(`heap snapshot growth: ${kib(total)} KiB per viewer, by constructor:`);
    console.log("  objects/viewer  bytes/viewer  type: constructor");
    for (const row of rows.slice(0, 30)) {
      console.log(`  ${per(row.count)}  ${per(row.bytes)}      ${row.key}`);
    }
  } finally {
    await pool.stop();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
