/** What every feed needs: the hub, its timings, and a capacity slot for the client asking. */
import type { Context } from "hono";
import type { FeedKind } from "../core/capacity.ts";
import type { Hub } from "../core/hub.ts";
import { clientAddressOf, PeerKeys } from "../http/client_address.ts";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { problemOf } from "../http/problem.ts";

/**
 * What a feed reads of its request, the same whether Hono routed it (`contextRequest`) or it was
 * served before Hono (feeds/direct.ts): query parameters as Hono reads them, headers, the peer.
 */
export interface FeedRequest {
  readonly raw: Request;
  readonly method: string;
  /** The first value of a query parameter (Hono's `c.req.query`). */
  query(name: string): string | undefined;
  /** Every value of a query parameter (Hono's `c.req.queries`). */
  queries(name: string): string[] | undefined;
  header(name: string): string | undefined;
  readonly remoteAddr: Deno.Addr | undefined;
  /** Deno.serve's `completed` getter, when served by Deno.serve (read only where needed). */
  readonly served: Pick<Deno.ServeHandlerInfo, "completed"> | undefined;
  /**
   * Headers every answer carries that Hono's middlewares add otherwise (request id, nosniff,
   * CORS): set when the answer is made, not on it afterwards. Empty through Hono.
   */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The answer to an error met after the feed's Response was promised (a long poll's store
   * failing): the same problem+json. Through Hono it throws on, to the app's onError.
   */
  failed(error: unknown): Response;
}

/** The release of a slot that Deno's `completed` gives back: nothing to do when the feed ends. */
const NOTHING = () => {};

const NONE: Readonly<Record<string, string>> = Object.freeze({});

/** A Hono context as a feed request: its middlewares add the common headers themselves. */
export function contextRequest(c: Context<AppEnv>): FeedRequest {
  return {
    raw: c.req.raw,
    method: c.req.method,
    query: (name) => c.req.query(name),
    queries: (name) => c.req.queries(name),
    header: (name) => c.req.header(name),
    remoteAddr: c.env?.remoteAddr,
    served: c.env?.served,
    headers: NONE,
    failed: (error) => {
      throw error;
    },
  };
}

/** A WebSocket's hold on its slots (a feed's, and a WebSocket's). */
export interface SocketSlot {
  /** The socket never opened: the slots are free at once. */
  release(): void;
  /**
   * The socket closed. `stuck`: Deno still had bytes to write to it, so its connection may stay
   * open, unseen, after the close: the slots are then held SLOT_LINGER_MS longer.
   */
  closed(stuck: boolean): void;
}

export interface FeedContext {
  hub: Hub;
  heartbeatMs: number;
  /** How long a silent WebSocket lives (SCORELINE_WS_IDLE_TIMEOUT). */
  wsIdleTimeoutSeconds: number;
  /**
   * Takes a slot for this request's client (400 for an X-Forwarded-For that is not an address,
   * 429/503 when full) and returns what the transport calls when its feed ends. The slot itself is
   * held until Deno has finished with the connection's response, delivered or dropped, not merely
   * until the feed ends: a reader that stopped reading keeps its socket open after the hub gives
   * up on it (Deno is still blocked writing to it), and a slot given back then would let one
   * address pile up sockets without end.
   */
  acquire(request: FeedRequest): () => void;
  /**
   * A long poll's slot, with the same errors and the same hold: the returned function is called
   * as the answer is made, before it is returned, and the slot is given back once Deno has sent
   * (or dropped) that answer. Asking Deno's `completed` then, and not on arrival, spares every
   * waiting poll a promise and two reactions: they are most of a poll's life.
   */
  acquireUntilAnswered(request: FeedRequest): () => void;
  /** The slots of a WebSocket (a feed's and a WebSocket's), with the same errors. */
  acquireSocket(request: FeedRequest): SocketSlot;
}

export function feedContext(deps: Pick<AppDeps, "hub" | "capacity" | "config">): FeedContext {
  const { hub, capacity, config } = deps;
  const peers = new PeerKeys();
  const take = (request: FeedRequest, kind: FeedKind) => {
    try {
      const forwardedFor = () => request.header("x-forwarded-for");
      const client = clientAddressOf(request.remoteAddr, forwardedFor, config, peers);
      return capacity.acquire(client, kind);
    } catch (error) {
      throw problemOf(error); // 400, 429 or 503 (with Retry-After), named in the request log
    }
  };
  return {
    hub,
    heartbeatMs: config.heartbeatSeconds * 1000,
    wsIdleTimeoutSeconds: config.wsIdleTimeoutSeconds,
    acquire(request) {
      const release = take(request, "stream");
      // Asked for now, while the response is not yet sent: Deno settles only a promise asked for
      // before that. Without Deno.serve (a test calling app.fetch) the feed's end decides.
      const gone = request.served?.completed;
      if (!gone) return release;
      gone.then(release, release);
      return NOTHING;
    },
    acquireUntilAnswered(request) {
      const release = take(request, "stream");
      const served = request.served;
      if (!served) return release;
      return () => void served.completed.then(release, release);
    },
    acquireSocket(request) {
      // An upgrade settles `completed` at once, so a socket's own close events decide.
      const release = take(request, "ws");
      return {
        release,
        closed: (stuck) => stuck ? capacity.linger(release) : release(),
      };
    },
  };
}
