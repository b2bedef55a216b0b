/**
 * The only module with side effects: read the configuration, open the store, build the service
 * (app.ts), serve, and shut down gracefully on SIGTERM/SIGINT.
 */
import { buildService } from "./app.ts";
import { ConfigError, readConfig } from "./config.ts";
import { descriptorsNeeded, feedCapWithin } from "./core/capacity.ts";
import { systemClock } from "./core/clock.ts";
import { createLogger } from "./core/log.ts";
import { VERSION } from "./core/version.ts";
import {
  readTokenFile,
  type TokenFile,
  TokenFileError,
  TokenFileReloader,
} from "./http/token_file.ts";
import { SECRET_ALGORITHM, shownUrl } from "./http/jwt.ts";
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
  // Read before anything is opened: a bad token file stops start-up like a bad variable.
  let tokenFile: TokenFile | null = null;
  if (config.tokensFile !== null) {
    try {
      tokenFile = await readTokenFile(
        config.tokensFile,
        new Set(config.tokens.map((grant) => grant.token)),
      );
    } catch (error) {
      if (!(error instanceof TokenFileError)) throw error;
      console.error(error.message);
      Deno.exit(1);
    }
  }
  let store;
  try {
    store = await openStore(config, clock, log);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
  const available = freeDescriptors(descriptorsNeeded(config.maxFeeds));
  const maxFeeds = feedCapWithin(config.maxFeeds, available);
  if (maxFeeds < config.maxFeeds) {
    log.warn("SCORELINE_MAX_FEEDS does not fit the open-file limit: feeds are capped lower", {
      configured: config.maxFeeds,
      cap: maxFeeds,
      freeDescriptors: available,
    });
  }
  const service = buildService({
    config,
    store,
    clock,
    log,
    maxFeeds,
    // At debug only: a line per feed opened or closed, never per delivery.
    // (Not even a call otherwise: every long poll opens and closes a feed.)
    hub: {
      onCount: log.enabled("debug")
        ? (transport, open) => log.debug("feeds open", { transport, open })
        : undefined,
    },
  });
  let reloader: TokenFileReloader | null = null;
  if (config.tokensFile !== null && tokenFile !== null) {
    reloader = new TokenFileReloader({
      path: config.tokensFile,
      credentials: service.credentials,
      log,
    });
    reloader.start(tokenFile);
    reloader.watch();
    // SIGHUP re-reads the token file (only when there is one: otherwise it ends the process, as
    // a hang-up does by default).
    Deno.addSignalListener("SIGHUP", () => void reloader?.reload("SIGHUP"));
  }
  // The key set is fetched now rather than at the first JWT write; a failure is logged, and
  // JWT writes answer 503 until a fetch succeeds.
  void service.credentials.warm();
  let shuttingDown = false;

  const server = Deno.serve({
    port: config.port,
    hostname: config.host,
    // Deno's default is 511: 10,000 viewers coming back at once (a restart, a proxy reload)
    // overflow it, and the kernel's SYN retries (1, 3, 7 s) then set the reconnect time.
    tcpBacklog: 4096,
    onError: service.onError,

    onListen: ({ hostname, port }) => {
      const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
      log.info("listening", {
        url: `http://${shown}:${port}`,
        version: VERSION,
        store: config.redisUrl ? "redis" : config.dataPath,
        tokens: service.credentials.counts.tokens,
        jwt: config.jwt === null
          ? false
          : config.jwt.jwksUrl
          ? shownUrl(config.jwt.jwksUrl)
          : SECRET_ALGORITHM,
      });
    },
  }, service.handler);

  if (config.generatedToken) {
    // Printed once, so a newcomer can write at once; nobody can write without a token.
    log.warn("SCORELINE_TOKENS is not set: generated a write token for this run", {
      token: config.generatedToken,
    });
  }

  const shutdown = async (signal: string, exitCode = 0) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info("shutting down", { signal });
    const deadline = setTimeout(() => {
      log.warn("shutdown deadline passed; exiting with clients still connected");
      Deno.exit(exitCode);
    }, SHUTDOWN_DEADLINE_MS);
    await reloader?.close();
    // Feeds first: server.shutdown() would wait for open streams forever.
    service.drain();
    await server.shutdown().catch(() => {});
    await service.close();
    clearTimeout(deadline);
    log.info("stopped");
    Deno.exit(exitCode);
  };
  Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
  // Deno's server stops accepting for good when accept() fails, as it does once every file
  // descriptor is taken (by idle or half-sent connections, which no cap counts). A process that
  // no longer accepts must not linger looking alive: it says why and exits 1 for its supervisor.
  server.finished.catch((error) => {
    log.error("the HTTP server stopped accepting connections", { error: String(error) });
    void shutdown("server failed", 1);
  });
}

/**
 * How many more files this process can open, counted up to `enough` (null: at least that many,
 * or no way to tell). It opens its own source file until refused, then closes them all: Deno
 * grants /proc/self/limits, which would say it directly, only to --allow-all. A fraction of a
 * second at start-up, for a feed cap that cannot run the process out of descriptors.
 */
function freeDescriptors(enough: number): number | null {
  const self = new URL(import.meta.url);
  if (self.protocol !== "file:") return null;
  const files: Deno.FsFile[] = [];
  try {
    while (files.length < enough) files.push(Deno.openSync(self));
    return null;
  } catch (error) {
    // EMFILE is what we count to; anything else (no read permission) tells nothing.
    return /\(os error 24\)/.test(String(error)) ? files.length : null;
  } finally {
    for (const file of files) file.close();
  }
}

if (import.meta.main) await main();
