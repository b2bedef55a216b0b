/**
 * The scenarios of issues 8 and 16. Each runs against one server under test and returns one Row. The
 * fan-out scenarios share one shape: seed a game, connect the viewers (connect rate, memory per
 * viewer), publish through the write API (at a fixed rate, or as fast as writes are
 * acknowledged), wait until every viewer has the last version, then gather latency, losses and
 * duplicates from the load processes. Every phase has a deadline.
 */
import { LoadPool } from "./load/pool.ts";
import type { FinishReply } from "./load/records.ts";
import type { OpenReply, ViewerTransport } from "./load/viewer_process.ts";
import { CpuMeter, delay, rssKiB, wallNow, which } from "./proc.ts";
import { GAME_ID, type PeerName, type ServerUnderTest, Skipped } from "./servers.ts";
import { Histogram, type LatencySummary } from "./stats.ts";

export interface RunContext {
  quick: boolean;
  /** Load processes to spread the viewers over. */
  procs: number;
  /** Core the load runs on (null: not pinned); wrk is pinned to it too. */
  loadCpu: number | null;
}

/** One scenario on one server: every figure the report shows, and how the run went. */
export interface Row {
  scenario: string;
  peer: PeerName;
  status: "ok" | "skipped" | "failed" | "n/a";
  note?: string;
  viewers?: number;
  connected?: number;
  /** From the first connection attempt until every viewer had its first message. */
  connectSeconds?: number;
  latency?: LatencySummary | null;
  published?: number;
  publishPerSecond?: number;
  deliveries?: number;
  deliveriesPerSecond?: number;
  missing?: number;
  duplicates?: number;
  reordered?: number;
  atLatest?: number;
  rssBeforeKiB?: number;
  rssAfterKiB?: number;
  kibPerViewer?: number;
  /** CPU use while publishing, in percent of one core. */
  serverCpu?: number;
  /** Server CPU seconds from the first publish until every viewer had the last change. */
  serverCpuSeconds?: number;
  /** Server CPU per delivery in µs: serverCpuSeconds ÷ deliveries (the publishes included). */
  cpuPerDeliveryUs?: number;
  /** Server CPU per viewer while connecting, in µs. */
  connectCpuUs?: number;
  generatorCpu?: number;
  /** The load generator's CPU while connecting (the connect storm is its busiest phase). */
  generatorCpuConnect?: number;
  /** Reconnect storm: from the reconnect until every viewer had the latest version. */
  resumeSeconds?: number;
  writesPerSecond?: number;
  writeLatency?: LatencySummary | null;
  requestsPerSecond?: number;
  requestsPerSecond304?: number;
  requestLatencyP99?: number;
  requestLatencyP99304?: number;
  failures?: Record<string, number>;
  examples?: string[];
  /** The 1-minute load average before → after each run of this row (the machine is shared). */
  loadAverages?: string[];
  /** With --repeat: the runs this row is the median of, and each run's value of every figure. */
  repeats?: number;
  runs?: Record<string, number[]>;
}

/**
 * How changes are published: at a fixed rate, or closed-loop (each publisher sends its next
 * change once the last was acknowledged) for `seconds` or until `count` changes, whichever first.
 */
type Publishing =
  | { kind: "rate"; perSecond: number; seconds: number }
  | { kind: "closed"; publishers: number; seconds: number; count?: number };

export interface Scenario {
  name: string;
  title: string;
  /** The peers this scenario compares; others are "n/a" for it, for this reason. */
  peers: readonly PeerName[];
  notCompared: string;
  /** Scoreline's store for this scenario. */
  store: "sqlite" | "memory";
  run(ctx: RunContext, server: ServerUnderTest): Promise<Row>;
}

const CONNECT_DEADLINE_MS = 30_000;
const DRAIN_DEADLINE_MS = 15_000;

/** The publish pattern of every latency scenario: the same on every peer. */
const RATE = (quick: boolean): Publishing => ({
  kind: "rate",
  perSecond: 5,
  seconds: quick ? 3 : 10,
});

function viewers(full: number, quick: boolean): number {
  return quick ? Math.max(100, Math.round(full / 10)) : full;
}

/** Why a peer sits out a scenario of this transport. */
const NOT_COMPARED: Record<ViewerTransport, string> = {
  sse: "",
  ws: "the naive peer serves SSE only",
  lp: "the naive peer serves SSE only",
  ndjson: "the naive peer serves SSE only; the bare floor serves SSE, WebSocket and long polls",
};

function fanOutScenario(
  name: string,
  title: string,
  transport: ViewerTransport,
  fullViewers: number,
  peers: readonly PeerName[],
  publishing: (quick: boolean) => Publishing,
): Scenario {
  return {
    name,
    title,
    peers,
    notCompared: NOT_COMPARED[transport],
    store: "sqlite",
    run: (ctx, server) =>
      fanOut(ctx, server, name, {
        transport,
        viewers: viewers(fullViewers, ctx.quick),
        publishing: publishing(ctx.quick),
      }),
  };
}

/** The scenarios issue 16's targets are read from (`--scenario floor`, `--repeat-only floor`). */
export const FLOOR_SCENARIOS = [
  "one-pub-sse-1k",
  // Item 4: 16 durable writers, p99 delivery latency on SQLite against :memory:.
  "ceiling-sse-1k",
  "one-pub-ws-1k",
  "long-poll-10hz-1k",
  "connect-sse-10k",
  "connect-ws-10k",
  "connect-lp-10k",
] as const;

export const SCENARIOS: readonly Scenario[] = [
  fanOutScenario(
    "sse-1k",
    "SSE, 1,000 viewers",
    "sse",
    1_000,
    ["scoreline", "bare", "nchan", "naive"],
    RATE,
  ),
  fanOutScenario(
    "sse-10k",
    "SSE, 10,000 viewers",
    "sse",
    10_000,
    ["scoreline", "bare", "nchan", "naive"],
    RATE,
  ),
  fanOutScenario(
    "long-poll-1k",
    "Long polling, 1,000 viewers",
    "lp",
    1_000,
    ["scoreline", "bare", "nchan"],
    RATE,
  ),
  fanOutScenario("ndjson-1k", "NDJSON / HTTP streaming, 1,000 viewers", "ndjson", 1_000, [
    "scoreline",
    "nchan",
  ], RATE),
  fanOutScenario("ws-1k", "WebSocket, 1,000 viewers", "ws", 1_000, [
    "scoreline",
    "bare",
    "nchan",
  ], RATE),
  fanOutScenario(
    "ceiling-sse-1k",
    "Delivery ceiling: SSE, 1,000 viewers, publishing as fast as acknowledged (16 publishers)",
    "sse",
    1_000,
    ["scoreline", "scoreline-memory", "bare", "nchan", "naive"],
    // Enough publishers that the server always has the next change waiting: Nchan acknowledges
    // only after its fan-out, so with few publishers it would sit idle between changes.
    (quick) => ({ kind: "closed", publishers: 16, seconds: quick ? 3 : 10 }),
  ),
  // Issue 16: the floor. One publisher that sends the next change once the last is acknowledged
  // (the classic fan-out test): no batching of concurrent writes hides the cost per delivery.
  fanOutScenario(
    "one-pub-sse-1k",
    "One-publisher ceiling: SSE, 1,000 viewers, publish → answer → publish for 10 s",
    "sse",
    1_000,
    ["scoreline", "scoreline-memory", "bare", "nchan", "naive"],
    (quick) => ({ kind: "closed", publishers: 1, seconds: quick ? 3 : 10 }),
  ),
  fanOutScenario(
    "one-pub-ws-1k",
    "WebSocket, 1,000 viewers, one publisher: 200 changes (200,000 deliveries)",
    "ws",
    1_000,
    // :memory: too: on SQLite each change's commit and fsync is CPU the floor does not spend.
    ["scoreline", "scoreline-memory", "bare", "nchan"],
    (quick) => ({ kind: "closed", publishers: 1, seconds: 30, count: quick ? 30 : 200 }),
  ),
  fanOutScenario(
    "long-poll-10hz-1k",
    "Long polling, 1,000 viewers, 10 changes a second for 10 s",
    "lp",
    1_000,
    ["scoreline", "bare", "nchan"],
    (quick) => ({ kind: "rate", perSecond: 10, seconds: quick ? 3 : 10 }),
  ),
  connectScenario("connect-sse-10k", "10,000 SSE viewers connect at once", "sse", [
    "scoreline",
    "bare",
    "nchan",
    "naive",
  ]),
  connectScenario("connect-ws-10k", "10,000 WebSocket viewers connect at once", "ws", [
    "scoreline",
    "bare",
    "nchan",
  ]),
  connectScenario("connect-lp-10k", "10,000 long polls connect at once, then wait", "lp", [
    "scoreline",
    "bare",
    "nchan",
  ]),
  {
    name: "writes-sqlite-16",
    title: "Acknowledged durable writes, SQLite store, 16 concurrent writers",
    peers: ["scoreline"],
    notCompared: "the peers do not make writes durable: no like-for-like figure",
    store: "sqlite",
    run: (ctx, server) => writes(ctx, server, 16, ctx.quick ? 3 : 10),
  },
  {
    name: "kiosk",
    title: "Kiosk page GET /games/{id}, with and without 304",
    peers: ["scoreline"],
    notCompared: "the peers render no HTML pages",
    store: "sqlite",
    run: (ctx, server) => pages(ctx, server, "kiosk", `/games/${GAME_ID}`, ctx.quick ? 3 : 10),
  },
  {
    name: "short-poll",
    title: "Short polling GET /api/games/{id}, with and without 304",
    peers: ["scoreline"],
    notCompared: "the peers have no short-poll read of a game",
    store: "sqlite",
    run: (ctx, server) =>
      pages(ctx, server, "short-poll", `/api/games/${GAME_ID}`, ctx.quick ? 3 : 10),
  },
  {
    name: "storm-sse-10k",
    title: "Reconnect storm: 10,000 SSE viewers drop at once and resume with their cursors",
    peers: ["scoreline", "bare", "nchan", "naive"],
    notCompared: "",
    store: "sqlite",
    run: (ctx, server) => storm(ctx, server, viewers(10_000, ctx.quick)),
  },
];

/**
 * Connect time and memory per viewer: 10,000 viewers of one transport connect at once (a long
 * poll is then waiting for the next change when memory is read), then one change must reach all.
 */
function connectScenario(
  name: string,
  title: string,
  transport: ViewerTransport,
  peers: readonly PeerName[],
): Scenario {
  return fanOutScenario(name, title, transport, 10_000, peers, () => ({
    kind: "rate",
    perSecond: 1,
    seconds: 1,
  }));
}

interface Connected {
  pool: LoadPool;
  row: Row;
}

/** Seeds the game, measures RSS, connects the viewers and measures again. */
async function connect(
  ctx: RunContext,
  server: ServerUnderTest,
  scenario: string,
  transport: ViewerTransport,
  count: number,
): Promise<Connected> {
  const feed = server.feeds[transport];
  if (!feed) throw new Skipped(`${server.peer} has no ${transport} feed`);
  await server.publisher.seed();
  await delay(200);
  const rssBeforeKiB = rssKiB(server.pid());
  const pool = LoadPool.start(ctx.procs);
  const generator = new CpuMeter(() => [Deno.pid, ...pool.pids()]);
  const phase = `${scenario}-connect`;
  const recording = await server.record?.(phase);
  const serverCpu = new CpuMeter(() => [server.pid()]);
  let replies: OpenReply[];
  try {
    replies = await pool.open(
      {
        transport,
        port: server.port,
        path: feed.path,
        resume: feed.resume,
      },
      count,
      CONNECT_DEADLINE_MS,
    );
  } catch (error) {
    await pool.stop();
    throw error;
  } finally {
    await recording?.();
  }
  const generatorCpuConnect = generator.read();
  const connectCpuSeconds = serverCpu.seconds();
  const connected = replies.reduce((n, r) => n + r.synced, 0);
  server.recordedWork?.(phase, { count: connected, unit: "connect" });
  const startedAt = Math.min(...replies.map((r) => r.startedAt));
  const allSynced = replies.every((r) => r.allSyncedAt > 0);
  await delay(500); // let the server settle what connecting allocated before measuring it
  const rssAfterKiB = rssKiB(server.pid());
  const row: Row = {
    scenario,
    peer: server.peer,
    status: "ok",
    viewers: count,
    connected,
    connectSeconds: allSynced
      ? round((Math.max(...replies.map((r) => r.allSyncedAt)) - startedAt) / 1000, 3)
      : undefined,
    rssBeforeKiB,
    rssAfterKiB,
    kibPerViewer: connected > 0 ? round((rssAfterKiB - rssBeforeKiB) / connected, 1) : undefined,
    connectCpuUs: connected > 0 ? round(connectCpuSeconds * 1e6 / connected, 1) : undefined,
    generatorCpuConnect,
  };
  if (connected < count) row.note = `only ${connected} of ${count} viewers connected within 30 s`;
  return { pool, row };
}

interface PublishOutcome {
  published: [number, number][];
  errors: number;
  seconds: number;
  /** Each acknowledged write's round trip, ms. */
  roundTrip: Histogram;
}

async function publish(server: ServerUnderTest, publishing: Publishing): Promise<PublishOutcome> {
  const published: [number, number][] = [];
  const roundTrip = new Histogram();
  let errors = 0;
  const started = performance.now();
  const once = async () => {
    const sentAt = wallNow();
    try {
      published.push([await server.publisher.publish(), sentAt]);
      roundTrip.add(wallNow() - sentAt);
    } catch {
      errors++;
      await delay(10);
    }
  };
  if (publishing.kind === "rate") {
    const interval = 1000 / publishing.perSecond;
    const total = Math.round(publishing.perSecond * publishing.seconds);
    for (let i = 0; i < total; i++) {
      const wait = started + i * interval - performance.now();
      if (wait > 0) await delay(wait);
      await once();
    }
  } else {
    const end = started + publishing.seconds * 1000;
    const count = publishing.count ?? Infinity;
    let sent = 0;
    await Promise.all(
      Array.from({ length: publishing.publishers }, async () => {
        while (performance.now() < end && sent < count) {
          sent++;
          await once();
        }
      }),
    );
  }
  return { published, errors, seconds: (performance.now() - started) / 1000, roundTrip };
}

/** Merges what the load processes saw into the row. */
function gather(row: Row, replies: FinishReply[], published: [number, number][]): void {
  const histogram = new Histogram();
  for (const reply of replies) histogram.merge(reply.histogram);
  row.latency = histogram.summary();
  row.deliveries = replies.reduce((n, r) => n + r.deliveries, 0);
  const firstSent = Math.min(...published.map(([, at]) => at));
  const lastDelivery = Math.max(...replies.map((r) => r.lastDeliveryAt));
  row.deliveriesPerSecond = row.deliveries > 0 && lastDelivery > firstSent
    ? Math.round(row.deliveries / ((lastDelivery - firstSent) / 1000))
    : 0;
  row.missing = replies.reduce((n, r) => n + r.missing, 0);
  row.duplicates = replies.reduce((n, r) => n + r.duplicates, 0);
  row.reordered = replies.reduce((n, r) => n + r.reordered, 0);
  row.atLatest = replies.reduce((n, r) => n + r.atLatest, 0);
  const failures: Record<string, number> = {};
  for (const reply of replies) {
    for (const [what, n] of Object.entries(reply.failures)) {
      failures[what] = (failures[what] ?? 0) + n;
    }
  }
  if (Object.keys(failures).length > 0) row.failures = failures;
  const examples = replies.flatMap((r) => r.examples).slice(0, 5);
  if (examples.length > 0) row.examples = examples;
}

async function fanOut(
  ctx: RunContext,
  server: ServerUnderTest,
  scenario: string,
  options: { transport: ViewerTransport; viewers: number; publishing: Publishing },
): Promise<Row> {
  const { pool, row } = await connect(ctx, server, scenario, options.transport, options.viewers);
  try {
    const phase = `${scenario}-deliver`;
    const recording = await server.record?.(phase);
    const serverCpu = new CpuMeter(() => [server.pid()]);
    const generator = new CpuMeter(() => [Deno.pid, ...pool.pids()]);
    let publishing: Awaited<ReturnType<typeof publish>>;
    try {
      publishing = await publish(server, options.publishing);
      await pool.awaitVersion(Math.max(...publishing.published.map(([v]) => v)), DRAIN_DEADLINE_MS);
    } finally {
      await recording?.();
    }
    const { published, errors, seconds, roundTrip } = publishing;
    row.serverCpu = serverCpu.read();
    row.serverCpuSeconds = serverCpu.seconds();
    row.generatorCpu = generator.read();
    row.published = published.length;
    row.publishPerSecond = Math.round(published.length / seconds);
    row.writeLatency = roundTrip.summary();
    gather(row, await pool.finish(published), published);
    server.recordedWork?.(phase, { count: row.deliveries ?? 0, unit: "delivery" });
    if (row.deliveries) {
      row.cpuPerDeliveryUs = round(row.serverCpuSeconds * 1e6 / row.deliveries, 2);
    }
    if (errors > 0) row.note = [row.note, `${errors} publishes failed`].filter(Boolean).join("; ");
    return row;
  } finally {
    await pool.stop();
  }
}

/**
 * The reconnect storm: viewers connect, see two changes, then every socket closes at once; one
 * more change is committed while they are away; all reconnect together with their cursors
 * (SSE Last-Event-ID). The figure is the time from the reconnect until each has that change.
 */
async function storm(ctx: RunContext, server: ServerUnderTest, count: number): Promise<Row> {
  const { pool, row } = await connect(ctx, server, "storm-sse-10k", "sse", count);
  try {
    const before = await publish(server, { kind: "rate", perSecond: 5, seconds: 0.4 });
    await pool.awaitVersion(Math.max(...before.published.map(([v]) => v)), DRAIN_DEADLINE_MS);
    const serverCpu = new CpuMeter(() => [server.pid()]);
    const generator = new CpuMeter(() => [Deno.pid, ...pool.pids()]);
    await pool.drop();
    const sentAt = wallNow();
    const last = await server.publisher.publish();
    const published = [...before.published, [last, sentAt] as [number, number]];
    const reconnectAt = wallNow();
    const replies = await pool.reconnect(last, CONNECT_DEADLINE_MS);
    row.serverCpu = serverCpu.read();
    row.generatorCpu = generator.read();
    const reached = replies.reduce((n, r) => n + r.reached, 0);
    if (replies.every((r) => r.allAt > 0)) {
      row.resumeSeconds = round((Math.max(...replies.map((r) => r.allAt)) - reconnectAt) / 1000, 3);
    } else {
      row.note = `only ${reached} of ${count} viewers had the latest state after 30 s`;
    }
    row.published = published.length;
    gather(row, await pool.finish(published), published);
    return row;
  } finally {
    await pool.stop();
  }
}

/** Acknowledged writes per second: `writers` clients writing back to back, nothing else. */
async function writes(
  _ctx: RunContext,
  server: ServerUnderTest,
  writers: number,
  seconds: number,
): Promise<Row> {
  await server.publisher.seed();
  const histogram = new Histogram();
  let acknowledged = 0;
  let errors = 0;
  const serverCpu = new CpuMeter(() => [server.pid()]);
  const generator = new CpuMeter(() => [Deno.pid]);
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(Array.from({ length: writers }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      try {
        await server.publisher.publish();
        histogram.add(performance.now() - t);
        acknowledged++;
      } catch {
        errors++;
        await delay(10);
      }
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  return {
    scenario: "writes-sqlite-16",
    peer: server.peer,
    status: "ok",
    writesPerSecond: Math.round(acknowledged / elapsed),
    writeLatency: histogram.summary(),
    serverCpu: serverCpu.read(),
    generatorCpu: generator.read(),
    note: errors > 0 ? `${errors} writes failed` : undefined,
  };
}

/**
 * Requests per second with wrk for one read route: plain GETs, then GETs with the ETag in
 * If-None-Match (304). The ETag is read again just before the 304 run: a kiosk page's ETag moves
 * on every minute (its "as of" stamp), so one read before the plain run may be stale by then.
 * Skips with a clear message when the route answers 404 for a game that exists.
 */
async function pages(
  ctx: RunContext,
  server: ServerUnderTest,
  scenario: string,
  path: string,
  seconds: number,
): Promise<Row> {
  const row: Row = { scenario, peer: server.peer, status: "ok" };
  const wrk = which("wrk");
  if (!wrk) throw new Skipped("wrk is not installed (apt-get install wrk)");
  await server.publisher.seed();
  const url = `http://127.0.0.1:${server.port}${path}`;
  const page = await fetch(url);
  await page.body?.cancel();
  if (page.status === 404) {
    throw new Skipped(`GET ${path} answers 404 for a game that exists: the route is not there yet`);
  }
  if (page.status !== 200) throw new Error(`GET ${path} answered ${page.status}`);
  const serverCpu = new CpuMeter(() => [server.pid()]);
  const plain = await runWrk(wrk, ctx, url, seconds, []);
  row.serverCpu = serverCpu.read();
  row.requestsPerSecond = plain.rps;
  row.requestLatencyP99 = plain.p99;
  const fresh = await fetch(url);
  await fresh.body?.cancel();
  const etag = fresh.headers.get("etag");
  if (etag) {
    const check = await fetch(url, { headers: { "if-none-match": etag } });
    await check.body?.cancel();
    if (check.status !== 304) row.note = `If-None-Match answered ${check.status}, not 304`;
    const cached = await runWrk(wrk, ctx, url, seconds, ["-H", `If-None-Match: ${etag}`]);
    row.requestsPerSecond304 = cached.rps;
    row.requestLatencyP99304 = cached.p99;
  } else {
    row.note = "the route sends no ETag: no 304 figure";
  }
  return row;
}

async function runWrk(
  wrk: string,
  ctx: RunContext,
  url: string,
  seconds: number,
  extra: string[],
): Promise<{ rps: number; p99: number }> {
  const args = ["-t1", "-c32", `-d${seconds}s`, "--latency", ...extra, url];
  const argv = ctx.loadCpu === null
    ? [wrk, ...args]
    : ["taskset", "-c", String(ctx.loadCpu), wrk, ...args];
  const { stdout, success } = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  if (!success) throw new Error(`wrk failed:\n${text}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(text);
  const scale = { us: 0.001, ms: 1, s: 1000 } as const;
  return {
    rps: Math.round(rps),
    p99: p99 ? round(Number(p99[1]) * scale[p99[2] as keyof typeof scale], 2) : NaN,
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
