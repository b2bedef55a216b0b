/**
 * The only module with side effects: read the configuration, open the store, build the app,
 * serve, and shut down gracefully on SIGTERM/SIGINT.
 */
import { createApp, serveErrorHandler } from "./app.ts";
import { ConfigError, readConfig } from "./config.ts";
import { systemClock } from "./core/clock.ts";
import { Hub } from "./core/hub.ts";
import { FeedCapacity } from "./feeds/capacity.ts";
import { createLogger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { openStore } from "./store/open.ts";

/** Shutdown must finish within this, whatever clients do, so orchestrators never SIGKILL us. */
const SHUTDOWN_DEADLINE_MS = 8_000;

async function main(): Promise<void> {
  let config;
  try {
    config = readConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const line of error.lines) console.error(line);
    Deno.exit(1);
  }
  const log = createLogger(config.logLevel);
  const clock = systemClock();
  let store;
  try {
    store = await openStore(config, clock);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
  const metrics = new Metrics();
  const hub = new Hub({
    source: store,
    clock,
    heartbeatMs: config.heartbeatSeconds * 1000,
    onFanout: metrics.fanout,
  });
  const capacity = new FeedCapacity(config.feedsPerClient, config.maxFeeds);
  let shuttingDown = false;
  const app = createApp({
    store,
    hub,
    clock,
    config,
    log,
    capacity,
    metrics,
    shuttingDown: () => shuttingDown,
  });

  const server = Deno.serve({
    port: config.port,
    hostname: config.host,
    onError: serveErrorHandler(log),
    onListen: ({ hostname, port }) => {
      const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
      log.info("listening", {
        url: `http://${shown}:${port}`,
        store: config.redisUrl ? "redis" : config.dataPath,
      });
    },
  }, (request, info) => app.fetch(request, { remoteAddr: info.remoteAddr }));

  if (config.generatedToken) {
    // Printed once, so a newcomer can write at once; nobody can write without a token.
    log.warn("SCORELINE_TOKENS is not set: generated a write token for this run", {
      token: config.generatedToken,
    });
  }

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info("shutting down", { signal });
    const deadline = setTimeout(() => {
      log.warn("shutdown deadline passed; exiting with clients still connected");
      Deno.exit(0);
    }, SHUTDOWN_DEADLINE_MS);
    // Feeds first: server.shutdown() would wait for open streams forever.
    hub.close();
    await server.shutdown();
    await store.close();
    clearTimeout(deadline);
    log.info("stopped");
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
}

if (import.meta.main) await main();
