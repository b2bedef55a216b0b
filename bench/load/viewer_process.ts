/**
 * One load process: holds a share of the viewers over raw TCP sockets on epoll (no fetch, no
 * WebSocket class, no promise per read: a viewer here must be much cheaper than one in the
 * server), records the arrival time of every message version, and answers the coordinator's
 * commands, one JSON line each way on stdin/stdout. The process is one synchronous event loop
 * around epoll_wait (stdin included, timers of its own): no promise, no op per read. Times are
 * absolute (performance.timeOrigin + now), so the coordinator's publish times and these arrival
 * times share one clock. Every wait is bounded by a deadline it is given.
 */
import { analyse, Records } from "./records.ts";
import { type Timer, Timers } from "./timers.ts";
import { Epoll, EPOLLERR, EPOLLHUP, EPOLLOUT, FAILED, WOULD_BLOCK } from "./epoll.ts";
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

const ORIGIN = performance.timeOrigin;
const MAX_ATTEMPTS = 40;
const encoder = new TextEncoder();
const epoll = new Epoll();
/** Every socket reads into this one buffer: parsing is synchronous, and copies what it keeps. */
const received = new Uint8Array(256 * 1024);
/** The viewer behind each file descriptor. */
const byFd: (Viewer | undefined)[] = [];

/** Arrival time of the bytes being parsed: one clock read per socket read. */
let now = 0;

const records = new Records();
const failures: Record<string, number> = {};
const fail = (what: string) => (failures[what] = (failures[what] ?? 0) + 1);

/** A viewer waits on this for "every viewer has at least version V". */
let target: { version: number; reached: number; total: number; done: (at: number) => void } | null =
  null;

type BodyReader = (b: Uint8Array, s: number, e: number) => void;

/**
 * One viewer: a socket driven by the epoll loop below. It connects, sends its request, parses
 * what arrives, and when the server ends the stream it reconnects (resuming, as EventSource
 * would), a bounded number of times, unless it was dropped on purpose.
 */
class Viewer {
  fd = -1;
  connecting = false;
  attempts = 0;
  retry: Timer | undefined;
  /** Request bytes the socket has not taken yet. */
  out: Uint8Array | null = null;
  head = new HeadReader();
  body: BodyReader | null = null;
  poll: PollBody | null = null;
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

  start(): void {
    this.retry = undefined;
    if (this.dropped) return;
    if (this.attempts++ >= MAX_ATTEMPTS) {
      fail("gave up");
      return;
    }
    const fd = epoll.connect(this.spec.port);
    if (fd < 0) {
      fail(`connect errno ${-fd}`);
      this.retry = timers.after(100 + Math.random() * 200, () => this.start());
      return;
    }
    this.fd = fd;
    byFd[fd] = this;
    this.connecting = true;
    this.head.reset();
    this.body = null;
    this.poll = this.spec.transport === "lp" ? new PollBody(this) : null;
  }

  /** The socket is ready: finish connecting, send what is queued, read what arrived. */
  ready(flags: number): void {
    if (this.connecting) {
      const error = epoll.socketError(this.fd);
      if (error !== 0) return this.ended(`connect errno ${error}`);
      this.connecting = false;
      this.send(this.request());
      return;
    }
    if ((flags & EPOLLOUT) && this.out) this.send(this.out);
    if (this.fd < 0) return;
    const n = epoll.recv(this.fd, received);
    if (n === WOULD_BLOCK) {
      if (flags & (EPOLLERR | EPOLLHUP)) this.ended("socket error");
      return;
    }
    if (n === FAILED) return this.ended("read error");
    if (n === 0) return this.ended("server closed");
    now = ORIGIN + performance.now();
    const outcome = this.data(received, n);
    if (outcome !== null) this.ended(outcome);
  }

  send(bytes: Uint8Array): void {
    const n = epoll.send(this.fd, bytes);
    if (n === FAILED) return this.ended("write error");
    this.out = n < bytes.length ? bytes.subarray(n) : null;
    epoll.watch(this.fd, this.out !== null);
  }

  /** Parses one read; returns why the connection must end, or null. */
  data(buf: Uint8Array, n: number): string | null {
    if (this.body) {
      this.body(buf, 0, n);
      return null;
    }
    let from: Uint8Array = buf;
    let at = 0;
    let to = n;
    if (!this.poll?.active) {
      at = this.head.push(buf, 0, n);
      if (at < 0) return null;
      const { status, headers } = this.head.head!;
      const ok = this.spec.transport === "ws" ? status === 101 : status === 200 ||
        (this.poll !== null && (status === 204 || status === 304 || status === 408));
      if (!ok) return `status ${status}`;
      from = this.head.buffer;
      to = from === buf ? n : from.length;
      if (!this.poll) {
        this.body = this.bodyReader(headers);
        this.body(from, at, to);
        return null;
      }
      this.poll.start(status, headers);
    }
    if (this.poll!.push(from, at, to)) {
      if (this.poll!.malformed) return "bad long-poll body";
      this.head.reset();
      this.send(this.request());
    }
    return null;
  }

  bodyReader(headers: Map<string, string>): BodyReader {
    const onMessage = (b: Uint8Array, s: number, e: number) => {
      if (this.spec.transport === "sse") {
        const id = sseId(b, s, e);
        if (id !== null) this.lastId = id;
      }
      eachVersion(b, s, e, (v) => this.record(v));
    };
    if (this.spec.transport === "ws") {
      const ws = new WsReader(onMessage, (payload) => this.send(clientFrame(0xa, payload)));
      return (b, s, e) => ws.push(b, s, e);
    }
    const delimiter = encoder.encode(this.spec.transport === "sse" ? "\n\n" : "\n");
    const framer = new Framer(delimiter, onMessage);
    if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
      const chunked = new ChunkedDecoder((b, s, e) => framer.push(b, s, e));
      return (b, s, e) => chunked.push(b, s, e);
    }
    return (b, s, e) => framer.push(b, s, e);
  }

  /** The connection is over: close it and, unless dropped on purpose, come back. */
  ended(reason: string): void {
    this.close();
    if (this.dropped) return;
    fail(reason);
    // A refused feed (429/503) says Retry-After; a viewer here retries sooner, bounded.
    this.retry = timers.after(reason.startsWith("status") ? 250 : 50, () => this.start());
  }

  close(): void {
    if (this.fd >= 0) {
      byFd[this.fd] = undefined;
      epoll.close(this.fd);
      this.fd = -1;
    }
    this.out = null;
    this.connecting = false;
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
const timers = new Timers();

/** A command whose answer waits for viewers: answered when `check` has one, or at its deadline. */
interface Pending {
  id: number;
  deadline: number;
  check: () => unknown | null;
  late: () => unknown;
}

let pending: Pending[] = [];

function open(id: number, spec: ViewerSpec, count: number, deadlineMs: number): void {
  const startedAt = ORIGIN + performance.now();
  let synced = 0;
  let allSyncedAt = 0;
  const base = viewers.length;
  for (let i = 0; i < count; i++) {
    const viewer = new Viewer(base + i, spec);
    viewer.onSynced = () => {
      viewer.onSynced = null;
      if (++synced === count) allSyncedAt = now;
    };
    viewers.push(viewer);
  }
  for (const viewer of viewers.slice(base)) viewer.start();
  const reply = (): OpenReply => ({ synced, startedAt, allSyncedAt, failures: { ...failures } });
  pending.push({
    id,
    deadline: performance.now() + deadlineMs,
    check: () => (synced === count ? reply() : null),
    late: reply,
  });
}

function awaitVersion(id: number, version: number, deadlineMs: number): void {
  let allAt = 0;
  const reached = viewers.filter((v) => v.max >= version).length;
  if (reached === viewers.length) allAt = ORIGIN + performance.now();
  else target = { version, reached, total: viewers.length, done: (at) => (allAt = at) };
  const reply = (): AwaitReply => {
    const answer = { reached: target?.reached ?? reached, allAt };
    target = null;
    return answer;
  };
  pending.push({
    id,
    deadline: performance.now() + deadlineMs,
    check: () => (allAt > 0 ? reply() : null),
    late: reply,
  });
}

/** Closes every socket at once, as a proxy restart or a network blip would. */
function drop(): { dropped: number } {
  for (const viewer of viewers) {
    viewer.dropped = true;
    if (viewer.retry) viewer.retry.cancelled = true;
    viewer.close();
  }
  return { dropped: viewers.length };
}

function reconnect(id: number, version: number, deadlineMs: number): void {
  for (const viewer of viewers) {
    viewer.dropped = false;
    viewer.attempts = 0;
  }
  awaitVersion(id, version, deadlineMs);
  for (const viewer of viewers) viewer.start();
}

function reply(id: number, value: unknown, error?: unknown): void {
  const line = error === undefined
    ? { id, ok: true, value }
    : { id, ok: false, error: String((error as Error)?.stack ?? error) };
  const bytes = encoder.encode(JSON.stringify(line) + "\n");
  for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
}

/** Runs one command: answers at once, or leaves a Pending the loop answers later. */
function handle(command: Command): void {
  switch (command.op) {
    case "open":
      return open(command.id, command.spec, command.count, command.deadlineMs);
    case "await":
      return awaitVersion(command.id, command.version, command.deadlineMs);
    case "drop":
      return reply(command.id, drop());
    case "reconnect":
      return reconnect(command.id, command.version, command.deadlineMs);
    case "finish":
      return reply(command.id, analyse(records, viewers, command.published, failures));
    case "exit":
      drop();
      reply(command.id, {});
      Deno.exit(0);
  }
}

const STDIN = 0;

function main(): void {
  const input = new Uint8Array(1 << 20);
  const decoder = new TextDecoder();
  let buffer = "";
  epoll.watchInput(STDIN);
  while (true) {
    const n = epoll.wait(Math.min(50, Math.ceil(timers.next())));
    for (let i = 0; i < n; i++) {
      const fd = epoll.fd(i);
      if (fd !== STDIN) {
        byFd[fd]?.ready(epoll.flags(i));
        continue;
      }
      const got = Deno.stdin.readSync(input);
      // The coordinator is gone (stdin closed): do not linger holding sockets.
      if (got === null || got === 0) Deno.exit(0);
      buffer += decoder.decode(input.subarray(0, got), { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const command = JSON.parse(buffer.slice(0, nl)) as Command;
        buffer = buffer.slice(nl + 1);
        try {
          handle(command);
        } catch (error) {
          reply(command.id, null, error);
        }
      }
    }
    timers.runDue();
    if (pending.length > 0) {
      const t = performance.now();
      pending = pending.filter((p) => {
        const value = p.check() ?? (t >= p.deadline ? p.late() : null);
        if (value === null) return true;
        reply(p.id, value);
        return false;
      });
    }
  }
}

if (import.meta.main) main();
