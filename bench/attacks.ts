/**
 * What one hostile reader can do to the real main.ts, measured: each attack runs against a fresh
 * child process (memory store) from this machine's loopback and prints the figures SECURITY.md
 * quotes. Benchmarks measure; tests assert behaviour (tests/abuse_test.ts, churn_test.ts).
 *
 *   deno run -A bench/attacks.ts ws-empty      [--seconds 8] [--binary] [--nginx]
 *   deno run -A bench/attacks.ts ws-pong       [--seconds 8]
 *   deno run -A bench/attacks.ts ws-ping       [--seconds 8] [--no-read]
 *   deno run -A bench/attacks.ts ws-large      [--sockets 1] [--mib 63]
 *   deno run -A bench/attacks.ts stall-reopen  [--rounds 3] [--feeds 200] [--transport sse|ws] [--poke]
 *                                              [--nginx]
 *   deno run -A bench/attacks.ts kiosk-refresh [--seconds 7] [--games 300]
 *   deno run -A bench/attacks.ts tz-offsets
 *   deno run -A bench/attacks.ts feed-loop     [--seconds 5]
 *   deno run -A bench/attacks.ts crowd         [--viewers 1000]
 *
 * `--env NAME=VALUE` (repeatable) passes configuration to the service under attack.
 */
import { parseArgs } from "node:util";
import { startNginx } from "../tests/support/nginx.ts";
import { type Child, spawnMain } from "../tests/support/process.ts";
import { openRawFeed, writeAll } from "../tests/support/raw_http.ts";
import {
  closeCode,
  emptyFrames as frames,
  maskedHeader,
  openRawWs,
} from "../tests/support/raw_ws.ts";
import { cpuSeconds, delay, rssKiB } from "./proc.ts";

const TOKEN = "attack-bench-token-0001";

interface Target {
  /** Where the attack goes (nginx in front, with --nginx). */
  url: string;
  port: number;
  /** The service itself, for probes and /metrics. */
  direct: string;
  child: Child;
  pid: number;
  stop(): Promise<void>;
}

async function start(env: Record<string, string>, nginx = false): Promise<Target> {
  const child = await spawnMain({
    SCORELINE_DATA: ":memory:",
    SCORELINE_TOKENS: TOKEN,
    SCORELINE_WRITE_RATE: "0",
    ...env,
  });
  const pid = child.process.pid;
  const stopChild = async () => {
    child.kill("SIGTERM");
    await child.exited;
  };
  if (!nginx) {
    return {
      url: child.url,
      port: Number(new URL(child.url).port),
      direct: child.url,
      child,
      pid,
      stop: stopChild,
    };
  }
  const front = await startNginx(new URL(child.url).host);
  return {
    url: front.url,
    port: front.port,
    direct: child.url,
    child,
    pid,
    async stop() {
      await front.stop();
      await stopChild();
    },
  };
}

async function put(base: string, id: string, game: unknown): Promise<number> {
  const response = await fetch(`${base}/api/games/${id}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(game),
  });
  await response.body?.cancel();
  return response.status;
}

/** The largest game the contract allows, so that every update costs its most. */
function bigGame(n: number) {
  return {
    title: `Match ${n} `.padEnd(120, "x"),
    status: "live",
    period: "p".repeat(32),
    clock: String(n % 10_000).padStart(16, "0"),
    home: { name: "h".repeat(64), score: n % 1000, detail: "d".repeat(32) },
    away: { name: "a".repeat(64), score: 0, detail: "d".repeat(32) },
  };
}

/** Latencies of one kind of request, sent one after another every `everyMs` until stopped. */
class Probe {
  readonly samples: number[] = [];
  #running = true;
  readonly done: Promise<void>;

  constructor(send: (i: number) => Promise<unknown>, everyMs: number) {
    this.done = (async () => {
      for (let i = 0; this.#running; i++) {
        const t0 = performance.now();
        await send(i);
        this.samples.push(performance.now() - t0);
        await delay(everyMs);
      }
    })();
  }

  async stop(): Promise<string> {
    this.#running = false;
    await this.done;
    const s = this.samples;
    const f = (ms: number) => `${ms.toFixed(1)} ms`;
    return `n=${s.length} p50 ${f(percentile(s, 50))} p99 ${f(percentile(s, 99))} max ${
      f(Math.max(...s))
    }`;
  }
}

/** A scorer writing one goal after another, and a monitor asking /healthz, on the service. */
function probes(direct: string): { write: Probe; health: Probe } {
  return {
    write: new Probe((i) => put(direct, "probe", { ...bigGame(i), title: "Probe" }), 20),
    health: new Probe(async () => {
      const r = await fetch(`${direct}/healthz`);
      await r.body?.cancel();
    }, 20),
  };
}

/** Peak RSS of the service, sampled every 50 ms until stopped. */
function rssPeak(pid: number): { stop(): number } {
  let peak = rssKiB(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssKiB(pid));
    } catch { /* gone */ }
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** The p-th percentile of samples (nearest rank). */
function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

function openFds(pid: number): number {
  let n = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
  return n;
}

async function metric(direct: string, name: string): Promise<number> {
  const text = await (await fetch(`${direct}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(" ").pop()) : NaN;
}

// --- the attacks ---------------------------------------------------------------------------

/** The control-frame floods, by opcode: what Deno reads without the app's `onmessage`. */
const CONTROL_ATTACKS: Record<number, string> = { 0x9: "ws-ping", 0xa: "ws-pong" };

/**
 * 17.1: one client sending empty frames (or pings, or unsolicited pongs) as fast as it can on a
 * WebSocket, and opening another as soon as one is closed, for the whole time: a scorer writes and
 * a monitor asks /healthz meanwhile.
 */
async function emptyFrames(
  opts: { seconds: number; opcode: number; nginx: boolean; read?: boolean },
  env: Record<string, string>,
) {
  const target = await start(env, opts.nginx);
  try {
    await put(target.direct, "probe", bigGame(0));
    // The same probes for as long without the attack first: the machine's own noise.
    const { write, health } = probes(target.direct);
    await delay(opts.seconds * 1000);
    const baseline = [await write.stop(), await health.stop()];
    const during = probes(target.direct);
    const batch = frames(opts.opcode, 10_000);
    let sent = 0;
    const handshakes: number[] = [];
    const codes: number[] = [];
    const lifetimes: number[] = [];
    const until = performance.now() + opts.seconds * 1000;
    while (performance.now() < until) {
      const { conn, status, rest } = await openRawWs(target.port, "/api/ws");
      handshakes.push(status);
      if (status !== 101) {
        conn.close();
        continue;
      }
      let closed = false;
      const t0 = performance.now();
      const ended = (code: number) => {
        closed = true;
        lifetimes.push(performance.now() - t0);
        return code;
      };
      // `--no-read`: the client never reads what the server sends (for pings, their answers), so
      // the only sign of the socket's end is a write that fails (-1).
      let writeFailed = (_: number) => {};
      const code = opts.read === false
        ? new Promise<number>((resolve) => (writeFailed = (c) => resolve(ended(c))))
        : closeCode(conn, rest).then(ended);
      while (performance.now() < until && !closed) {
        try {
          // A client that does not read can be held in its writes by the server's backpressure:
          // the attack's end, not the write, decides then.
          const wrote = await Promise.race([
            writeAll(conn, batch).then(() => true),
            delay(Math.max(0, until - performance.now())).then(() => false),
          ]);
          if (!wrote) break;
          sent += 10_000;
        } catch {
          writeFailed(-1);
          break;
        }
      }
      codes.push((await Promise.race([code, delay(2000).then(() => null)])) ?? 0);
      try {
        conn.close();
      } catch { /* closed */ }
    }
    const results = [await during.write.stop(), await during.health.stop()];
    console.log(
      JSON.stringify({
        attack: CONTROL_ATTACKS[opts.opcode] ?? "ws-empty",
        opcode: opts.opcode,
        nginx: opts.nginx,
        seconds: opts.seconds,
        framesWrittenByClient: sent,
        handshakes: countBy(handshakes),
        closeCodes: countBy(codes),
        socketLifetimeMsMax: lifetimes.length ? Math.round(Math.max(...lifetimes)) : null,
      }),
    );
    console.log(`without the flood: write ${baseline[0]}; /healthz ${baseline[1]}`);
    console.log(`during the flood: write ${results[0]}; /healthz ${results[1]}`);
  } finally {
    await target.stop();
  }
}

/** 17.2: sockets each sending one large binary frame at full speed. */
async function largeFrames(opts: { sockets: number; mib: number }, env: Record<string, string>) {
  const target = await start(env);
  try {
    const idle = rssKiB(target.pid);
    const peak = rssPeak(target.pid);
    const health = new Probe(async () => {
      const r = await fetch(`${target.direct}/healthz`);
      await r.body?.cancel();
    }, 20);
    const length = opts.mib * 1024 * 1024;
    const chunk = new Uint8Array(1024 * 1024);
    const statuses: number[] = [];
    const outcomes = await Promise.all(Array.from({ length: opts.sockets }, async () => {
      const { conn, status, rest } = await openRawWs(target.port, "/api/ws");
      statuses.push(status);
      if (status !== 101) {
        conn.close();
        return { code: status, ms: 0 };
      }
      const closed = closeCode(conn, rest);
      const t0 = performance.now();
      try {
        await writeAll(conn, maskedHeader(2, length));
        for (let sent = 0; sent < length; sent += chunk.length) await writeAll(conn, chunk);
      } catch { /* refused on the way */ }
      const sentAt = performance.now();
      const code = await Promise.race([closed, delay(15_000).then(() => null)]);
      try {
        conn.close();
      } catch { /* closed */ }
      return { code, ms: Math.round(performance.now() - sentAt), upload: sentAt - t0 };
    }));
    await delay(500);
    const after = rssKiB(target.pid);
    console.log(JSON.stringify({
      attack: "ws-large",
      sockets: opts.sockets,
      mib: opts.mib,
      handshakes: countBy(statuses),
      closeCodes: countBy(outcomes.map((o) => o.code ?? "none")),
      closeAfterUploadMs: Math.max(...outcomes.map((o) => o.ms)),
    }));
    console.log(
      `RSS idle ${mib(idle)}, peak ${mib(peak.stop())}, 0.5 s after ${mib(after)}; ` +
        `/healthz during: ${await health.stop()}`,
    );
  } finally {
    await target.stop();
  }
}

function countBy<T>(values: T[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}

/**
 * 17.3: one address opens feeds, never reads them, waits for the hub to close them as too slow
 * (30 s), then opens as many again: what the service holds after each round.
 */
async function stallReopen(
  opts: { rounds: number; feeds: number; transport: string; poke: boolean; nginx: boolean },
  env: Record<string, string>,
) {
  const target = await start(
    { SCORELINE_FEEDS_PER_CLIENT: String(opts.feeds), ...env },
    opts.nginx,
  );
  const held: Deno.TcpConn[] = [];
  try {
    const idle = { rss: rssKiB(target.pid), fds: openFds(target.pid) };
    console.log(`idle: RSS ${mib(idle.rss)}, ${idle.fds} open descriptors`);
    const open = () =>
      opts.transport === "ws"
        ? openRawWs(target.port, "/api/ws")
        : openRawFeed(target.port, "/api/events");
    let game = 0;
    for (let round = 1; round <= opts.rounds; round++) {
      const statuses: number[] = [];
      for (let i = 0; i < opts.feeds; i++) {
        // The answer's head is read, then nothing more: a reader that stopped.
        const { conn, status } = await open();
        statuses.push(status);
        if (status === 200 || status === 101) held.push(conn);
        else conn.close();
      }
      const slowBefore = await metric(target.direct, "scoreline_slow_readers_closed_total");
      const fresh = statuses.filter((s) => s === 200 || s === 101).length;
      // Fill every feed opened this round: updates of one big game (so one held update per stuck
      // feed), until the hub holds one back for each of them.
      for (let i = 0; i < 5000 && fresh > 0; i++) {
        await Promise.all(
          Array.from({ length: 10 }, () => put(target.direct, "big", bigGame(game++))),
        );
        if (i % 20 === 19 && (await metric(target.direct, "scoreline_held_updates")) >= fresh) {
          break;
        }
      }
      // The hub closes a feed stuck for 30 s.
      const t0 = performance.now();
      let slow = slowBefore;
      while (slow - slowBefore < fresh && performance.now() - t0 < 90_000) {
        await delay(1000);
        slow = await metric(target.direct, "scoreline_slow_readers_closed_total");
      }
      if (opts.poke) {
        // Once the service has given up on them, each stalled socket sends one empty frame: Deno
        // then reports the socket closed, although its writes are still stuck on the connection.
        const frame = maskedHeader(1, 0);
        await Promise.all(held.map((conn) => writeAll(conn, frame).catch(() => {})));
      }
      await delay(1000);
      console.log(
        `round ${round}: opened ${JSON.stringify(countBy(statuses))}, closed as slow ${
          slow - slowBefore
        }; service: RSS ${mib(rssKiB(target.pid))}, ${
          openFds(target.pid)
        } open descriptors, ${await metric(
          target.direct,
          "scoreline_subscribers",
        )} subscribers (sse)`,
      );
    }
    // The same address afterwards: is it still held to its cap?
  } finally {
    for (const conn of held) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await target.stop();
  }
}

/** 17.4: many games on the board, and one client cycling `?refresh=` as fast as it can. */
async function kioskRefresh(opts: { seconds: number; games: number }, env: Record<string, string>) {
  const target = await start(env);
  try {
    for (let i = 0; i < opts.games; i += 20) {
      await Promise.all(
        Array.from(
          { length: Math.min(20, opts.games - i) },
          (_, k) => put(target.direct, `board-${i + k}`, bigGame(i + k)),
        ),
      );
    }
    const page = await fetch(`${target.direct}/`);
    const size = (await page.arrayBuffer()).byteLength;
    const idle = rssKiB(target.pid);
    const peak = rssPeak(target.pid);
    const { write, health } = probes(target.direct);
    const cpu0 = cpuSeconds(target.pid);
    const until = performance.now() + opts.seconds * 1000;
    let pages = 0;
    let refresh = 1;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (performance.now() < until) {
        const r = await fetch(`${target.url}/?refresh=${refresh++ % 3600 + 1}`);
        await r.body?.cancel();
        pages++;
      }
    }));
    console.log(
      JSON.stringify({
        attack: "kiosk-refresh",
        games: opts.games,
        pageBytes: size,
        pages,
        serverCpuMsPerPage: +((cpuSeconds(target.pid) - cpu0) * 1000 / pages).toFixed(3),
      }),
    );
    console.log(
      `RSS idle ${mib(idle)}, peak ${mib(peak.stop())}; write ${await write
        .stop()}; /healthz ${await health
        .stop()}`,
    );
  } finally {
    await target.stop();
  }
}

/** 17.4: every numeric offset Intl accepts as `?tz=`, once each. */
async function tzOffsets(env: Record<string, string>) {
  const target = await start(env);
  try {
    await put(target.direct, "g", bigGame(1));
    const zones: string[] = [];
    for (const sign of ["+", "-"]) {
      for (let h = 0; h < 24; h++) {
        const hh = String(h).padStart(2, "0");
        zones.push(`${sign}${hh}`);
        for (let m = 0; m < 60; m++) zones.push(`${sign}${hh}${String(m).padStart(2, "0")}`);
      }
    }
    const idle = rssKiB(target.pid);
    const statuses: number[] = [];
    const after: string[] = [];
    const t0 = performance.now();
    // Three passes: memory that is kept per zone grows with each; a bounded cache does not.
    for (let pass = 0; pass < 3; pass++) {
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < zones.length) {
          const r = await fetch(`${target.url}/games/g?tz=${encodeURIComponent(zones[next++]!)}`);
          statuses.push(r.status);
          await r.body?.cancel();
        }
      }));
      after.push(`${mib(rssKiB(target.pid))} after pass ${pass + 1}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      JSON.stringify({ attack: "tz-offsets", zones: zones.length, statuses: countBy(statuses) }),
    );
    console.log(`RSS ${mib(idle)} idle; ${after.join(", ")} (${seconds.toFixed(1)} s)`);
  } finally {
    await target.stop();
  }
}

/** 15.3: one address opening feeds (and dropping them) in a loop. */
async function feedLoop(opts: { seconds: number }, env: Record<string, string>) {
  const target = await start(env);
  try {
    const statuses: number[] = [];
    const until = performance.now() + opts.seconds * 1000;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (performance.now() < until) {
        const { conn, status } = await openRawFeed(target.port, "/api/events");
        statuses.push(status);
        conn.close();
      }
    }));
    const other = await fetch(`${target.direct}/api/games`);
    await other.body?.cancel();
    console.log(JSON.stringify({
      attack: "feed-loop",
      seconds: opts.seconds,
      answers: countBy(statuses),
      feedsPerSecond: Math.round(statuses.filter((s) => s === 200).length / opts.seconds),
    }));
  } finally {
    await target.stop();
  }
}

/**
 * 15.3: a crowd behind one address (stadium Wi-Fi) opening their feeds together, each retrying
 * after Retry-After when refused: how long until every one of them holds a feed.
 */
async function crowd(opts: { viewers: number }, env: Record<string, string>) {
  const target = await start(env);
  const conns: Deno.TcpConn[] = [];
  try {
    const t0 = performance.now();
    const refusals: number[] = [];
    await Promise.all(Array.from({ length: opts.viewers }, async () => {
      for (;;) {
        const { conn, status, head } = await openRawFeed(target.port, "/api/events");
        if (status === 200) {
          conns.push(conn);
          return;
        }
        refusals.push(status);
        conn.close();
        const retry = Number(/retry-after: *(\d+)/i.exec(head)?.[1] ?? 1);
        await delay(retry * 1000 * (0.5 + Math.random()));
        if (performance.now() - t0 > 120_000) return;
      }
    }));
    console.log(JSON.stringify({
      attack: "crowd",
      viewers: opts.viewers,
      served: conns.length,
      refusals: countBy(refusals),
      allServedAfterMs: Math.round(performance.now() - t0),
    }));
  } finally {
    for (const conn of conns) conn.close();
    await target.stop();
  }
}

if (import.meta.main) {
  const { positionals, values } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      seconds: { type: "string" },
      binary: { type: "boolean", default: false },
      nginx: { type: "boolean", default: false },
      sockets: { type: "string", default: "1" },
      mib: { type: "string", default: "63" },
      rounds: { type: "string", default: "3" },
      feeds: { type: "string", default: "200" },
      transport: { type: "string", default: "sse" },
      poke: { type: "boolean", default: false },
      "no-read": { type: "boolean", default: false },
      games: { type: "string", default: "300" },
      viewers: { type: "string", default: "1000" },
      env: { type: "string", multiple: true, default: [] },
    },
  });
  const env = Object.fromEntries(values.env.map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
  const seconds = (d: number) => Number(values.seconds ?? d);
  switch (positionals[0]) {
    case "ws-empty":
      await emptyFrames(
        { seconds: seconds(8), opcode: values.binary ? 2 : 1, nginx: values.nginx },
        env,
      );
      break;
    case "ws-pong":
      await emptyFrames({ seconds: seconds(8), opcode: 0xa, nginx: values.nginx }, env);
      break;
    case "ws-ping":
      await emptyFrames(
        { seconds: seconds(8), opcode: 0x9, nginx: values.nginx, read: !values["no-read"] },
        env,
      );
      break;
    case "ws-large":
      await largeFrames({ sockets: Number(values.sockets), mib: Number(values.mib) }, env);
      break;
    case "stall-reopen":
      await stallReopen(
        {
          rounds: Number(values.rounds),
          feeds: Number(values.feeds),
          transport: values.transport,
          poke: values.poke,
          nginx: values.nginx,
        },
        env,
      );
      break;
    case "kiosk-refresh":
      await kioskRefresh({ seconds: seconds(7), games: Number(values.games) }, env);
      break;
    case "tz-offsets":
      await tzOffsets(env);
      break;
    case "feed-loop":
      await feedLoop({ seconds: seconds(5) }, env);
      break;
    case "crowd":
      await crowd({ viewers: Number(values.viewers) }, env);
      break;
    default:
      console.error("usage: see the comment at the top of bench/attacks.ts");
      Deno.exit(2);
  }
}
