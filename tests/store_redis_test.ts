import { openRedisStore } from "../store/redis.ts";
import { skipWithout } from "./support/binaries.ts";
import { startRedis } from "./support/redis.ts";
import { storeConformance } from "./store_conformance.ts";

const ignore = skipWithout("redis-server");

storeConformance("redis", async () => {
  const redis = await startRedis();
  return {
    open: (clock) => openRedisStore({ url: redis.url, clock }),
    persistent: true,
    cleanup: () => redis[Symbol.asyncDispose](),
  };
}, { ignore });
