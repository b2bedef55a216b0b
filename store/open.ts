/** Picks the store the configuration asks for. */
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/log.ts";
import { openMemoryStore } from "./memory.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

/** Where the state lives: a Redis URL, or else a SQLite file path (":memory:" keeps nothing). */
export interface StoreLocation {
  dataPath: string;
  redisUrl: string | null;
}

export async function openStore(
  config: StoreLocation,
  clock: Clock,
  log?: Logger,
): Promise<Store> {
  if (config.redisUrl !== null) {
    // Loaded only when asked for: node-redis and its dependencies cost every start-up 0.3–0.4 s
    // of module loading and their heap, on SQLite and :memory: for nothing.
    const { openRedisStore } = await import("./redis.ts");
    return openRedisStore({ url: config.redisUrl, clock, log });
  }
  if (config.dataPath === ":memory:") return openMemoryStore(clock);
  return openSqliteStore(config.dataPath, clock, log);
}
