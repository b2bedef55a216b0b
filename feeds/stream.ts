/**
 * The plumbing SSE and NDJSON share: a ReadableStream whose queue is bounded in bytes, written
 * by the hub. Hono's streamSSE is not used: it ends when its callback returns, swallows write
 * errors, waits on slow clients and sets hop-by-hop headers that HTTP/2 forbids.
 */
import type { Hub } from "../core/hub.ts";
import type {
  CloseReason,
  Sink,
  StreamTransport,
  Subscription,
} from "../core/stream_subscribers.ts";
import type { Message, Ping } from "../core/messages.ts";
import type { Scope } from "../core/scope.ts";

/**
 * How a feed aborts a stream on purpose (a stuck client, or shutdown). Deno reports a stream's
 * error to `Deno.serve`'s onError, which recognises this one and stays quiet about it.
 */
export class FeedClosed extends Error {
  constructor(readonly reason: string) {
    super(`feed closed: ${reason}`);
    this.name = "FeedClosed";
  }
}

/** Bytes queued for one client before the hub starts holding back (and conflating). */
export const STREAM_HIGH_WATER = 64 * 1024;
/**
 * One strategy for every stream: a stream reads its size function and high-water mark once, as it
 * is made, and the strategy holds nothing else, so a new one per viewer was only a WebIDL
 * conversion and an object for each connect.
 */
const STREAM_STRATEGY = new ByteLengthQueuingStrategy({ highWaterMark: STREAM_HIGH_WATER });

/** Headers every stream sends: no caching, no transforms, no proxy buffering, no hop-by-hop. */
export function streamHeaders(
  contentType: string,
  common?: Readonly<Record<string, string>>,
): Record<string, string> {
  return {
    "content-type": contentType,
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
    ...common,
  };
}

/**
 * HEAD on a stream route: the headers a GET would get, and no subscription. Deno neither reads nor
 * cancels the body of a response to HEAD, so a stream opened for one would keep its feed slot and
 * its subscription long after the client left: a few thousand HEAD requests, even over a single
 * connection, would use up SCORELINE_MAX_FEEDS and shut every viewer out.
 */
export function headResponse(
  contentType: string,
  common?: Readonly<Record<string, string>>,
): Response {
  return new Response(null, { headers: streamHeaders(contentType, common) });
}

export interface StreamFeed {
  hub: Hub;
  transport: Exclude<StreamTransport, "ws">;
  scope: Scope;
  cursor: number | null;
  /** `?viewers=1`: viewer counts too. */
  viewers: boolean;
  /** `?delta=1`: patches where the client holds the game's previous version. */
  delta: boolean;
  /** Bytes sent before anything else (SSE's retry line). */
  prelude?: Uint8Array;
  contentType: string;
  /**
   * Called once the stream ends, however it ends. Where Deno can say when the connection is done
   * with the response, the capacity slot is held until then instead (feed_context.ts).
   */
  release: () => void;
  /** The headers every answer carries (FeedRequest.headers). */
  headers?: Readonly<Record<string, string>>;
}

/**
 * Bytes a stream is sent between two readings of its queue's room at most. Reading
 * `desiredSize` is a WebIDL getter per delivery; between readings the room can only have grown
 * (Deno drains the queue, only this sink fills it), so what was read minus what was sent since is
 * a bound the hub may trust, and `writable()` answers exactly as a reading would.
 */
export const STREAM_CHECK_EVERY = 16 * 1024;

/**
 * A stream's end of the hub. A class rather than closures: the hub's loop calls the same two
 * methods of the same shape for every viewer, the cheapest call V8 has.
 */
class StreamSink implements Sink {
  /** Bytes known to fit: the room last read (at most STREAM_CHECK_EVERY), less what was sent. */
  #credit = 0;
  /**
   * What is written while the stream opens (the retry line, the catch-up, the opening ping),
   * enqueued as one chunk once it has opened: one write into Deno's stream bridge, not three.
   */
  #opening: Uint8Array[] | undefined;

  constructor(
    readonly transport: Exclude<StreamTransport, "ws">,
    private readonly controller: ReadableStreamDefaultController<Uint8Array>,
    /** Once per stream, however it ends: false when it had already ended. */
    private readonly end: () => boolean,
    prelude: Uint8Array | undefined,
  ) {
    this.#opening = prelude ? [prelude] : [];
  }

  // The format is a compare of a field that never changes (the bytes are the message's, encoded
  // once for every viewer), not a class per format: two near-copies for one branch.
  send(message: Message): void {
    this.#write(this.transport === "sse" ? message.sse : message.ndjson);
  }

  ping(ping: Ping): void {
    this.#write(this.transport === "sse" ? ping.sse : ping.ndjson);
  }

  /** The stream has opened: what was written meanwhile goes, in one chunk; the rest as it comes. */
  opened(): void {
    const opening = this.#opening;
    if (opening === undefined) return;
    this.#opening = undefined;
    if (opening.length === 1) this.controller.enqueue(opening[0]!);
    else if (opening.length > 1) {
      const chunk = new Uint8Array(opening.reduce((sum, bytes) => sum + bytes.byteLength, 0));
      let at = 0;
      for (const bytes of opening) {
        chunk.set(bytes, at);
        at += bytes.byteLength;
      }
      this.controller.enqueue(chunk);
    }
  }

  #write(bytes: Uint8Array): void {
    this.#credit -= bytes.byteLength;
    if (this.#opening !== undefined) this.#opening.push(bytes);
    else this.controller.enqueue(bytes);
  }

  writable(): boolean {
    if (this.#credit > 0) return true;
    const room = this.controller.desiredSize ?? 0;
    this.#credit = Math.min(room, STREAM_CHECK_EVERY);
    return room > 0;
  }

  close(reason: CloseReason): void {
    if (!this.end()) return;
    // On shutdown (or a reset) a stream that keeps up is ended cleanly after its queued bytes
    // (a stream refused at shutdown still gets its retry line, so browsers come back spread out).
    // Any other is aborted: a stuck client would never drain a graceful close, and the server's
    // shutdown would wait on it.
    const graceful = reason === "shutdown" || reason === "reset";
    if (graceful) this.opened();
    else this.#opening = undefined;
    if (graceful && (this.controller.desiredSize ?? 0) > 0) this.controller.close();
    else this.controller.error(new FeedClosed(reason));
  }
}

export function streamResponse(feed: StreamFeed): Response {
  const { hub, transport } = feed;
  let subscription: Subscription | undefined;
  let ended = false;
  const end = () => {
    if (ended) return false;
    ended = true;
    feed.release();
    return true;
  };
  // No `pull`: Deno's streams would call it through WebIDL after every enqueue and every read of
  // the bridge to the socket. A subscriber held back is retried on the hub's tick instead, as a
  // WebSocket is (it has no drain event either).
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const sink = new StreamSink(transport, controller, end, feed.prelude);
      subscription = hub.subscribe(feed.scope, feed.cursor, sink, {
        delta: feed.delta,
        viewers: feed.viewers,
      });
      sink.opened();
    },
    cancel() {
      // The client left (Deno cancels the body); request.signal would not tell us that.
      end();
      subscription?.cancel();
    },
  }, STREAM_STRATEGY);
  return new Response(body, { headers: streamHeaders(feed.contentType, feed.headers) });
}
