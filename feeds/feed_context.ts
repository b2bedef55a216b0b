/** What every feed needs: the hub, and a capacity slot for the client asking. */
import type { Context } from "hono";
import type { AppEnv } from "../app.ts";
import type { Hub } from "../core/hub.ts";
import { clientAddress, type FeedCapacity } from "./capacity.ts";
import { WS_IDLE_TIMEOUT_SECONDS } from "./ws.ts";

export interface FeedContext {
  hub: Hub;
  heartbeatMs: number;
  /** How long a silent WebSocket lives (see WS_IDLE_TIMEOUT_SECONDS). */
  wsIdleTimeoutSeconds: number;
  /** Takes a slot for this request's client (429/503 when full); returns its release. */
  acquire(c: Context<AppEnv>): () => void;
}

export function feedContext(
  hub: Hub,
  capacity: FeedCapacity,
  options: { trustProxy: boolean; heartbeatMs: number; wsIdleTimeoutSeconds?: number },
): FeedContext {
  return {
    hub,
    heartbeatMs: options.heartbeatMs,
    wsIdleTimeoutSeconds: options.wsIdleTimeoutSeconds ?? WS_IDLE_TIMEOUT_SECONDS,
    acquire: (c) => capacity.acquire(clientAddress(c, options.trustProxy)),
  };
}
