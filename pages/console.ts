/**
 * The scorer console: `/console` (a page) and its files under `/console/`, served from
 * `static/console/` as they are (no build step) through the one static-assets module.
 *
 * The page runs JavaScript, so its policy allows scripts from this origin only (never inline),
 * and it may not be framed (a framed console could be clickjacked into scoring).
 */
import { Hono } from "hono";
import type { AppEnv } from "../http/env.ts";
import { pageHeaders } from "../http/html.ts";
import { HttpProblem } from "../http/problem.ts";
import { serveAsset, StaticAssets } from "../http/static.ts";

export function consoleRoutes(assets: StaticAssets): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/console", async (c) => {
    const page = await assets.get("console/index.html");
    return serveAsset(page, c.req.raw.headers, {
      ...pageHeaders({ scripts: "self" }),
      "cache-control": "no-cache",
    });
  });
  app.get("/console/", (c) => c.redirect("/console", 301));

  app.get("/console/:file", async (c) => {
    const name = `console/${c.req.param("file")}`;
    if (!StaticAssets.has(name) || name === "console/index.html") {
      throw new HttpProblem("not-found", "no such console file");
    }
    return serveAsset(await assets.get(name), c.req.raw.headers, { "cache-control": "no-cache" });
  });

  return app;
}
