/**
 * Where a server's CPU went during one recorded phase (`deno task bench --perf`), in the parts a
 * V8 profile cannot tell apart: the kernel, V8's builtins (the interpreter, IC stubs, promise and
 * Map machinery), JavaScript V8 compiled, the runtime's native code (Rust and V8's C++: Deno's
 * binary is stripped, so these have no names here), libc, and threads other than the main one
 * (V8's GC and compiler workers). With two recordings it prints A, B and A − B, part by part and
 * symbol by symbol: what Scoreline spends that the bare floor does not. Figures are µs per unit of
 * work (delivery, connect) when the bench wrote each phase's work beside it (`<file>.work.json`),
 * else ms of CPU, which compare only for phases of the same work.
 *
 *   deno run -A bench/perf_summary.ts [--top N] A.perf.data [B.perf.data]
 *
 * Builtins are named from V8's perf map (`<file>.map`, kept by the bench): V8 runs them from a
 * copy of its embedded blob mapped from Deno's binary, so perf files them under `deno` and only
 * the map says which is which.
 */
import { takeOption } from "./args.ts";
import { PERF_FREQUENCY, type PhaseWork, readWork } from "./perf_record.ts";

interface MapEntry {
  start: number;
  end: number;
  name: string;
}

/** What one recording spent, in samples, per part and per part-and-symbol. */
interface Spent {
  file: string;
  frequency: number;
  samples: number;
  parts: Map<string, number>;
  symbols: Map<string, number>;
  /** What the phase did (the bench writes it beside the recording), for µs per unit of work. */
  work?: PhaseWork;
}

export const PARTS = [
  "kernel",
  "V8 builtins",
  "JavaScript (compiled by V8)",
  "runtime native code (Rust, V8 C++)",
  "libc",
  "other threads (V8 GC and compiler workers, …)",
  "other",
] as const;

/** V8's perf map: `start size name` per line, hexadecimal, sorted here by start. */
export function parseMap(text: string): MapEntry[] {
  const entries: MapEntry[] = [];
  for (const line of text.split("\n")) {
    const match = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (!match) continue;
    const start = parseInt(match[1]!, 16);
    entries.push({ start, end: start + parseInt(match[2]!, 16), name: match[3]! });
  }
  return entries.sort((a, b) => a.start - b.start);
}

function lookup(entries: MapEntry[], address: number): string | undefined {
  let low = 0;
  let high = entries.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const entry = entries[middle]!;
    if (address < entry.start) high = middle - 1;
    else if (address >= entry.end) low = middle + 1;
    else return entry.name;
  }
  return undefined;
}

/** One sample line of `perf script -F pid,tid,ip,sym,dso`. */
const SAMPLE = /^\s*(\d+)\/(\d+)\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$/;

/** Tallies one recording's samples (the lines of `perf script -F pid,tid,ip,sym,dso`). */
export function tally(file: string, lines: Iterable<string>, map: MapEntry[], frequency: number) {
  const spent: Spent = { file, frequency, samples: 0, parts: new Map(), symbols: new Map() };
  const add = (part: string, symbol: string) => {
    spent.samples++;
    spent.parts.set(part, (spent.parts.get(part) ?? 0) + 1);
    const key = `${part} · ${symbol}`;
    spent.symbols.set(key, (spent.symbols.get(key) ?? 0) + 1);
  };
  for (const line of lines) {
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const [, pid, tid, ip, sym, dso] = match as unknown as string[];
    const named = lookup(map, parseInt(ip!, 16));
    const symbol = named ?? (sym === "[unknown]" ? dso!.split("/").pop()! : sym!);
    if (pid !== tid) add(PARTS[5], symbol);
    else if (dso === "[kernel.kallsyms]") add(PARTS[0], symbol);
    else if (named?.startsWith("Builtin:")) add(PARTS[1], named.slice("Builtin:".length));
    else if (named !== undefined) add(PARTS[2], named);
    // Code V8 made but the map does not name (it names code where made, not where GC moves it).
    else if (/\/perf-\d+\.map$/.test(dso!)) add(PARTS[2], "(V8 code the map does not name)");
    else if (/\/deno$/.test(dso!)) add(PARTS[3], "(no symbols)");
    else if (/\/libc[.-]/.test(dso!)) add(PARTS[4], symbol);
    else add(PARTS[6], `${symbol} (${dso})`);
  }
  return spent;
}

async function run(command: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command, { args }).output();
  const text = new TextDecoder().decode(stdout);
  if (code !== 0) throw new Error(`${command} ${args[0]}: ${new TextDecoder().decode(stderr)}`);
  return text;
}

async function read(file: string): Promise<Spent> {
  const script = await run("perf", ["script", "-i", file, "-F", "pid,tid,ip,sym,dso"]);
  const evlist = await run("perf", ["evlist", "-v", "-i", file]);
  const frequency = Number(/sample_freq[:=]\s*(\d+)/.exec(evlist)?.[1] ?? PERF_FREQUENCY);
  const pid = /^\s*(\d+)\//m.exec(script)?.[1];
  let map: MapEntry[] = [];
  for (const candidate of [`${file}.map`, `/tmp/perf-${pid}.map`]) {
    try {
      map = parseMap(Deno.readTextFileSync(candidate));
      break;
    } catch { /* next */ }
  }
  return { ...tally(file, script.split("\n"), map, frequency), work: readWork(file) };
}

/**
 * How samples are shown: µs per unit of work when every recording says what it did in the same
 * unit (then two recordings of unequal work compare), else ms of CPU.
 */
interface Measure {
  label: string;
  of(spent: Spent, samples: number): number;
  digits: number;
}

export function measureFor(spent: Spent[]): Measure {
  const unit = spent[0]?.work?.unit;
  if (unit !== undefined && spent.every((s) => s.work?.unit === unit)) {
    return {
      label: `µs per ${unit}`,
      of: (s, samples) => samples * 1e6 / s.frequency / s.work!.count,
      digits: 2,
    };
  }
  return { label: "ms", of: (s, samples) => samples * 1000 / s.frequency, digits: 1 };
}

function one(spent: Spent, top: number): string {
  const m = measureFor([spent]);
  const show = (samples: number) => m.of(spent, samples).toFixed(m.digits);
  const rows = PARTS.filter((p) => spent.parts.has(p)).map((part) => {
    const n = spent.parts.get(part)!;
    return `| ${part} | ${show(n)} | ${(n * 100 / spent.samples).toFixed(1)} % |`;
  });
  const symbols = [...spent.symbols].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([key, n]) => `| ${key} | ${show(n)} |`);
  return [
    `${spent.file}: ${spent.samples} samples at ${spent.frequency} Hz${worked(spent)}`,
    "",
    `| part | ${m.label} | share |`,
    "|---|--:|--:|",
    ...rows,
    `| all | ${show(spent.samples)} | 100 % |`,
    "",
    `| part · symbol | ${m.label} |`,
    "|---|--:|",
    ...symbols,
  ].join("\n");
}

function two(a: Spent, b: Spent, top: number): string {
  const m = measureFor([a, b]);
  const row = (label: string, x: number, y: number) => {
    const d = Number((x - y).toFixed(m.digits)); // no "-0.00" for a difference that rounds away
    const signed = (d > 0 ? "+" : "") + (d === 0 ? 0 : d).toFixed(m.digits);
    return `| ${label} | ${x.toFixed(m.digits)} | ${y.toFixed(m.digits)} | ${signed} |`;
  };
  const rows = PARTS.filter((p) => a.parts.has(p) || b.parts.has(p)).map((part) =>
    row(part, m.of(a, a.parts.get(part) ?? 0), m.of(b, b.parts.get(part) ?? 0))
  );
  const keys = new Set([...a.symbols.keys(), ...b.symbols.keys()]);
  const differences = [...keys].map((key) => ({
    key,
    x: m.of(a, a.symbols.get(key) ?? 0),
    y: m.of(b, b.symbols.get(key) ?? 0),
  })).sort((p, q) => Math.abs(q.x - q.y) - Math.abs(p.x - p.y)).slice(0, top)
    .map(({ key, x, y }) => row(key, x, y));
  return [
    `A: ${a.file} (${a.samples} samples${worked(a)})`,
    `B: ${b.file} (${b.samples} samples${worked(b)})`,
    "",
    `| part | A, ${m.label} | B | A − B |`,
    "|---|--:|--:|--:|",
    ...rows,
    row("all", m.of(a, a.samples), m.of(b, b.samples)),
    "",
    `| part · symbol (largest differences) | A, ${m.label} | B | A − B |`,
    "|---|--:|--:|--:|",
    ...differences,
  ].join("\n");
}

/** ", 200,000 deliveries" when the bench said what the phase did. */
function worked(spent: Spent): string {
  return spent.work ? `, ${spent.work.count.toLocaleString("en")} × ${spent.work.unit}` : "";
}

if (import.meta.main) {
  const args = [...Deno.args];
  const top = Number(takeOption(args, "--top", "25"));
  if (args.length < 1 || args.length > 2 || !Number.isInteger(top) || top < 1) {
    console.error("usage: perf_summary.ts [--top N] A.perf.data [B.perf.data]");
    Deno.exit(2);
  }
  const spent = await Promise.all(args.map(read));
  console.log(spent.length === 1 ? one(spent[0]!, top) : two(spent[0]!, spent[1]!, top));
}
