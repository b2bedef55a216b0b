/** What every feed needs: the hub, its timings, and a capacity slot for the client asking. */
import type { Context } from "hono";
import type { Hub } from "../core/hub.ts";
import { clientAddress } from "../http/client_address.ts";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { problemOf } from "../http/problem.ts";

export interface FeedContext {
  hub: Hub;
  heartbeatMs: number;
  /** How long a silent WebSocket lives (SCORELINE_WS_IDLE_TIMEOUT). */
  wsIdleTimeoutSeconds: number;
  /** Takes a slot for this request's client (429/503 when full); returns its release. */
  acquire(c: Context<AppEnv>): () => void;
}

export function feedContext(deps: Pick<AppDeps, "hub" | "capacity" | "config">): FeedContext {
  const { hub, capacity, config } = deps;
  return {
    hub,
    heartbeatMs: config.heartbeatSeconds * 1000,
    wsIdleTimeoutSeconds: config.wsIdleTimeoutSeconds,
    acquire(c) {
      try {
        return capacity.acquire(clientAddress(c, config.trustProxy));
      } catch (error) {
        throw problemOf(error); // 429 or 503 with Retry-After, named in the request log
      }
    },
  };
}
