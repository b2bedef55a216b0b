/** Picks the store the configuration asks for. */
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/log.ts";
import { openMemoryStore } from "./memory.ts";
import { openRedisStore } from "./redis.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

/** Where the state lives: a Redis URL, or else a SQLite file path (":memory:" keeps nothing). */
export interface StoreLocation {
  dataPath: string;
  redisUrl: string | null;
}

export function openStore(
  config: StoreLocation,
  clock: Clock,
  log?: Logger,
): Promise<Store> {
  if (config.redisUrl !== null) return openRedisStore({ url: config.redisUrl, clock, log });
  if (config.dataPath === ":memory:") return Promise.resolve(openMemoryStore(clock));
  return Promise.resolve(openSqliteStore(config.dataPath, clock, log));
}
