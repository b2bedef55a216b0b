/** What every feed needs: the hub, its timings, and a capacity slot for the client asking. */
import type { Context } from "hono";
import type { FeedKind } from "../core/capacity.ts";
import type { Hub } from "../core/hub.ts";
import { clientAddress } from "../http/client_address.ts";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { problemOf } from "../http/problem.ts";

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
  acquire(c: Context<AppEnv>): () => void;
  /** The slots of a WebSocket (a feed's and a WebSocket's), with the same errors. */
  acquireSocket(c: Context<AppEnv>): SocketSlot;
}

export function feedContext(deps: Pick<AppDeps, "hub" | "capacity" | "config">): FeedContext {
  const { hub, capacity, config } = deps;
  const take = (c: Context<AppEnv>, kind: FeedKind) => {
    try {
      return capacity.acquire(clientAddress(c, config), kind);
    } catch (error) {
      throw problemOf(error); // 400, 429 or 503 (with Retry-After), named in the request log
    }
  };
  return {
    hub,
    heartbeatMs: config.heartbeatSeconds * 1000,
    wsIdleTimeoutSeconds: config.wsIdleTimeoutSeconds,
    acquire(c) {
      const release = take(c, "stream");
      // Asked for now, while the response is not yet sent: Deno settles only a promise asked for
      // before that. Without Deno.serve (a test calling app.fetch) the feed's end decides.
      const gone = c.env?.served?.completed;
      if (!gone) return release;
      gone.then(release, release);
      return () => {};
    },
    acquireSocket(c) {
      // An upgrade settles `completed` at once, so a socket's own close events decide.
      const release = take(c, "ws");
      return {
        release,
        closed: (stuck) => stuck ? capacity.linger(release) : release(),
      };
    },
  };
}
