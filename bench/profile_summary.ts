/**
 * Summarises V8 CPU profiles (`deno run --cpu-prof`, or `deno task bench --profile`): self and
 * total time per function, heaviest first, so a profile can be read without a browser.
 *
 *   deno run --allow-read bench/profile_summary.ts [--top N] FILE.cpuprofile...
 */
import { takeOption } from "./args.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Line {
  name: string;
  selfMs: number;
  totalMs: number;
}

/** Self and total (inclusive) milliseconds per function, merged by name and location. */
export function summarise(profile: Profile): { lines: Line[]; sampledMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const key = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(work|deno|npm)\//, "").replace(/^file:\/\//, "");
    return `${functionName || "(anonymous)"} ${file ? `${file}:${lineNumber + 1}` : ""}`.trim();
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let sampledUs = 0;
  for (const [id, us] of selfUs) {
    sampledUs += us;
    const node = byId.get(id)!;
    self.set(key(node), (self.get(key(node)) ?? 0) + us);
    // Inclusive time: once per distinct function on the stack (recursion counted once).
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = key(byId.get(at)!);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  const lines = [...total.keys()].map((name) => ({
    name,
    selfMs: (self.get(name) ?? 0) / 1000,
    totalMs: total.get(name)! / 1000,
  }));
  return { lines, sampledMs: sampledUs / 1000 };
}

function main(): void {
  const args = [...Deno.args];
  const top = Number(takeOption(args, "--top", "25"));
  if (args.length === 0) {
    console.error("usage: deno run --allow-read bench/profile_summary.ts [--top N] FILE...");
    Deno.exit(2);
  }
  for (const file of args) {
    const { lines, sampledMs } = summarise(JSON.parse(Deno.readTextFileSync(file)));
    const pct = (ms: number) => `${(ms / sampledMs * 100).toFixed(1).padStart(5)} %`;
    console.log(`\n${file}: ${sampledMs.toFixed(0)} ms sampled`);
    console.log("\n  self             function");
    for (const line of lines.sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) {
      console.log(`  ${line.selfMs.toFixed(0).padStart(7)} ms ${pct(line.selfMs)}  ${line.name}`);
    }
    console.log("\n  total            function");
    for (const line of lines.sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) {
      console.log(`  ${line.totalMs.toFixed(0).padStart(7)} ms ${pct(line.totalMs)}  ${line.name}`);
    }
  }
}

if (import.meta.main) main();
