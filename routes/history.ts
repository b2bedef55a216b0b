/**
 * `GET /api/games/{id}/history`: who changed a game, with what request, when, and the version
 * each change got, newest first (core/audit.ts). Only a token for every game may read it: it
 * names scorers and shows what they sent. A deleted game's history stays readable as long as its
 * entries are kept; a game that never existed (or whose entries all expired) is 404.
 */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { requireUnscoped } from "../http/auth.ts";
import { gameId } from "../http/params.ts";
import { HttpProblem } from "../http/problem.ts";

export function historyRoutes(deps: AppDeps): Hono<AppEnv> {
  const { store, credentials } = deps;
  const app = new Hono<AppEnv>();

  app.get("/games/:id/history", async (c) => {
    const principal = await credentials.authenticate(c.req.header("authorization"));
    const id = gameId(c.req.param("id"));
    requireUnscoped(principal, "read the history");
    const entries = await store.history(id);
    if (entries.length === 0 && !(await store.get(id))) {
      throw new HttpProblem("not-found", `no game "${id}" and no history of one`);
    }
    return new Response(JSON.stringify({ id, entries }), {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  });

  return app;
}
