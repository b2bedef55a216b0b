/**
 * Viewer counts as REST: per game and in all, as the last 5-second count made them (in Redis
 * mode, summed over every instance). Cacheable for those 5 s: counting again on every request
 * would put a Redis round trip behind a number that changes only on the count.
 */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { gameId } from "../http/params.ts";

const HEADERS = { "content-type": "application/json", "cache-control": "max-age=5" };

export function viewerRoutes(deps: Pick<AppDeps, "viewers">): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/viewers", () => {
    const { total, games } = deps.viewers.latest;
    const entries = [...games].filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : 1));
    const body = JSON.stringify({ total, games: Object.fromEntries(entries) });
    return new Response(body, { headers: HEADERS });
  });

  // Any valid id: a feed waiting for a game that does not exist yet is a viewer of it too.
  app.get("/games/:id/viewers", (c) => {
    const id = gameId(c.req.param("id"));
    const viewers = deps.viewers.latest.games.get(id) ?? 0;
    return new Response(JSON.stringify({ id, viewers }), { headers: HEADERS });
  });

  return app;
}
