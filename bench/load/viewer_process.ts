/**
 * One load process: holds a share of the viewers over raw TCP (no fetch, no WebSocket class: a
 * viewer here must be much cheaper than one in the server), records the arrival time of every
 * message version, and answers the coordinator's commands, one JSON line each way on
 * stdin/stdout. Times are absolute (performance.timeOrigin + now), so the coordinator's publish
 * times and these arrival times share one clock. Every wait is bounded by a deadline it is given.
 */
import { Histogram, type HistogramData } from "../stats.ts";
import {
  ChunkedDecoder,
  clientFrame,
  eachVersion,
  Framer,
  HeadReader,
  sseId,
  WsReader,
} from "./wire.ts";

export type ViewerTransport = "sse" | "ndjson" | "ws" | "lp";

/** How a viewer follows and resumes: by SSE id, by `?since=`, or by Nchan's ETag headers. */
export type ResumeStyle = "last-event-id" | "since" | "nchan-etag" | "none";

export interface ViewerSpec {
  transport: ViewerTransport;
  port: number;
  /** Path and query of the feed (without the resume part). */
  path: string;
  resume: ResumeStyle;
  /** Read buffer per viewer: small for 10,000 viewers, larger where throughput matters. */
  bufferBytes: number;
}

export type Command =
  | { op: "open"; id: number; spec: ViewerSpec; count: number; deadlineMs: number }
  | { op: "await"; id: number; version: number; deadlineMs: number }
  | { op: "drop"; id: number }
  | { op: "reconnect"; id: number; version: number; deadlineMs: number }
  | { op: "finish"; id: number; published: [number, number][] }
  | { op: "exit"; id: number };

export interface OpenReply {
  synced: number;
  startedAt: number;
  /** When the last of this process's viewers got its first message (0 if not all did). */
  allSyncedAt: number;
  failures: Record<string, number>;
}

export interface AwaitReply {
  reached: number;
  /** When the last viewer reached the version (0 if not all did in time). */
  allAt: number;
}

export interface FinishReply {
  viewers: number;
  histogram: HistogramData;
  deliveries: number;
  firstDeliveryAt: number;
  lastDeliveryAt: number;
  /** Published versions a viewer should have seen after its first message and never did. */
  missing: number;
  /** Versions received more than once by the same viewer. */
  duplicates: number;
  /** Versions that arrived after a higher one on the same viewer. */
  reordered: number;
  /** Viewers whose highest version is the last one published. */
  atLatest: number;
  /** Viewers that got more than one message of one version, or missed some (first 5, for a look). */
  examples: string[];
  failures: Record<string, number>;
}

const ORIGIN = performance.timeOrigin;
const MAX_ATTEMPTS = 40;
const encoder = new TextEncoder();

/** Arrival time of the bytes being parsed: one clock read per socket read. */
let now = 0;

class Records {
  viewer = new Uint32Array(1 << 16);
  version = new Float64Array(1 << 16);
  time = new Float64Array(1 << 16);
  length = 0;

  add(viewer: number, version: number, time: number): void {
    if (this.length === this.viewer.length) this.#grow();
    this.viewer[this.length] = viewer;
    this.version[this.length] = version;
    this.time[this.length] = time;
    this.length++;
  }

  #grow(): void {
    const size = this.viewer.length * 2;
    const viewer = new Uint32Array(size);
    viewer.set(this.viewer);
    const version = new Float64Array(size);
    version.set(this.version);
    const time = new Float64Array(size);
    time.set(this.time);
    this.viewer = viewer;
    this.version = version;
    this.time = time;
  }
}

const records = new Records();
const failures: Record<string, number> = {};
const fail = (what: string) => (failures[what] = (failures[what] ?? 0) + 1);

/** A viewer waits on this for "every viewer has at least version V". */
let target: { version: number; reached: number; total: number; done: (at: number) => void } | null =
  null;

class Viewer {
  conn: Deno.Conn | null = null;
  first = -1;
  max = -1;
  lastId: string | null = null;
  /** Long polling: the next `since`, or Nchan's Last-Modified / ETag. */
  cursor = -1;
  lastModified: string | null = null;
  etag: string | null = null;
  dropped = false;
  onSynced: (() => void) | null = null;

  constructor(readonly index: number, readonly spec: ViewerSpec) {}

  record(version: number): void {
    records.add(this.index, version, now);
    if (this.first < 0) {
      this.first = version;
      this.onSynced?.();
    }
    if (version > this.max) {
      if (target && this.max < target.version && version >= target.version) {
        if (++target.reached === target.total) target.done(now);
      }
      this.max = version;
    }
  }

  request(): Uint8Array {
    const { transport, path, resume } = this.spec;
    let target = path;
    const lines = ["Host: 127.0.0.1"];
    const sep = path.includes("?") ? "&" : "?";
    if (resume === "since" && this.max >= 0) target += `${sep}since=${this.cursorOrMax()}`;
    if (resume === "last-event-id" && this.lastId !== null) {
      lines.push(`Last-Event-ID: ${this.lastId}`);
    }
    if (resume === "nchan-etag" && this.lastModified !== null) {
      lines.push(`If-Modified-Since: ${this.lastModified}`);
      if (this.etag !== null) lines.push(`If-None-Match: ${this.etag}`);
    }
    if (transport === "sse") lines.push("Accept: text/event-stream");
    if (transport === "ws") {
      lines.push(
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: c2NvcmVsaW5lLWJlbmNoIQ==",
        "Sec-WebSocket-Version: 13",
      );
    }
    return encoder.encode(`GET ${target} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
  }

  cursorOrMax(): number {
    return this.cursor >= 0 ? this.cursor : this.max;
  }

  /** Connects, reads until the stream ends, and reconnects (resuming) unless dropped on purpose. */
  async run(): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS && !this.dropped; attempt++) {
      let conn: Deno.Conn;
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port: this.spec.port });
      } catch (error) {
        fail(`connect: ${(error as Error).name}`);
        await delay(100 + Math.random() * 200);
        continue;
      }
      if (this.dropped) {
        conn.close();
        return;
      }
      this.conn = conn;
      let outcome: string;
      try {
        await writeAll(conn, this.request());
        outcome = await this.read(conn);
      } catch (error) {
        outcome = this.dropped ? "dropped" : `read: ${(error as Error).name}`;
      }
      this.conn = null;
      try {
        conn.close();
      } catch { /* already closed */ }
      if (this.dropped) return;
      fail(outcome);
      // A refused feed (429/503) says Retry-After; a viewer here retries sooner, bounded.
      await delay(outcome.startsWith("status") ? 250 : 50);
    }
    if (!this.dropped) fail("gave up");
  }

  async read(conn: Deno.Conn): Promise<string> {
    const buf = new Uint8Array(this.spec.bufferBytes);
    const head = new HeadReader();
    let body: ((b: Uint8Array, s: number, e: number) => void) | null = null;
    const poll = this.spec.transport === "lp" ? new PollBody(this) : null;
    while (true) {
      const n = await conn.read(buf);
      if (n === null) return this.dropped ? "dropped" : "server closed";
      now = ORIGIN + performance.now();
      if (body) {
        body(buf, 0, n);
        continue;
      }
      let from: Uint8Array = buf;
      let at = 0;
      let to = n;
      if (!poll?.active) {
        at = head.push(buf, 0, n);
        if (at < 0) continue;
        const { status, headers } = head.head!;
        const ok = this.spec.transport === "ws" ? status === 101 : status === 200 ||
          (poll !== null && (status === 204 || status === 304 || status === 408));
        if (!ok) return `status ${status}`;
        from = head.buffer;
        to = from === buf ? n : from.length;
        if (!poll) {
          body = this.bodyReader(headers, conn);
          body(from, at, to);
          continue;
        }
        poll.start(status, headers);
      }
      if (poll!.push(from, at, to)) {
        if (poll!.malformed) return "bad long-poll body";
        head.reset();
        await writeAll(conn, this.request());
      }
    }
  }

  bodyReader(
    headers: Map<string, string>,
    conn: Deno.Conn,
  ): (b: Uint8Array, s: number, e: number) => void {
    const onMessage = (b: Uint8Array, s: number, e: number) => {
      if (this.spec.transport === "sse") {
        const id = sseId(b, s, e);
        if (id !== null) this.lastId = id;
      }
      eachVersion(b, s, e, (v) => this.record(v));
    };
    if (this.spec.transport === "ws") {
      const ws = new WsReader(onMessage, (payload) => {
        conn.write(clientFrame(0xa, payload)).catch(() => {});
      });
      return (b, s, e) => ws.push(b, s, e);
    }
    const framer = new Framer(
      encoder.encode(this.spec.transport === "sse" ? "\n\n" : "\n"),
      onMessage,
    );
    if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
      const chunked = new ChunkedDecoder((b, s, e) => framer.push(b, s, e));
      return (b, s, e) => chunked.push(b, s, e);
    }
    return (b, s, e) => framer.push(b, s, e);
  }
}

/**
 * One long-poll answer at a time: its body (sized or chunked) is collected, its versions
 * recorded, and the cursor for the next request taken from it (Scoreline's `cursor`, or Nchan's
 * Last-Modified and ETag headers).
 */
class PollBody {
  #parts: Uint8Array[] = [];
  #size = 0;
  #left = 0;
  #chunked: ChunkedDecoder | null = null;
  malformed = false;
  /** True between an answer's head and the end of its body. */
  active = false;

  constructor(readonly viewer: Viewer) {}

  start(status: number, headers: Map<string, string>): void {
    this.#parts = [];
    this.#size = 0;
    this.malformed = false;
    this.active = true;
    if (this.viewer.spec.resume === "nchan-etag" && status === 200) {
      this.viewer.lastModified = headers.get("last-modified") ?? this.viewer.lastModified;
      this.viewer.etag = headers.get("etag") ?? this.viewer.etag;
    }
    const chunked = headers.get("transfer-encoding")?.toLowerCase().includes("chunked");
    this.#chunked = chunked ? new ChunkedDecoder((b, s, e) => this.#collect(b, s, e)) : null;
    this.#left = chunked ? 0 : Number(headers.get("content-length") ?? 0);
  }

  /** Takes body bytes; true once the answer is complete (and handled). */
  push(buf: Uint8Array, start: number, end: number): boolean {
    if (this.#chunked) {
      this.#chunked.push(buf, start, end);
      if (!this.#chunked.ended) return false;
    } else {
      const take = Math.min(this.#left, end - start);
      if (take > 0) this.#collect(buf, start, start + take);
      this.#left -= take;
      if (this.#left > 0) return false;
    }
    this.active = false;
    this.#finish();
    return true;
  }

  #collect(buf: Uint8Array, start: number, end: number): void {
    this.#parts.push(buf.slice(start, end));
    this.#size += end - start;
  }

  #finish(): void {
    if (this.#size === 0) return;
    const body = new Uint8Array(this.#size);
    let at = 0;
    for (const part of this.#parts) {
      body.set(part, at);
      at += part.length;
    }
    let highest = -1;
    eachVersion(body, 0, body.length, (v) => {
      this.viewer.record(v);
      highest = Math.max(highest, v);
    });
    if (highest < 0) this.malformed = true;
    else if (this.viewer.spec.resume === "since") this.viewer.cursor = highest;
  }
}

const viewers: Viewer[] = [];
let running: Promise<void>[] = [];

async function open(spec: ViewerSpec, count: number, deadlineMs: number): Promise<OpenReply> {
  const startedAt = ORIGIN + performance.now();
  let synced = 0;
  let allSyncedAt = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const base = viewers.length;
  for (let i = 0; i < count; i++) {
    const viewer = new Viewer(base + i, spec);
    viewer.onSynced = () => {
      viewer.onSynced = null;
      if (++synced === count) {
        allSyncedAt = now;
        resolveAll();
      }
    };
    viewers.push(viewer);
  }
  running = running.concat(viewers.slice(base).map((v) => v.run()));
  await Promise.race([all, delay(deadlineMs)]);
  return { synced, startedAt, allSyncedAt, failures: { ...failures } };
}

async function awaitVersion(version: number, deadlineMs: number): Promise<AwaitReply> {
  let reached = viewers.filter((v) => v.max >= version).length;
  if (reached === viewers.length) return { reached, allAt: ORIGIN + performance.now() };
  let allAt = 0;
  const done = new Promise<void>((resolve) => {
    target = { version, reached, total: viewers.length, done: (at) => (allAt = at, resolve()) };
  });
  await Promise.race([done, delay(deadlineMs)]);
  reached = target?.reached ?? reached;
  target = null;
  return { reached, allAt };
}

/** Closes every socket at once, as a proxy restart or a network blip would. */
async function drop(): Promise<{ dropped: number }> {
  for (const viewer of viewers) {
    viewer.dropped = true;
    try {
      viewer.conn?.close();
    } catch { /* already closed */ }
  }
  await Promise.allSettled(running);
  running = [];
  return { dropped: viewers.length };
}

async function reconnect(version: number, deadlineMs: number): Promise<AwaitReply> {
  for (const viewer of viewers) viewer.dropped = false;
  const waiting = awaitVersion(version, deadlineMs);
  running = viewers.map((v) => v.run());
  return await waiting;
}

function finish(published: [number, number][]): FinishReply {
  const sent = new Map(published);
  const versions = published.map(([v]) => v).sort((a, b) => a - b);
  const latest = versions[versions.length - 1] ?? -1;
  const histogram = new Histogram();
  // Group the records by viewer (a counting sort keeps it linear).
  const n = viewers.length;
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < records.length; i++) offsets[records.viewer[i]! + 1]!++;
  for (let v = 0; v < n; v++) offsets[v + 1]! += offsets[v]!;
  const order = new Uint32Array(records.length);
  const fill = offsets.slice(0, n);
  for (let i = 0; i < records.length; i++) order[fill[records.viewer[i]!]!++] = i;

  let deliveries = 0;
  let firstDeliveryAt = Infinity;
  let lastDeliveryAt = 0;
  let missing = 0;
  let duplicates = 0;
  let reordered = 0;
  let atLatest = 0;
  const examples: string[] = [];
  for (let v = 0; v < n; v++) {
    const viewer = viewers[v]!;
    const seen = new Set<number>();
    let previous = -1;
    let got = 0;
    for (let k = offsets[v]!; k < offsets[v + 1]!; k++) {
      const i = order[k]!;
      const version = records.version[i]!;
      if (version < previous) reordered++;
      previous = Math.max(previous, version);
      if (seen.has(version)) {
        duplicates++;
        if (examples.length < 5) examples.push(`viewer ${v}: version ${version} twice`);
        continue;
      }
      seen.add(version);
      const at = sent.get(version);
      if (at === undefined || version <= viewer.first) continue;
      got++;
      deliveries++;
      const t = records.time[i]!;
      histogram.add(t - at);
      if (t < firstDeliveryAt) firstDeliveryAt = t;
      if (t > lastDeliveryAt) lastDeliveryAt = t;
    }
    const expected = versions.length - upperBound(versions, viewer.first);
    if (viewer.first >= 0 && got < expected) {
      missing += expected - got;
      if (examples.length < 5) {
        examples.push(`viewer ${v}: ${expected - got} of ${expected} missing`);
      }
    }
    if (viewer.max >= latest) atLatest++;
  }
  return {
    viewers: n,
    histogram: histogram.toJSON(),
    deliveries,
    firstDeliveryAt: deliveries ? firstDeliveryAt : 0,
    lastDeliveryAt,
    missing,
    duplicates,
    reordered,
    atLatest,
    examples,
    failures: { ...failures },
  };
}

/** How many sorted values are <= x. */
function upperBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function handle(command: Command): Promise<unknown> {
  switch (command.op) {
    case "open":
      return await open(command.spec, command.count, command.deadlineMs);
    case "await":
      return await awaitVersion(command.version, command.deadlineMs);
    case "drop":
      return await drop();
    case "reconnect":
      return await reconnect(command.version, command.deadlineMs);
    case "finish":
      return finish(command.published);
    case "exit":
      await drop();
      return {};
  }
}

async function main(): Promise<void> {
  const out = Deno.stdout.writable.getWriter();
  let buffer = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const command = JSON.parse(buffer.slice(0, nl)) as Command;
      buffer = buffer.slice(nl + 1);
      let reply: unknown;
      try {
        reply = { id: command.id, ok: true, value: await handle(command) };
      } catch (error) {
        reply = { id: command.id, ok: false, error: String((error as Error)?.stack ?? error) };
      }
      await out.write(encoder.encode(JSON.stringify(reply) + "\n"));
      if (command.op === "exit") {
        await out.close();
        Deno.exit(0);
      }
    }
  }
  // The coordinator is gone (stdin closed): do not linger holding sockets.
  Deno.exit(0);
}

if (import.meta.main) await main();
