/**
 * Read-only WebSocket: one text frame per message. What a client sends is ignored, up to a small
 * budget: more than 4 KiB or 16 messages in all, or 16 frames in a burst (empty ones and pongs
 * count: they cost the event loop as much as any), and the socket is closed with 1008 at once, so
 * the socket cannot be used to make the server read without end. `bufferedAmount` is the socket's
 * queue for the hub.
 */
import type { Scope } from "../core/scope.ts";
import type { Message, Ping } from "../core/messages.ts";
import type { CloseReason, Sink, Subscription } from "../core/stream_subscribers.ts";
import { cursor, deltaFlag } from "../http/params.ts";
import { viewersParam } from "../http/scope_params.ts";
import { HttpProblem } from "../http/problem.ts";
import type { FeedContext, FeedRequest } from "./feed_context.ts";

/** Bytes a client may send in total before the socket is closed. */
export const WS_MAX_RECEIVED = 4 * 1024;
/** Messages a client may send in total, however small, and frames in a burst (WS_BURST_MS). */
export const WS_MAX_FRAMES = 16;
/** Frames of any kind (pongs too) closer together than this count toward WS_MAX_FRAMES. */
export const WS_BURST_MS = 100;
/** Bytes buffered for one socket before the hub starts holding back (and conflating). */
export const WS_HIGH_WATER = 64 * 1024;
/** Bytes sent between two readings of `bufferedAmount` at most. */
export const WS_CHECK_EVERY = 16 * 1024;

/**
 * The method Deno's server WebSocket calls for every frame it reads from the client and hands to
 * JavaScript, pongs included, and once as the socket opens (it restarts the idle timer:
 * ext/websocket/01_websocket.js and ext/http/02_websocket.ts in Deno 2.9.6). A pong never reaches
 * `onmessage`, so this is the one place a flood of them can be counted.
 * The symbol is Deno's own, found by its description; should a release rename it, pongs go
 * uncounted again and `tests/abuse_test.ts` says so.
 */
const FRAME_READ = Object.getOwnPropertySymbols(WebSocket.prototype)
  .find((symbol) => symbol.description === "[[serverHandleIdleTimeout]]");

/** The clock of every socket's budget: one function, not one per socket. */
const now = () => performance.now();

/** Where a socket keeps its sink for `countedFrameRead`, which every socket shares. */
const SINK = Symbol("the socket's sink");

type CountedSocket = WebSocket & { [SINK]?: WsSink } & Record<symbol, unknown>;

/**
 * FRAME_READ's method on the feed's sockets: counts the frame, then does what Deno does. One
 * function for all, finding the budget through the socket: no closure per viewer.
 */
function countedFrameRead(this: CountedSocket): void {
  this[SINK]?.frameRead();
  denoFrameRead!.call(this);
}

/** Deno's own method, which `countedFrameRead` goes on to. */
const denoFrameRead = FRAME_READ
  ? (WebSocket.prototype as unknown as Record<symbol, (this: WebSocket) => void>)[FRAME_READ]
  : undefined;

/** 1012 (service restart) on a reset: the client should reconnect with its cursor at once. */
const CLOSE_CODES = { shutdown: 1001, slow: 1013, error: 1011, reset: 1012 } as const;

export function wsFeed(feed: FeedContext, request: FeedRequest, scope: Scope): Response {
  const since = cursor(request.query("since"), "since");
  const viewers = viewersParam(request.query("viewers"));
  const delta = deltaFlag(request.query("delta"));
  if (request.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new HttpProblem("upgrade-required", "this route speaks WebSocket only", {
      headers: { upgrade: "websocket" },
    });
  }
  const slot = feed.acquireSocket(request);
  let upgraded: { socket: WebSocket; response: Response };
  try {
    upgraded = Deno.upgradeWebSocket(request.raw, { idleTimeout: feed.wsIdleTimeoutSeconds });
  } catch (error) {
    slot.release();
    throw new HttpProblem(
      "validation",
      `not a valid WebSocket handshake: ${String(error).slice(0, 120)}`,
    );
  }
  const { socket, response } = upgraded;
  // A Blob would be one more copy of a frame Deno has already buffered whole (up to 64 MiB).
  socket.binaryType = "arraybuffer";
  let subscription: Subscription | undefined;
  const sink = new WsSink(socket, new ReadBudget(now));
  if (FRAME_READ) {
    const counted = socket as CountedSocket;
    counted[SINK] = sink;
    counted[FRAME_READ] = countedFrameRead;
  }
  socket.onopen = () => {
    subscription = feed.hub.subscribe(scope, since, sink, { delta, viewers });
  };
  socket.onmessage = (event) => sink.messageRead(event.data);
  socket.onclose = () => {
    // Writes Deno could not deliver when the socket closed (a reader that stopped reading) keep
    // the connection open after this event, and Deno says nothing when it is finally gone: the
    // slot is held a while longer so that one address cannot pile up such sockets (SECURITY.md).
    slot.closed(sink.unsent > 0);
    subscription?.cancel();
    // Deno 2.9.6 keeps a closed server socket alive until its idle timer runs out (up to
    // SCORELINE_WS_IDLE_TIMEOUT): let go of the handlers, so what it keeps is its own ~3 KiB and not
    // this request, its context and the subscription too. A reconnect storm costs that much less.
    subscription = undefined;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
  };
  socket.onerror = () => {}; // a close event follows; logging every dropped phone is noise
  for (const name in request.headers) response.headers.set(name, request.headers[name]!);
  return response;
}

/**
 * What a client may send on a read-only socket. Messages (text, binary) count in total: more than
 * WS_MAX_FRAMES of them, or more than WS_MAX_RECEIVED bytes, is over. Every frame Deno reads, pongs
 * included, counts as well when it comes within WS_BURST_MS of the one before: a flood of
 * unsolicited pongs is over within milliseconds, while pongs that answer Deno's pings (sent only
 * after half the idle timeout without a frame, 0.5 s at the least) or a client's own heartbeat
 * never add up, however long the socket lives.
 */
export class ReadBudget {
  #messages = 0;
  #bytes = 0;
  #burst = 0;
  #lastRead: number | undefined;

  constructor(private readonly now: () => number) {}

  /** Deno read a frame of any kind (or opened the socket: its first call): false once over. */
  read(): boolean {
    const now = this.now();
    const soon = this.#lastRead !== undefined && now - this.#lastRead < WS_BURST_MS;
    this.#lastRead = now;
    return !soon || ++this.#burst <= WS_MAX_FRAMES;
  }

  /** A text or binary message arrived: false once over. */
  message(data: unknown): boolean {
    this.#bytes += byteLength(data, WS_MAX_RECEIVED - this.#bytes);
    return ++this.#messages <= WS_MAX_FRAMES && this.#bytes <= WS_MAX_RECEIVED;
  }
}

/**
 * A socket's end of the hub. A class rather than closures: the hub's loop calls the same two
 * methods of the same shape for every viewer, the cheapest call V8 has.
 */
class WsSink implements Sink {
  readonly transport = "ws";
  /**
   * Bytes Deno still had to write when last seen: readable only while the socket is open, so it
   * is noted each time the hub asks, and when the socket is closed from here.
   */
  unsent = 0;
  /**
   * Bytes known to fit under WS_HIGH_WATER since `bufferedAmount` was last read (an op into Rust
   * each time): as for a stream's `desiredSize`, the buffer only drains between readings, so the
   * hub is told what a reading would say. A string counts 3 bytes per UTF-16 unit (its UTF-8 size
   * at most). A reading at least every WS_CHECK_EVERY bytes sent keeps `unsent` fresh enough for
   * the close: a reader that stopped reading fills its socket's kernel buffer (hundreds of KiB)
   * before Deno buffers anything, and the hub's own close for slowness reads it afresh.
   */
  #credit = 0;

  constructor(private readonly socket: WebSocket, private readonly budget: ReadBudget) {}

  /** Deno read a frame from the client (any kind; see FRAME_READ). */
  frameRead(): void {
    if (!this.budget.read()) this.#refuse();
  }

  /** A text or binary message arrived. */
  messageRead(data: unknown): void {
    if (!this.budget.message(data)) this.#refuse();
  }

  /** Over budget: the next frame after the close makes Deno drop the socket without reading on. */
  #refuse(): void {
    this.#closeWith(1008, "this socket is read-only");
  }

  send(message: Message): void {
    this.#credit -= 3 * message.json.length;
    this.socket.send(message.json);
  }

  ping(ping: Ping): void {
    this.#credit -= 3 * ping.json.length;
    this.socket.send(ping.json);
  }

  writable(): boolean {
    if (this.#credit > 0) return true;
    if (this.socket.readyState !== WebSocket.OPEN) return false;
    this.unsent = this.socket.bufferedAmount;
    this.#credit = Math.min(WS_HIGH_WATER - this.unsent, WS_CHECK_EVERY);
    return this.unsent < WS_HIGH_WATER;
  }

  close(reason: CloseReason): void {
    this.#closeWith(CLOSE_CODES[reason], `feed closed: ${reason}`);
  }

  #closeWith(code: number, reason: string): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.unsent = this.socket.bufferedAmount;
    this.socket.close(code, reason);
  }
}

/**
 * The UTF-8 size of a message, counted exactly only up to `budget`: a text message has at least
 * as many bytes as UTF-16 units, so a long one is over budget without being encoded.
 */
function byteLength(data: unknown, budget: number): number {
  if (typeof data === "string") {
    return data.length > budget ? data.length : new TextEncoder().encode(data).byteLength;
  }
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return 0;
}
