/**
 * `deno task bench`: runs the scenarios of issues 8 and 16 against Scoreline and its peers (nginx
 * + Nchan, a naive Deno + Hono server, the bare `Deno.serve` floor) in one run, each server pinned
 * to one core and the load generator to the other, and writes JSON plus a Markdown table under
 * bench/results/.
 *
 *   deno task bench                          every scenario, every peer (about 20 minutes)
 *   deno task bench --quick                  a smoke run: a tenth of the viewers, 3 s phases
 *   deno task bench --scenario sse-10k --peer scoreline,nchan
 *   deno task bench --scenario floor --repeat 3    issue 16's scenarios, median of 3 runs
 *   deno task bench --profile                also write Scoreline's and the floor's V8 profiles
 *   deno task bench --perf                   also `perf record` each server's measured phases
 *
 * Everything listens on 127.0.0.1; every phase has a deadline and the whole run a watchdog.
 */
import { deltaSizes } from "./delta_size.ts";
import { markdown, type Meta, type Results } from "./report.ts";
import { havePinning, pin } from "./proc.ts";
import { medianRow } from "./repeat.ts";
import { perfUnavailable } from "./perf_record.ts";
import {
  FLOOR_SCENARIOS,
  type Row,
  type RunContext,
  type Scenario,
  SCENARIOS,
} from "./scenarios.ts";
import {
  type PeerName,
  PEERS,
  PROFILED_PEERS,
  type ServerUnderTest,
  Skipped,
  startServer,
} from "./servers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

interface Options {
  scenarios: string[];
  peers: PeerName[];
  quick: boolean;
  procs: number;
  serverCpu: number;
  loadCpu: number;
  pin: boolean;
  profile: boolean;
  perf: boolean;
  out: string;
  label: string;
  store: "sqlite" | "memory" | null;
  repeat: number;
  /** The scenarios `repeat` applies to (the others run once). */
  repeatOnly: string[] | null;
  /** null: 30 minutes per repeat. */
  maxMinutes: number | null;
}

const USAGE = `usage: deno task bench [options]
  --scenario a,b     only these scenarios (${SCENARIOS.map((s) => s.name).join(", ")};
                     "floor" names issue 16's: ${FLOOR_SCENARIOS.join(", ")})
  --peer a,b         only these servers (${PEERS.join(", ")}; bare-contract is the
                     bare floor paying what Deno charges for the contract: README)
  --quick            smoke run: a tenth of the viewers, 3 s phases
  --procs N          load processes (default 4)
  --server-cpu N     core for the server under test (default 0)
  --load-cpu N       core for the load generator (default 1)
  --no-pin           do not pin anything (the report says so)
  --store S          Scoreline's store in the fan-out scenarios: sqlite (default) or memory
                     (the scoreline-memory peer is Scoreline on :memory: whatever this says;
                     scoreline-b is the checkout named by SCORELINE_BENCH_B, for an A/B)
  --repeat N         run every selected scenario N times on each peer (peers interleaved) and
                     report the median of each figure (default 1)
  --repeat-only a,b  repeat only these scenarios ("floor" as above); the others run once
  --profile          write the V8 CPU profile of Scoreline and of the bare floor per scenario
                     under <out>/profiles/<label>/<scenario>/<peer>.cpuprofile (first run only;
                     profiling slows the server: take figures from a run without it)
  --perf             \`perf record\` every server while it connects and while it delivers, under
                     <out>/perf/<label>/<scenario>-<phase>-<peer>.perf.data (first run only;
                     read them with bench/perf_summary.ts; needs perf and root)
  --label TEXT       names the result files (default: the date)
  --out DIR          where results go (default bench/results)
  --max-minutes N    watchdog for the whole run (default 30 per repeat)`;

function parseOptions(args: string[]): Options {
  const options: Options = {
    scenarios: SCENARIOS.map((s) => s.name),
    peers: [...PEERS],
    quick: false,
    procs: 4,
    serverCpu: 0,
    loadCpu: 1,
    pin: true,
    profile: false,
    perf: false,
    out: `${ROOT}bench/results`,
    label: "",
    store: null,
    repeat: 1,
    repeatOnly: null,
    maxMinutes: null,
  };
  const list = (value: string | undefined, known: readonly string[], what: string) => {
    const items = (value ?? "").split(",").map((s) => s.trim()).filter(Boolean)
      .flatMap((item) =>
        item === "floor" && known.includes(FLOOR_SCENARIOS[0]) ? FLOOR_SCENARIOS : [item]
      );
    for (const item of items) {
      if (!known.includes(item)) {
        throw new Error(`unknown ${what} "${item}"; known: ${known.join(", ")}`);
      }
    }
    if (items.length === 0) throw new Error(`--${what} needs a value`);
    return items;
  };
  const number = (value: string | undefined, name: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} needs a whole number`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.includes("=")
      ? arg.split(/=(.*)/s) as [string, string]
      : [arg, undefined];
    const value = () => inline ?? args[++i];
    switch (flag) {
      case "--scenario":
        options.scenarios = list(value(), SCENARIOS.map((s) => s.name), "scenario");
        break;
      case "--peer":
        options.peers = list(value(), PEERS, "peer") as PeerName[];
        break;
      case "--quick":
        options.quick = true;
        break;
      case "--procs":
        options.procs = Math.max(1, number(value(), "procs"));
        break;
      case "--server-cpu":
        options.serverCpu = number(value(), "server-cpu");
        break;
      case "--load-cpu":
        options.loadCpu = number(value(), "load-cpu");
        break;
      case "--no-pin":
        options.pin = false;
        break;
      case "--profile":
        options.profile = true;
        break;
      case "--perf":
        options.perf = true;
        break;
      case "--store": {
        const store = value();
        if (store !== "sqlite" && store !== "memory") {
          throw new Error("--store is sqlite or memory");
        }
        options.store = store;
        break;
      }
      case "--label":
        options.label = (value() ?? "").replace(/[^A-Za-z0-9._-]/g, "-");
        break;
      case "--out":
        options.out = value() ?? options.out;
        break;
      case "--repeat":
        options.repeat = Math.max(1, number(value(), "repeat"));
        break;
      case "--repeat-only":
        options.repeatOnly = list(value(), SCENARIOS.map((s) => s.name), "repeat-only");
        break;
      case "--max-minutes":
        options.maxMinutes = Math.max(1, number(value(), "max-minutes"));
        break;
      case "--help":
      case "-h":
        console.log(USAGE);
        Deno.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return options;
}

async function main(): Promise<void> {
  let options: Options;
  try {
    options = parseOptions(Deno.args);
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(2);
  }
  const noPerf = options.perf ? perfUnavailable() : null;
  if (noPerf) {
    console.error(`--perf: ${noPerf}`);
    Deno.exit(2);
  }
  const pinning = options.pin && havePinning();
  if (pinning) await pin(Deno.pid, options.loadCpu);
  const ctx: RunContext = {
    quick: options.quick,
    procs: options.procs,
    loadCpu: pinning ? options.loadCpu : null,
  };
  const dir = await Deno.makeTempDir({ prefix: "scoreline-bench-" });
  const label = options.label || new Date().toISOString().slice(0, 16).replace(/[T:]/g, "-") +
      (options.quick ? "-quick" : "");
  Deno.mkdirSync(options.out, { recursive: true });

  const maxMinutes = options.maxMinutes ?? 30 * options.repeat;
  let current: ServerUnderTest | null = null;
  const watchdog = setTimeout(async () => {
    console.error(`watchdog: the run took over ${maxMinutes} minutes; stopping`);
    await current?.stop();
    Deno.exit(3);
  }, maxMinutes * 60_000);

  const loadBefore = loadAverage();
  const rows: Row[] = [];
  const runOnce = async (scenario: Scenario, peer: PeerName, run: number): Promise<Row> => {
    const started = performance.now();
    const loadAt = loadAverage();
    let row: Row;
    try {
      const profileDir = options.profile && run === 1 && PROFILED_PEERS.includes(peer)
        ? `${options.out}/profiles/${label}/${scenario.name}`
        : undefined;
      current = await startServer(peer, {
        cpu: pinning ? options.serverCpu : null,
        dir,
        store: scenario.name === "writes-sqlite-16" ? "sqlite" : options.store ?? scenario.store,
        profileDir,
        perfDir: options.perf && run === 1 ? `${options.out}/perf/${label}` : undefined,
      });
      try {
        row = await scenario.run(ctx, current);
      } finally {
        await current.stop();
        current = null;
      }
    } catch (error) {
      row = error instanceof Skipped
        ? { scenario: scenario.name, peer, status: "skipped", note: error.message }
        : {
          scenario: scenario.name,
          peer,
          status: "failed",
          note: String((error as Error)?.message ?? error),
        };
    }
    const of = run > 1 || options.repeat > 1 ? ` (run ${run})` : "";
    row.loadAverages = [`${loadAt.split(" ")[0]} → ${loadAverage().split(" ")[0]}`];
    console.log(
      `${scenario.name} · ${peer}${of}: ${row.status} in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s, load ${row.loadAverages[0]}` + (row.note ? ` (${row.note})` : "") +
        (row.cpuPerDeliveryUs !== undefined ? `, ${row.cpuPerDeliveryUs} µs/delivery` : ""),
    );
    return row;
  };
  for (const scenario of SCENARIOS.filter((s) => options.scenarios.includes(s.name))) {
    // The A/B peer goes wherever Scoreline itself does, the contract floor wherever the floor does.
    const compared = (p: PeerName) =>
      scenario.peers.includes(
        p === "scoreline-b" ? "scoreline" : p === "bare-contract" ? "bare" : p,
      );
    const peers = options.peers.filter(compared);
    const runs = new Map<PeerName, Row[]>(peers.map((p) => [p, []]));
    // Peers take turns run by run, so a disturbance on the shared machine spreads over all of
    // them instead of landing on one peer's every run.
    const repeat = !options.repeatOnly || options.repeatOnly.includes(scenario.name)
      ? options.repeat
      : 1;
    for (let run = 1; run <= repeat; run++) {
      for (const peer of peers) {
        const done = runs.get(peer)!;
        // A peer that cannot run here will not on the next run either.
        if (done.some((r) => r.status === "skipped")) continue;
        done.push(await runOnce(scenario, peer, run));
      }
    }
    for (const peer of peers) rows.push(medianRow(runs.get(peer)!));
    // Peers a scenario does not compare are listed, so nobody wonders where they went (Scoreline
    // on :memory: is Scoreline, measured apart only where the store matters).
    for (
      const peer of options.peers.filter((p) => !compared(p) && p !== "scoreline-memory")
    ) {
      rows.push({ scenario: scenario.name, peer, status: "n/a", note: scenario.notCompared });
    }
  }
  clearTimeout(watchdog);
  await Deno.remove(dir, { recursive: true }).catch(() => {});

  const results: Results = {
    meta: await meta(options, label, pinning, loadBefore),
    rows,
    deltaSize: deltaSizes(),
  };
  const base = `${options.out}/${label}`;
  await Deno.writeTextFile(`${base}.json`, JSON.stringify(results, null, 2) + "\n");
  await Deno.writeTextFile(`${base}.md`, markdown(results));
  console.log(`\nwrote ${base}.json and ${base}.md\n`);
  console.log(markdown(results));
}

async function meta(
  options: Options,
  label: string,
  pinning: boolean,
  before: string,
): Promise<Meta> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? "unknown CPU";
  const cores = navigator.hardwareConcurrency;
  const memGiB = Math.round(Deno.systemMemoryInfo().total / 2 ** 30);
  return {
    label,
    date: new Date().toISOString(),
    command: `deno task bench ${Deno.args.join(" ")}`.trim(),
    quick: options.quick,
    machine:
      `${cores} × ${model}, ${memGiB} GiB, Linux ${Deno.osRelease()}, ulimit -n ${await ulimit()}`,
    versions: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      nginx: await versionOf("nginx", ["-v"]),
      nchan: await versionOf("dpkg-query", ["-W", "-f=${Version}", "libnginx-mod-nchan"]),
    },
    pinning: pinning
      ? `server on core ${options.serverCpu} (taskset), load generator on core ${options.loadCpu}`
      : "none (taskset missing or --no-pin): server and load share both cores",
    loadAverage: { before, after: loadAverage() },
    notes: [
      options.repeat > 1
        ? `Each figure of ${
          options.repeatOnly ? options.repeatOnly.join(", ") : "every scenario"
        } is the median of ${options.repeat} runs (peers taking turns run by run; the range of ` +
          "the runs is in the JSON and in the floor table); compare peers within a run, not " +
          "across runs or machines."
        : "Figures from one run; compare peers within a run, not across runs or machines.",
    ],
  };
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

async function ulimit(): Promise<string> {
  return await versionOf("sh", ["-c", "ulimit -n"]);
}

async function versionOf(program: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await new Deno.Command(program, {
      args,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    return text.trim().replace(/^nginx version: nginx\//, "") || "unknown";
  } catch {
    return "not installed";
  }
}

if (import.meta.main) await main();
