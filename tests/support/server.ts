/** An in-process Scoreline on a real socket (127.0.0.1, port 0), built by main.ts's wiring. */
import type { Hono } from "hono";
import { buildService } from "../../app.ts";
import { type Config, parseConfig } from "../../config.ts";
import type { FeedCapacity } from "../../core/capacity.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import type { Hub, Transport } from "../../core/hub.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import type { Credentials } from "../../http/auth.ts";
import type { ViewerCounter } from "../../core/viewer_counter.ts";
import type { AppEnv } from "../../http/env.ts";
import type { KeySetTiming } from "../../http/jwt.ts";
import { openMemoryStore } from "../../store/memory.ts";
import type { Store } from "../../store/store.ts";
export const TOKEN = "test-token-all-games-0001";
/** A token that may write only game-a and game-b. */
export const SCOPED_TOKEN = "test-token-scoped-0002";

export interface TestServer {
  url: string;
  /** The app itself, for tests that look at its Responses without a socket in between. */
  app: Hono<AppEnv>;
  store: Store;
  hub: Hub;
  config: Config;
  capacity: FeedCapacity;
  /** Who may write: a test can put token-file tokens in force here, as main.ts does. */
  credentials: Credentials;
  /** Viewer counts: `await viewers.count()` waits for a count started by the clock. */
  viewers: ViewerCounter;
  /** Resolves once at least `count` feeds of `transport` are open on the server. */
  opened(transport: Transport, count?: number): Promise<void>;
  /** Resolves once at most `count` feeds of `transport` are open on the server. */
  closedTo(transport: Transport, count: number): Promise<void>;
  /**
   * Resolves once at most `count` feed slots are taken. A slot comes back when Deno is done with
   * the connection, which no event of the app tells a test: this looks every 10 ms, up to 10 s.
   */
  slotsDownTo(count: number): Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface TestServerOptions {
  clock?: Clock;
  store?: Store;
  env?: Record<string, string>;
  hub?: { maxPending?: number; maxStallMs?: number };
  /** Where the app logs (silent by default). */
  log?: Logger;
  /** How a JWT key set is fetched and refreshed (the defaults otherwise). */
  keySetTiming?: Partial<KeySetTiming>;
}

export async function startServer(options: TestServerOptions = {}): Promise<TestServer> {
  const clock = options.clock ?? systemClock();
  const config = parseConfig({
    SCORELINE_TOKENS: `${TOKEN},${SCOPED_TOKEN}=game-a|game-b`,
    SCORELINE_DATA: ":memory:",
    SCORELINE_WRITE_RATE: "0",
    ...options.env,
  });
  const watchers = new Set<
    { transport: Transport; holds: (open: number) => boolean; resolve: () => void }
  >();
  const service = buildService({
    config,
    store: options.store ?? openMemoryStore(clock),
    clock,
    log: options.log ?? silentLogger,
    keySetTiming: options.keySetTiming,
    hub: {
      ...options.hub,
      onCount(transport, open) {
        for (const watcher of watchers) {
          if (watcher.transport === transport && watcher.holds(open)) {
            watchers.delete(watcher);
            watcher.resolve();
          }
        }
      },
    },
  });
  const { hub } = service;
  const until = (transport: Transport, holds: (open: number) => boolean) =>
    holds(hub.open(transport))
      ? Promise.resolve()
      : new Promise<void>((resolve) => watchers.add({ transport, holds, resolve }));
  const opened = (transport: Transport, count = 1) => until(transport, (open) => open >= count);
  const closedTo = (transport: Transport, count: number) =>
    until(transport, (open) => open <= count);
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {}, onError: service.onError },
    service.handler,
  );
  const slotsDownTo = async (count: number) => {
    const guard = Date.now() + 10_000;
    while (service.capacity.open > count) {
      if (Date.now() > guard) {
        throw new Error(`${service.capacity.open} feed slots taken, ${count} expected`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    service.drain();
    await server.shutdown();
    await service.close();
  };
  await Promise.resolve();
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    app: service.app,
    store: service.store,
    hub,
    config,
    capacity: service.capacity,
    credentials: service.credentials,
    viewers: service.viewers,
    opened,
    closedTo,
    slotsDownTo,
    close,
    [Symbol.asyncDispose]: close,
  };
}
