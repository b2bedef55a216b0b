/**
 * A server under test in this process, for the profilers that look at its heap from inside
 * (bench/heap_profile.ts, bench/alloc_profile.ts): Scoreline wired as the tests wire it (memory
 * store, 127.0.0.1:0, the per-address limits lifted as the benchmark lifts them), or the bare
 * floor (`bench/peers/bare_deno.ts`), either kind. The benchmark's game is seeded on it.
 */
import type { ViewerTransport } from "./load/viewer_process.ts";
import { GAME_ID, GAME_INPUT } from "./servers.ts";

export type HereServer = "scoreline" | "bare" | "bare-contract";
export const HERE_SERVERS: readonly HereServer[] = ["scoreline", "bare", "bare-contract"];

/** Where a viewer of each transport connects, on every server here. */
export const FEED_PATHS: Readonly<Record<ViewerTransport, string>> = {
  sse: `/api/games/${GAME_ID}/events`,
  ndjson: `/api/games/${GAME_ID}/stream`,
  ws: `/api/games/${GAME_ID}/ws`,
  lp: `/api/games/${GAME_ID}/poll?timeout=60`,
};

export interface Here {
  port: number;
  stop(): Promise<void>;
}

export async function serveHere(server: HereServer): Promise<Here> {
  let here: Here;
  let authorization = "";
  if (server === "scoreline") {
    const { startServer, TOKEN } = await import("../tests/support/server.ts");
    const scoreline = await startServer({
      env: {
        SCORELINE_FEEDS_PER_CLIENT: "1000000",
        SCORELINE_FEED_RATE: "0",
        SCORELINE_WS_PER_CLIENT: "1000000",
        SCORELINE_MAX_WEBSOCKETS: "1000000",
      },
    });
    here = { port: Number(new URL(scoreline.url).port), stop: () => scoreline.close() };
    authorization = `Bearer ${TOKEN}`;
  } else {
    // The floor reads its kind once, as its module loads: one kind per process.
    Deno.env.set("BARE_CONTRACT", server === "bare-contract" ? "1" : "0");
    const { serveFloor } = await import("./peers/bare_deno.ts");
    here = serveFloor(0);
  }
  const seeded = await fetch(`http://127.0.0.1:${here.port}/api/games/${GAME_ID}`, {
    method: "PUT",
    headers: { authorization, "content-type": "application/json" },
    body: JSON.stringify(GAME_INPUT),
  });
  await seeded.body?.cancel();
  if (!seeded.ok) throw new Error(`seeding the game on ${server}: ${seeded.status}`);
  return here;
}

/**
 * A full garbage collection, for a heap to be read without its garbage: V8's `gc`, called twice
 * (what the first only marks, weak references, goes with the second). Asked for before the
 * measurement starts, so a missing flag fails at once and not after minutes of connecting.
 */
export function fullGc(): () => void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error("run with --v8-flags=--expose-gc");
  return () => {
    collect();
    collect();
  };
}
