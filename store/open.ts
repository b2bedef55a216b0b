/** Picks the store the configuration asks for. */
import type { Clock } from "../core/clock.ts";
import type { Config } from "../config.ts";
import { openMemoryStore } from "./memory.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

export function openStore(
  config: Pick<Config, "dataPath" | "redisUrl">,
  clock: Clock,
): Promise<Store> {
  if (config.redisUrl !== null) {
    return Promise.reject(
      new Error("SCORELINE_REDIS_URL: the Redis store is not available in this build"),
    );
  }
  if (config.dataPath === ":memory:") return Promise.resolve(openMemoryStore(clock));
  return Promise.resolve(openSqliteStore(config.dataPath, clock));
}
