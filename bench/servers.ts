/**
 * The servers under test, each started pinned to one core on a free 127.0.0.1 port and stopped
 * by its own PID: Scoreline (the real main.ts, on SQLite or on `:memory:`), nginx + Nchan, the
 * naive Deno + Hono peer and the bare `Deno.serve` floor.
 * Each comes with a Publisher that goes through that server's own write API, and the feed paths
 * a viewer subscribes to. A peer that is not installed throws Skipped, so the report can say so.
 */
import { readLines } from "../tests/support/process.ts";
import type { ResumeStyle, ViewerTransport } from "./load/viewer_process.ts";
import { NCHAN_MODULE, NCHAN_PATHS, nchanConfig } from "./peers/nchan_conf.ts";
import {
  keepMap,
  perfMapEnv,
  type PhaseWork,
  recordPhase,
  type StopRecording,
  writeWork,
} from "./perf_record.ts";
import { childPids, delay, freePort, pinned, which } from "./proc.ts";

export type PeerName =
  | "scoreline"
  | "scoreline-memory"
  | "scoreline-b"
  | "bare"
  | "bare-contract"
  | "nchan"
  | "naive";
export const PEERS: readonly PeerName[] = [
  "scoreline",
  "scoreline-memory",
  "scoreline-b",
  "bare",
  "bare-contract",
  "nchan",
  "naive",
];

/** The peers whose V8 CPU profile `--profile` writes (they exit cleanly on SIGTERM). */
export const PROFILED_PEERS: readonly PeerName[] = [
  "scoreline",
  "scoreline-memory",
  "scoreline-b",
  "bare",
  "bare-contract",
];

/**
 * The checkout the `scoreline-b` peer runs (its main.ts and deno.json), for an A/B of a change:
 * `SCORELINE_BENCH_B=/path/to/other/checkout deno task bench --peer scoreline,scoreline-b`. The
 * two take turns run by run like any peers, so a machine that drifts between runs moves both.
 */
const B_ROOT_VARIABLE = "SCORELINE_BENCH_B";

/** A peer that cannot run here (not installed): reported as skipped, never dropped. */
export class Skipped extends Error {}

export const GAME_ID = "bench";
const TOKEN = "bench-token-0123456789abcdef";

/** The game every scenario publishes to: the same fields (and so message size) on every peer. */
export const GAME_INPUT = {
  title: "Bench Final",
  status: "live",
  period: "2nd half",
  clock: "67:12",
  home: { name: "Lions", score: 0 },
  away: { name: "Tigers", score: 1 },
};

export interface Publisher {
  /** Creates the game (Nchan: stores a first message); resolves with its version. */
  seed(): Promise<number>;
  /** One change through the peer's write API, resolving with its version once acknowledged. */
  publish(): Promise<number>;
}

export interface Feed {
  path: string;
  resume: ResumeStyle;
}

export interface ServerUnderTest {
  peer: PeerName;
  port: number;
  /** The process whose memory and CPU are measured (for nginx, its one worker). */
  pid: () => number;
  feeds: Partial<Record<ViewerTransport, Feed>>;
  publisher: Publisher;
  /** The server's own output so far (for a failure report). */
  output: string[];
  /** With `--perf`: records the server (`perf record`) from now until the returned call. */
  record?(phase: string): Promise<StopRecording>;
  /** With `--perf`: what a recorded phase did, once known (perf_summary.ts gives µs per unit). */
  recordedWork?(phase: string, work: PhaseWork): void;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Core to pin the server to (null: not pinned). */
  cpu: number | null;
  /** A temporary directory of this run, for data files, configs and profiles. */
  dir: string;
  /** Scoreline's store: the embedded SQLite default, or memory (always memory for scoreline-memory). */
  store: "sqlite" | "memory";
  /** Write a V8 CPU profile of a Deno peer into this directory on exit, named after the peer. */
  profileDir?: string;
  /** `--perf`: the server's measured phases are recorded into this directory (perf_record.ts). */
  perfDir?: string;
}

const ROOT = new URL("..", import.meta.url).pathname;

export async function startServer(
  peer: PeerName,
  options: StartOptions,
): Promise<ServerUnderTest> {
  const server = await startPeer(peer, options);
  return options.perfDir ? recorded(server, options.perfDir) : server;
}

/** A server whose phases `record` writes to `<dir>/<phase>-<peer>.perf.data`. */
function recorded(server: ServerUnderTest, dir: string): ServerUnderTest {
  const files: string[] = [];
  const pid = server.pid();
  const fileOf = (phase: string) => `${dir}/${phase}-${server.peer}.perf.data`;
  return {
    ...server,
    record(phase) {
      Deno.mkdirSync(dir, { recursive: true });
      const file = fileOf(phase);
      files.push(file);
      return recordPhase(pid, file);
    },
    recordedWork(phase, work) {
      writeWork(fileOf(phase), work);
    },
    async stop() {
      await server.stop();
      keepMap(pid, files);
    },
  };
}

function startPeer(peer: PeerName, options: StartOptions): Promise<ServerUnderTest> {
  switch (peer) {
    case "scoreline":
      return startScoreline("scoreline", options);
    case "scoreline-memory":
      return startScoreline("scoreline-memory", { ...options, store: "memory" });
    case "scoreline-b": {
      const root = Deno.env.get(B_ROOT_VARIABLE);
      if (!root) throw new Skipped(`${B_ROOT_VARIABLE} names no checkout to compare`);
      return startScoreline("scoreline-b", options, root.endsWith("/") ? root : `${root}/`);
    }
    case "nchan":
      return startNchan(options);
    case "naive":
      return startDenoPeer("naive", options, "naive_hono.ts", {
        sse: { path: `/api/games/${GAME_ID}/events`, resume: "last-event-id" },
      });
    case "bare":
    case "bare-contract":
      // bare-contract: the floor that also pays Deno's price for the contract (bare_deno.ts).
      return startDenoPeer(peer, options, "bare_deno.ts", {
        sse: { path: `/api/games/${GAME_ID}/events`, resume: "last-event-id" },
        ws: { path: `/api/games/${GAME_ID}/ws`, resume: "since" },
        lp: { path: `/api/games/${GAME_ID}/poll?timeout=30`, resume: "since" },
      });
  }
}

async function startScoreline(
  peer: "scoreline" | "scoreline-memory" | "scoreline-b",
  options: StartOptions,
  root = ROOT,
): Promise<ServerUnderTest> {
  const dataPath = options.store === "memory" ? ":memory:" : `${options.dir}/scoreline.db`;
  const child = spawnLogged(
    denoRun(options.cpu, [
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--allow-sys=hostname",
      ...cpuProfile(peer, options),
      `${root}main.ts`,
    ], root),
    {
      PORT: "0",
      HOST: "127.0.0.1",
      SCORELINE_DATA: dataPath,
      SCORELINE_TOKENS: TOKEN,
      SCORELINE_WRITE_RATE: "0",
      // Every viewer comes from 127.0.0.1: the per-address limits would refuse most of them.
      SCORELINE_FEEDS_PER_CLIENT: "1000000",
      SCORELINE_FEED_RATE: "0",
      SCORELINE_WS_PER_CLIENT: "1000000",
      SCORELINE_MAX_WEBSOCKETS: "1000000",
      SCORELINE_LOG: "info",
      NO_COLOR: "1",
      ...perfMap(peer, options),
    },
  );
  const port = await child.waitFor(/"msg":"listening","url":"http:\/\/[^:]+:(\d+)"/);
  const base = `http://127.0.0.1:${port}`;
  const path = `/api/games/${GAME_ID}`;
  return {
    peer,
    port,
    pid: () => child.pid,
    feeds: {
      sse: { path: `${path}/events`, resume: "last-event-id" },
      ndjson: { path: `${path}/stream`, resume: "since" },
      ws: { path: `${path}/ws`, resume: "since" },
      lp: { path: `${path}/poll?timeout=30`, resume: "since" },
    },
    publisher: restPublisher(base),
    output: child.output,
    stop: () => child.stop("SIGTERM"),
  };
}

/** The Deno peers under bench/peers/: Scoreline's write API, the feeds they serve. */
async function startDenoPeer(
  peer: "naive" | "bare" | "bare-contract",
  options: StartOptions,
  file: string,
  feeds: ServerUnderTest["feeds"],
): Promise<ServerUnderTest> {
  const child = spawnLogged(
    denoRun(options.cpu, [
      "--allow-net",
      "--allow-env",
      ...cpuProfile(peer, options),
      `${ROOT}bench/peers/${file}`,
    ]),
    {
      PORT: "0",
      NAIVE_TOKEN: TOKEN,
      NO_COLOR: "1",
      ...(peer === "bare-contract" ? { BARE_CONTRACT: "1" } : {}),
      ...perfMap(peer, options),
    },
  );
  const port = await child.waitFor(/listening on (\d+)/);
  return {
    peer,
    port,
    pid: () => child.pid,
    feeds,
    publisher: restPublisher(`http://127.0.0.1:${port}`),
    output: child.output,
    stop: () => child.stop("SIGTERM"),
  };
}

async function startNchan(options: StartOptions): Promise<ServerUnderTest> {
  const nginx = which("nginx") ?? (exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : null);
  if (!nginx) throw new Skipped("nginx is not installed (apt-get install nginx)");
  if (!exists(NCHAN_MODULE)) {
    throw new Skipped(`the Nchan module is not installed (${NCHAN_MODULE}: libnginx-mod-nchan)`);
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = freePort();
    const dir = `${options.dir}/nchan-${port}`;
    Deno.mkdirSync(dir, { recursive: true });
    // nginx runs its worker as nobody when started as root: let it write its temp files.
    Deno.chmodSync(dir, 0o777);
    Deno.writeTextFileSync(`${dir}/nginx.conf`, nchanConfig(dir, port, 19_000));
    const child = spawnLogged(
      [
        ...pinned(options.cpu),
        nginx,
        "-p",
        dir,
        "-c",
        `${dir}/nginx.conf`,
        "-e",
        `${dir}/error.log`,
      ],
      {},
    );
    const listening = await waitForPort(port, child);
    if (!listening) {
      await child.stop("SIGTERM");
      continue; // the port was taken meanwhile: another one
    }
    const master = child.pid;
    let worker = 0;
    for (let i = 0; i < 50 && !worker; i++) {
      worker = childPids(master)[0] ?? 0;
      if (!worker) await delay(20);
    }
    if (!worker) throw new Error("nginx started no worker");
    return {
      peer: "nchan",
      port,
      pid: () => worker,
      feeds: {
        sse: { path: NCHAN_PATHS.sse, resume: "last-event-id" },
        lp: { path: NCHAN_PATHS.lp, resume: "nchan-etag" },
        ndjson: { path: NCHAN_PATHS.ndjson, resume: "none" },
        ws: { path: NCHAN_PATHS.ws, resume: "none" },
      },
      publisher: nchanPublisher(`http://127.0.0.1:${port}${NCHAN_PATHS.publish}?id=${GAME_ID}`),
      output: child.output,
      // SIGTERM is nginx's fast shutdown: it closes the subscribers and exits.
      stop: () => child.stop("SIGTERM"),
    };
  }
  throw new Error("could not find a free port for nginx");
}

/** `deno run` flags that write the peer's V8 CPU profile on exit, when asked to. */
function cpuProfile(peer: PeerName, options: StartOptions): string[] {
  if (!options.profileDir) return [];
  return [
    "--cpu-prof",
    `--cpu-prof-dir=${options.profileDir}`,
    `--cpu-prof-name=${peer}.cpuprofile`,
  ];
}

/** A Deno peer's environment for `--perf`: V8 writes the map that names its compiled code. */
function perfMap(peer: PeerName, options: StartOptions): Record<string, string> {
  return options.perfDir ? perfMapEnv(`${options.dir}/v8-${peer}.log`) : {};
}

/** `deno run` with the project's config (its import map), pinned to `cpu`. */
function denoRun(cpu: number | null, args: string[], root = ROOT): string[] {
  return [...pinned(cpu), Deno.execPath(), "run", "--config", `${root}deno.json`, ...args];
}

/** Scoreline's and the naive peer's write API: PUT the game, then POST .../score. */
function restPublisher(base: string): Publisher {
  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const url = `${base}/api/games/${GAME_ID}`;
  const versionOf = async (response: Response) => {
    await response.body?.cancel();
    const etag = response.headers.get("etag");
    if (!response.ok || !etag) throw new Error(`write answered ${response.status}`);
    return Number(etag.replaceAll('"', ""));
  };
  const score = JSON.stringify({ side: "home", points: 1 });
  return {
    seed: async () =>
      versionOf(
        await fetch(url, {
          method: "PUT",
          headers,
          body: JSON.stringify(GAME_INPUT),
          signal: timeout(),
        }),
      ),
    publish: async () =>
      versionOf(
        await fetch(`${url}/score`, { method: "POST", headers, body: score, signal: timeout() }),
      ),
  };
}

/**
 * Nchan's publisher endpoint, sent the same message Scoreline would fan out (same fields, a
 * 16-digit version), so every peer carries messages of the same size.
 */
function nchanPublisher(url: string): Publisher {
  let version = Date.now() * 1000;
  let home = 0;
  const send = async () => {
    const v = ++version;
    const game = {
      id: GAME_ID,
      ...GAME_INPUT,
      home: { name: GAME_INPUT.home.name, score: home++ },
      version: v,
      updatedAt: new Date().toISOString(),
    };
    const body = JSON.stringify({ type: "update", version: v, game });
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: timeout(),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`Nchan publish answered ${response.status}`);
    return v;
  };
  return { seed: send, publish: send };
}

/** No write waits for ever: a server that hangs fails the scenario instead. */
const timeout = () => AbortSignal.timeout(10_000);

interface LoggedChild {
  pid: number;
  output: string[];
  /** Resolves with the first capture of `pattern` in the output; rejects if the child exits. */
  waitFor(pattern: RegExp): Promise<number>;
  exited: Promise<Deno.CommandStatus>;
  stop(signal: Deno.Signal): Promise<void>;
}

function spawnLogged(argv: string[], env: Record<string, string>): LoggedChild {
  const [program, ...args] = argv;
  const process = new Deno.Command(program!, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  const watchers: { pattern: RegExp; resolve: (n: number) => void }[] = [];
  const exited = readLines(process, (line) => {
    if (output.length < 2000) output.push(line);
    for (const w of watchers) {
      const match = w.pattern.exec(line);
      if (match) w.resolve(Number(match[1]));
    }
  });
  let stopped = false;
  return {
    pid: process.pid,
    output,
    exited,
    waitFor: (pattern) =>
      Promise.race([
        new Promise<number>((resolve) => watchers.push({ pattern, resolve })),
        exited.then((status) => {
          throw new Error(
            `${program} exited (${status.code}) before it listened:\n` +
              output.slice(-20).join("\n"),
          );
        }),
        delay(20_000).then(() => {
          throw new Error(`${program} did not listen within 20 s`);
        }),
      ]),
    async stop(signal) {
      if (stopped) return;
      stopped = true;
      try {
        process.kill(signal);
      } catch { /* already gone */ }
      const gone = await Promise.race([exited.then(() => true), delay(10_000).then(() => false)]);
      if (!gone) {
        try {
          process.kill("SIGKILL");
        } catch { /* gone meanwhile */ }
        await exited;
      }
    },
  };
}

async function waitForPort(port: number, child: LoggedChild): Promise<boolean> {
  let exited = false;
  child.exited.then(() => (exited = true));
  for (let i = 0; i < 100 && !exited; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return true;
    } catch {
      await delay(50);
    }
  }
  return false;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
