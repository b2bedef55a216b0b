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

/**
 * Bytes queued for one client before the hub starts holding back (and conflating): at most this,
 * plus the one message that crossed it. The stream itself counts chunks (the default strategy,
 * highWaterMark 1): a size function is a WebIDL call for every enqueue, and a strategy one more
 * conversion and two objects held for each viewer (StreamSink.writable, below, keeps the bound).
 */
export const STREAM_HIGH_WATER = 64 * 1024;

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
 * A stream's end of the hub, and its ReadableStream's underlying source: one object per viewer
 * holds what the stream needs for its whole life (its controller, its subscription, its release),
 * where a source of closures kept a context each, and through it the whole StreamFeed, for as long
 * as the viewer stayed. A class rather than closures also because the hub's loop calls the same
 * two methods of the same shape for every viewer, the cheapest call V8 has.
 *
 * No `pull`: Deno's streams would call it through WebIDL after every enqueue and every read of
 * the bridge to the socket. A subscriber held back is retried on the hub's tick instead, as a
 * WebSocket is (it has no drain event either).
 */
class StreamSink implements Sink {
  readonly transport: Exclude<StreamTransport, "ws">;
  // A bound on the bytes queued, kept without reading the queue: what the last look found
  // (#found bytes at most, in chunks of at most #foundLargest each) plus what was enqueued since
  // (#written bytes, #chunks chunks, the largest #largest), plus the opening not yet enqueued
  // (#unopened bytes). Deno only takes from the queue, oldest first; only this sink adds to it.
  #found = 0;
  #foundLargest = 0;
  #written = 0;
  #chunks = 0;
  #largest = 0;
  #unopened = 0;
  /**
   * What is written while the stream opens (the retry line, the catch-up, the opening ping),
   * enqueued as one chunk once it has opened: one write into Deno's stream bridge, not three.
   */
  #opening: Uint8Array[] | undefined;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  /** What the subscription is made of, until the stream starts (in its constructor). */
  #feed: StreamFeed | undefined;
  #subscription: Subscription | undefined;
  /** The feed's release, until the stream ends (however it ends: called once). */
  #release: (() => void) | undefined;

  constructor(feed: StreamFeed) {
    this.transport = feed.transport;
    this.#feed = feed;
    this.#release = feed.release;
    this.#opening = feed.prelude ? [feed.prelude] : [];
  }

  /** ReadableStream's start: subscribes, then sends what the subscription opened with. */
  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
    const feed = this.#feed!;
    this.#feed = undefined;
    this.#subscription = feed.hub.subscribe(feed.scope, feed.cursor, this, {
      delta: feed.delta,
      viewers: feed.viewers,
    });
    this.opened();
  }

  /** ReadableStream's cancel: the client left (Deno cancels the body; request.signal would not). */
  cancel(): void {
    this.#end();
    this.#subscription?.cancel();
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
    this.#unopened = 0;
    if (opening.length === 1) this.#enqueue(opening[0]!);
    else if (opening.length > 1) {
      const chunk = new Uint8Array(opening.reduce((sum, bytes) => sum + bytes.byteLength, 0));
      let at = 0;
      for (const bytes of opening) {
        chunk.set(bytes, at);
        at += bytes.byteLength;
      }
      this.#enqueue(chunk);
    }
    // The opening counts as found, not as sent since a look: a large catch-up is one chunk, which
    // then bounds only itself (the chunks written after it are bounded by their own largest).
    this.#rebound(this.#found + this.#written, Math.max(this.#foundLargest, this.#largest));
  }

  #write(bytes: Uint8Array): void {
    if (this.#opening === undefined) this.#enqueue(bytes);
    else {
      this.#opening.push(bytes);
      this.#unopened += bytes.byteLength;
    }
  }

  #enqueue(chunk: Uint8Array): void {
    this.#written += chunk.byteLength;
    this.#chunks++;
    if (chunk.byteLength > this.#largest) this.#largest = chunk.byteLength;
    this.#controller.enqueue(chunk);
  }

  /**
   * Whether fewer than STREAM_HIGH_WATER bytes are queued. The queue is looked at (a WebIDL
   * getter) only once the bound has reached that. It counts chunks (highWaterMark 1: it holds
   * 1 - desiredSize), and they are the last ones enqueued: as many as were enqueued since the
   * last look are bounded by what was written since, the rest by what that look found. So a
   * stream that keeps up, even a chunk or two behind, is looked at about once per 64 KiB it is
   * sent, and a large chunk (a snapshot) counts only while it can still be queued.
   */
  writable(): boolean {
    if (this.#found + this.#written + this.#unopened < STREAM_HIGH_WATER) return true;
    const room = this.#controller.desiredSize;
    if (room === null) return false; // errored
    const queued = 1 - room;
    const recent = Math.min(queued, this.#chunks);
    const older = queued - recent;
    this.#rebound(
      Math.min(this.#written, recent * this.#largest) +
        (older > 0 ? Math.min(this.#found, older * this.#foundLargest) : 0),
      older > 0 ? Math.max(this.#foundLargest, this.#largest) : this.#largest,
    );
    return this.#found + this.#unopened < STREAM_HIGH_WATER;
  }

  /** A new bound on what is queued (`bytes`, in chunks of at most `largest`); counting restarts. */
  #rebound(bytes: number, largest: number): void {
    this.#found = bytes;
    this.#foundLargest = largest;
    this.#written = 0;
    this.#chunks = 0;
    this.#largest = 0;
  }

  close(reason: CloseReason): void {
    if (!this.#end()) return;
    // On shutdown (or a reset) a stream that keeps up is ended cleanly after its queued bytes
    // (a stream refused at shutdown still gets its retry line, so browsers come back spread out).
    // Any other is aborted: a stuck client would never drain a graceful close, and the server's
    // shutdown would wait on it.
    const graceful = reason === "shutdown" || reason === "reset";
    if (graceful) this.opened();
    else this.#opening = undefined;
    if (graceful && this.writable()) this.#controller.close();
    else this.#controller.error(new FeedClosed(reason));
  }

  /** Releases the feed once, however the stream ends: false when it had already ended. */
  #end(): boolean {
    const release = this.#release;
    if (release === undefined) return false;
    this.#release = undefined;
    release();
    return true;
  }
}

export function streamResponse(feed: StreamFeed): Response {
  const body = new ReadableStream<Uint8Array>(new StreamSink(feed));
  return new Response(body, { headers: streamHeaders(feed.contentType, feed.headers) });
}
