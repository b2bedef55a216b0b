/**
 * What every route, feed and page is handed: Hono's environment type for this app, and the
 * dependencies the app is built from. Defined here, below the routes, so that nothing imports
 * back up from `app.ts`.
 */
import type { Clock } from "../core/clock.ts";
import type { FeedCapacity } from "../core/capacity.ts";
import type { Hub } from "../core/hub.ts";
import type { Logger } from "../core/log.ts";
import type { ViewerCounter } from "../core/viewer_counter.ts";
import type { Config } from "../config.ts";
import type { Store } from "../store/store.ts";
import type { Credentials } from "./auth.ts";
import type { Metrics } from "./metrics.ts";

/**
 * Hono's environment: the peer address and the connection's `completed` (Deno.ServeHandlerInfo)
 * come in as bindings from `Deno.serve`; the request id and, on writes, the scorer (a short digest
 * of the token) are set for the request log.
 */
export type AppEnv = {
  Bindings: { remoteAddr?: Deno.Addr; served?: Pick<Deno.ServeHandlerInfo, "completed"> };
  Variables: { requestId: string; scorer?: string };
};

/** Everything the app touches, passed in: `buildService` in app.ts makes it once. */
export interface AppDeps {
  store: Store;
  hub: Hub;
  clock: Clock;
  config: Config;
  log: Logger;
  capacity: FeedCapacity;
  metrics: Metrics;
  /** Who may write: the static tokens in force (replaced when the token file changes) and JWTs. */
  credentials: Credentials;
  /** Viewer counts, made every 5 s (core/viewer_counter.ts). */
  viewers: ViewerCounter;
  /** True once shutdown began: readiness turns 503 so load balancers move away. */
  shuttingDown: () => boolean;
}
