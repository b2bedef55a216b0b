/**
 * What a connecting viewer allocates, site by site: V8's sampling heap profiler (through
 * `node:inspector`) runs while N viewers of one transport connect to a server in this process
 * (bench/in_process.ts: Scoreline, or the bare floor of either kind). Everything allocated is
 * counted, what the garbage collector took back included: that is what sets how often it runs.
 * `--live` counts only what is still held once they are all connected (after a full GC).
 *
 *   deno run -A --v8-flags=--expose-gc bench/alloc_profile.ts [--server scoreline]
 *     [--transport sse] [--viewers 10000] [--live] [--top 30] [--out FILE] [--against FILE]
 *
 * `--out` writes the bytes per viewer of every site as JSON; `--against` an earlier `--out`
 * (another server's, or this server before a change) prints each site's difference to it,
 * largest first. Sites are "function file:line"; Deno's own scripts all say line 1.
 *
 * Not a test: it measures. Sampling is statistical (one sample per 256 bytes on average): a
 * site under about 20 bytes per viewer is noise.
 */
import inspector from "node:inspector";
import { takeOption } from "./args.ts";
import { FEED_PATHS, fullGc, HERE_SERVERS, type HereServer, serveHere } from "./in_process.ts";
import { LoadPool } from "./load/pool.ts";
import type { ViewerSpec, ViewerTransport } from "./load/viewer_process.ts";
import { delay } from "./proc.ts";

interface SampledNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampledNode[];
}

/** The repository's root, as V8 names the files in it. */
const ROOT = new URL("../", import.meta.url).href;

/** Bytes per site ("function file:line"), summed over the profile's tree. */
export function bySite(head: SampledNode, root = ROOT): Map<string, number> {
  const sites = new Map<string, number>();
  const walk = (node: SampledNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    // Scoreline's files by their path in the repository, Deno's by their ext: name.
    const file = url.startsWith(root) ? url.slice(root.length) : url;
    const site = `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
    if (node.selfSize > 0) sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
    node.children.forEach(walk);
  };
  walk(head);
  return sites;
}

/** Rows "bytes  [against  difference]  site", largest (difference) first. */
export function siteLines(
  mine: Map<string, number>,
  against: Map<string, number> | undefined,
  top: number,
): string[] {
  const fmt = (n: number) => n.toFixed(0).padStart(7);
  if (!against) {
    return [...mine].sort((a, b) => b[1] - a[1]).slice(0, top).map(([site, n]) =>
      `${fmt(n)}  ${site}`
    );
  }
  const sites = new Set([...mine.keys(), ...against.keys()]);
  return [...sites]
    .map((site) => ({ site, a: mine.get(site) ?? 0, b: against.get(site) ?? 0 }))
    .sort((x, y) => Math.abs(y.a - y.b) - Math.abs(x.a - x.b))
    .slice(0, top)
    .map(({ site, a, b }) => `${fmt(a)} ${fmt(b)} ${fmt(a - b)}  ${site}`);
}

function post<T>(session: inspector.Session, method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => error ? reject(error) : resolve(result as T))
  );
}

async function main(): Promise<void> {
  const args = [...Deno.args];
  const live = args.includes("--live");
  const option = (name: string, fallback: string) => takeOption(args, name, fallback);
  const serverName = option("--server", "scoreline") as HereServer;
  if (!HERE_SERVERS.includes(serverName)) throw new Error(`--server: ${HERE_SERVERS.join(", ")}`);
  const transport = option("--transport", "sse") as ViewerTransport;
  if (!(transport in FEED_PATHS)) throw new Error("--transport: sse, ndjson, ws or lp");
  const viewers = Number(option("--viewers", "10000"));
  const top = Number(option("--top", "30"));
  const out = option("--out", "");
  const againstFile = option("--against", "");
  const gc = live ? fullGc() : undefined;

  const server = await serveHere(serverName);
  const pool = LoadPool.start(3);
  const session = new inspector.Session();
  session.connect();
  try {
    const feed: ViewerSpec = {
      transport,
      port: server.port,
      path: FEED_PATHS[transport],
      resume: "since",
    };
    // A few viewers first: what the first connections compile and cache is not per viewer.
    await pool.open(feed, 200, 20_000);
    await post(session, "HeapProfiler.enable");
    await post(session, "HeapProfiler.startSampling", {
      samplingInterval: 256,
      includeObjectsCollectedByMajorGC: !live,
      includeObjectsCollectedByMinorGC: !live,
    });
    const opened = await pool.open(feed, viewers, 60_000);
    const connected = opened.reduce((n, r) => n + r.synced, 0);
    if (live) {
      await delay(500);
      gc!();
    }
    const { profile } = await post<{ profile: { head: SampledNode } }>(
      session,
      "HeapProfiler.stopSampling",
    );
    const sites = new Map(
      [...bySite(profile.head)].map(([site, bytes]) => [site, bytes / connected]),
    );
    const total = [...sites.values()].reduce((sum, n) => sum + n, 0);
    console.log(
      `${serverName}, ${connected} ${transport} viewers: ${total.toFixed(0)} bytes ${
        live ? "held" : "allocated"
      } per viewer`,
    );
    const against = againstFile
      ? new Map(Object.entries(JSON.parse(await Deno.readTextFile(againstFile))) as [
        string,
        number,
      ][])
      : undefined;
    if (against) {
      const theirs = [...against.values()].reduce((sum, n) => sum + n, 0);
      console.log(`${againstFile}: ${theirs.toFixed(0)} bytes per viewer`);
      console.log("   this   other    diff  site");
    }
    for (const line of siteLines(sites, against, top)) console.log(line);
    if (out) await Deno.writeTextFile(out, JSON.stringify(Object.fromEntries(sites)));
  } finally {
    session.disconnect();
    await pool.stop();
    await server.stop();
  }
}

if (import.meta.main) await main();
