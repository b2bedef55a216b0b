/**
 * `createApp(deps)`: every route mounted, one error handler, one not-found; and `buildService`,
 * the one place where a store, a hub, the metrics, the feed caps and the app are put together,
 * used by main.ts and the tests alike. No I/O here and no module state: everything comes in
 * through arguments, so tests build their own.
 */
import { Hono } from "hono";
import { FeedCapacity } from "./core/capacity.ts";
import type { Clock } from "./core/clock.ts";
import { Hub, type HubOptions } from "./core/hub.ts";
import type { Logger } from "./core/log.ts";
import { ViewerCounter } from "./core/viewer_counter.ts";
import type { Config } from "./config.ts";
import { directFeeds } from "./feeds/direct.ts";
import { feedContext } from "./feeds/feed_context.ts";
import { FEED_PATHS, feedRoutes } from "./feeds/routes.ts";
import { FeedClosed } from "./feeds/stream.ts";
import { Credentials } from "./http/auth.ts";
import { cors } from "./http/cors.ts";
import type { AppDeps, AppEnv } from "./http/env.ts";
import { Metrics } from "./http/metrics.ts";
import { JwtVerifier, type KeySetTiming } from "./http/jwt.ts";
import { HttpProblem, problemOf, problemResponse } from "./http/problem.ts";
import { requestLog } from "./http/request_log.ts";
import { StaticAssets, staticRoutes } from "./http/static.ts";
import { consoleRoutes } from "./pages/console.ts";
import { kioskRoutes } from "./pages/kiosk.ts";
import { gameRoutes } from "./routes/games.ts";
import { historyRoutes } from "./routes/history.ts";
import { opsRoutes } from "./routes/ops.ts";
import { transferRoutes } from "./routes/transfer.ts";
import { viewerRoutes } from "./routes/viewers.ts";
import type { Store } from "./store/store.ts";

const ALLOW: [string, string][] = [
  ["/api/games", "GET, HEAD"],
  ["/api/games/:id", "GET, HEAD, PUT, PATCH, DELETE"],
  ["/api/games/:id/score", "POST"],
  ["/api/games/:id/history", "GET, HEAD"],
  ["/api/export", "GET, HEAD"],
  ["/api/import", "POST"],
  ["/api/viewers", "GET, HEAD"],
  ["/api/games/:id/viewers", "GET, HEAD"],
  ["/api/games/:id/timer", "POST"],
  // Before the feed paths: this one is the game's SSE feed (GET) and its timeline (POST).
  ["/api/games/:id/events", "GET, HEAD, POST"],
  ["/api/games/:id/events/:eventId", "DELETE"],
  ...FEED_PATHS.map((path): [string, string] => [`/api${path}`, "GET, HEAD"]),
  ["/healthz", "GET, HEAD"],
  ["/version", "GET, HEAD"],
  ["/readyz", "GET, HEAD"],

  ["/widget.js", "GET, HEAD"],
  ["/client.js", "GET, HEAD"],
  ["/client.d.ts", "GET, HEAD"],
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

/** What a service is built from: its configuration and what main.ts or a test opened for it. */
export interface ServiceOptions {
  config: Config;
  store: Store;
  clock: Clock;
  log: Logger;
  /**
   * The total feed cap, when the process's file limit lowers it below SCORELINE_MAX_FEEDS (main.ts
   * measures that); the configured cap otherwise.
   */
  maxFeeds?: number;
  /** Hub tuning beyond the configuration: stall bounds, and an observer of open feeds. */
  hub?: Pick<HubOptions, "maxPending" | "maxStallMs" | "tickMs" | "onCount">;
  /** How the JWT key set is fetched and refreshed, when tests need other times than the defaults. */
  keySetTiming?: Partial<KeySetTiming>;
}

/** A built service: the app to serve, and the parts main.ts and tests look at or stop. */
export interface Service {
  app: Hono<AppEnv>;
  store: Store;
  hub: Hub;
  metrics: Metrics;
  capacity: FeedCapacity;
  config: Config;
  /** Who may write; main.ts puts the token file's tokens in force here, at start and on reload. */
  credentials: Credentials;
  viewers: ViewerCounter;
  /**
   * `Deno.serve`'s handler: feed GETs served directly (feeds/direct.ts), everything else by the
   * app, with the peer address and the handler info as bindings.
   */
  handler: Deno.ServeHandler<Deno.NetAddr>;
  /** `Deno.serve`'s onError. */
  onError: (error: unknown) => Response;
  /**
   * Begins shutdown: readiness answers 503 and every feed ends (streams close, long polls answer
   * empty), because `server.shutdown()` would otherwise wait on open streams forever. The server
   * is shut down next, then `close()`.
   */
  drain(): void;
  /** Closes the store once the server no longer takes requests. */
  close(): Promise<void>;
}

/** The wiring, written once: metrics, hub, feed caps and app around an open store. */
export function buildService(options: ServiceOptions): Service {
  const { config, store, clock, log } = options;
  const metrics = new Metrics();
  const hub = new Hub({
    source: store,
    clock,
    heartbeatMs: config.heartbeatSeconds * 1000,
    ...options.hub,
    onFanout: metrics.fanout,
  });
  const capacity = new FeedCapacity(config.feedsPerClient, options.maxFeeds ?? config.maxFeeds, {
    rate: config.feedRate,
    clock,
    wsPerClient: config.wsPerClient,
    maxWebSockets: config.maxWebSockets,
  });
  metrics.watch({ hub, capacity });
  const jwt = config.jwt
    ? new JwtVerifier(config.jwt, { clock, log, timing: options.keySetTiming })
    : null;
  const credentials = new Credentials({ tokens: config.tokens, jwt });
  const viewers = new ViewerCounter({ hub, source: store, clock, log });
  let shuttingDown = false;
  const app = createApp({
    store,
    hub,
    clock,
    config,
    log,
    capacity,
    metrics,
    credentials,
    viewers,
    shuttingDown: () => shuttingDown,
  });
  // Feed GETs skip Hono (feeds/direct.ts); what it does not take goes to the app.
  const direct = directFeeds(feedContext({ hub, capacity, config }), log);
  return {
    app,
    store,
    hub,
    metrics,
    capacity,
    config,
    credentials,
    viewers,
    handler: (request, info) =>
      direct(request, info) ?? app.fetch(request, { remoteAddr: info.remoteAddr, served: info }),
    onError: serveErrorHandler(log),
    drain() {
      shuttingDown = true;
      viewers.close();
      hub.close();
    },
    async close() {
      await credentials.close();
      await store.close();
    },
  };
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { config, log } = deps;
  const app = new Hono<AppEnv>();

  app.use("*", requestLog(log));
  app.use("*", async (c, next) => {
    await next();
    c.res.headers.set("x-content-type-options", "nosniff");
  });
  app.use("*", cors(config));

  app.route("/api", gameRoutes(deps));
  app.route("/api", historyRoutes(deps));
  app.route("/api", transferRoutes(deps));
  app.route("/api", viewerRoutes(deps));
  app.route("/api", feedRoutes(feedContext(deps)));
  app.route("/", opsRoutes(deps));
  // Read on first use, not here: createApp does no I/O.
  const assets = new StaticAssets();
  app.route("/", consoleRoutes(assets));
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
  app.onError((error) => problemResponse(problemOf(error)));

  return app;
}
