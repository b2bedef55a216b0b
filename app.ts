/**
 * `createApp(deps)`: every route mounted, one error handler, one not-found. No I/O here and no
 * module state: everything the app touches comes in through `deps`, so tests build their own.
 */
import { Hono } from "hono";
import type { Clock } from "./core/clock.ts";
import { StoreUnavailableError } from "./core/errors.ts";
import type { Hub } from "./core/hub.ts";
import type { WriteOutcome } from "./core/scoreboard.ts";
import type { Config } from "./config.ts";
import type { FeedCapacity } from "./feeds/capacity.ts";
import { feedContext } from "./feeds/feed_context.ts";
import { FeedClosed } from "./feeds/stream.ts";
import { kioskRoutes } from "./feeds/kiosk.ts";
import { FEED_PATHS, feedRoutes } from "./feeds/routes.ts";
import type { Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { consoleRoutes } from "./routes/console.ts";
import { cors } from "./routes/cors.ts";
import { gameRoutes } from "./routes/games.ts";
import { opsRoutes } from "./routes/ops.ts";
import { HttpProblem, problemResponse } from "./routes/problem.ts";
import { StaticAssets, staticRoutes } from "./routes/static.ts";
import { requestLog } from "./routes/request_log.ts";
import type { Store } from "./store/store.ts";

/**
 * Hono's environment: the peer address comes in as a binding from `Deno.serve`; the request id
 * and, on writes, the scorer (a short digest of the token) are set for the request log.
 */
export type AppEnv = {
  Bindings: { remoteAddr?: Deno.Addr };
  Variables: { requestId: string; scorer?: string };
};

/** What a finished write looks like to observers (logs, metrics). */
export interface WriteEvent {
  action: "put" | "patch" | "score" | "delete";
  id: string;
  outcome: WriteOutcome;
  seconds: number;
}

export interface AppDeps {
  store: Store;
  hub: Hub;
  clock: Clock;
  config: Config;
  log: Logger;
  capacity: FeedCapacity;
  /** True once shutdown began: readiness turns 503 so load balancers move away. */
  shuttingDown?: () => boolean;
  /** Overrides WS_IDLE_TIMEOUT_SECONDS (tests shorten it to see closed sockets let go). */
  wsIdleTimeoutSeconds?: number;
  onWrite?: (event: WriteEvent) => void;
  /** The /metrics registry; one is made when absent (then without the hub's fan-out timings). */
  metrics?: Metrics;
}

const ALLOW: [string, string][] = [
  ["/api/games", "GET, HEAD"],
  ["/api/games/:id", "GET, HEAD, PUT, PATCH, DELETE"],
  ["/api/games/:id/score", "POST"],
  ...FEED_PATHS.map((path): [string, string] => [`/api${path}`, "GET, HEAD"]),
  ["/healthz", "GET, HEAD"],
  ["/readyz", "GET, HEAD"],

  ["/widget.js", "GET, HEAD"],
  ["/static/:name", "GET, HEAD"],
  ["/metrics", "GET, HEAD"],
  ["/openapi.json", "GET, HEAD"],
  ["/console", "GET, HEAD"],
  ["/console/:file", "GET, HEAD"],
];

/**
 * `Deno.serve`'s onError: what escapes the app, which is mostly a response stream that errored
 * after its headers were sent. Streams the feeds abort on purpose are not worth a log line.
 */
export function serveErrorHandler(log: Logger): (error: unknown) => Response {
  return (error) => {
    if (!(error instanceof FeedClosed)) {
      log.error("error outside the app", { error: String((error as Error)?.stack ?? error) });
    }
    return problemResponse(new HttpProblem("internal", "an unexpected error occurred"));
  };
}

export function createApp(appDeps: AppDeps): Hono<AppEnv> {
  const metrics = appDeps.metrics ?? new Metrics();
  metrics.watch({ hub: appDeps.hub, capacity: appDeps.capacity });
  const deps: AppDeps = {
    ...appDeps,
    metrics,
    onWrite(event) {
      metrics.write(event);
      appDeps.onWrite?.(event);
    },
  };
  const { config, log } = deps;
  const app = new Hono<AppEnv>();

  app.use("*", requestLog(log));
  app.use("*", async (c, next) => {
    await next();
    c.res.headers.set("x-content-type-options", "nosniff");
  });
  app.use("*", cors(config));

  app.route("/api", gameRoutes(deps));
  app.route(
    "/api",
    feedRoutes(feedContext(deps.hub, deps.capacity, {
      trustProxy: config.trustProxy,
      heartbeatMs: config.heartbeatSeconds * 1000,
      wsIdleTimeoutSeconds: deps.wsIdleTimeoutSeconds,
    })),
  );
  app.route("/", opsRoutes({ ...deps, metrics }));
  app.route("/", consoleRoutes());
  // Read on first use, not here: createApp does no I/O.
  const assets = new StaticAssets();
  app.route("/", staticRoutes(assets));
  app.route("/", kioskRoutes(deps, assets));

  for (const [path, allow] of ALLOW) {
    app.all(path, () => {
      throw new HttpProblem("method-not-allowed", `use ${allow}`, { headers: { allow } });
    });
  }

  app.notFound((c) =>
    problemResponse(
      new HttpProblem(
        "not-found",
        `no route for ${c.req.method.slice(0, 16)} ${c.req.path.slice(0, 200)}`,
      ),
    )
  );

  // Renders only: requestLog writes the one line per error, with the request id.
  app.onError((error) => {
    if (error instanceof HttpProblem) return problemResponse(error);
    if (error instanceof StoreUnavailableError) {
      return problemResponse(
        new HttpProblem("unavailable", error.message, {
          headers: { "retry-after": String(error.retryAfter) },
        }),
      );
    }
    return problemResponse(new HttpProblem("internal", "an unexpected error occurred"));
  });

  return app;
}
