/** Picks the store the configuration asks for. */
import type { Clock } from "../core/clock.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { openMemoryStore } from "./memory.ts";
import { openRedisStore } from "./redis.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

export function openStore(
  config: Pick<Config, "dataPath" | "redisUrl">,
  clock: Clock,
  log?: Logger,
): Promise<Store> {
  if (config.redisUrl !== null) return openRedisStore({ url: config.redisUrl, clock, log });
  if (config.dataPath === ":memory:") return Promise.resolve(openMemoryStore(clock));
  return Promise.resolve(openSqliteStore(config.dataPath, clock));
}
