/**
 * The scorer console: `/console` (a page) and its files under `/console/`, served from
 * `static/console/` as they are (no build step). Files are read on first use and kept, each
 * with an ETag of its content, so a phone on a slow venue network revalidates with a 304.
 *
 * The page runs JavaScript, so its policy allows scripts from this origin only (never inline),
 * and it may not be framed (a framed console could be clickjacked into scoring).
 */
import { Hono } from "hono";
import type { AppEnv } from "../http/env.ts";
import { htmlResponse } from "../http/html.ts";
import { HttpProblem } from "../http/problem.ts";

const FILES: Record<string, string> = {
  "console.js": "text/javascript; charset=utf-8",
  "writer.js": "text/javascript; charset=utf-8",
  "console.css": "text/css; charset=utf-8",
};

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
}

export function consoleRoutes(
  dir: URL = new URL("../static/console/", import.meta.url),
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const cache = new Map<string, Promise<Asset>>();

  const load = (name: string): Promise<Asset> => {
    let asset = cache.get(name);
    if (!asset) {
      asset = read(new URL(name, dir));
      cache.set(name, asset);
      asset.catch(() => cache.delete(name)); // a failed read is retried on the next request
    }
    return asset;
  };

  app.get("/console", async (c) => {
    const { body, etag } = await load("index.html");
    if (c.req.header("if-none-match") === etag) return notModified(etag);
    return htmlResponse(new TextDecoder().decode(body), {
      policy: { scripts: "self" },
      headers: { etag, "cache-control": "no-cache" },
    });
  });
  app.get("/console/", (c) => c.redirect("/console", 301));

  app.get("/console/:file", async (c) => {
    const name = c.req.param("file");
    const type = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
    if (!type) throw new HttpProblem("not-found", "no such console file");
    const { body, etag } = await load(name);
    if (c.req.header("if-none-match") === etag) return notModified(etag);
    return new Response(body, {
      headers: {
        "content-type": type,
        etag,
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      },
    });
  });

  return app;
}

async function read(url: URL): Promise<Asset> {
  const body = await Deno.readFile(url);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  const hex = Array.from(digest.slice(0, 12), (b) => b.toString(16).padStart(2, "0")).join("");
  return { body, etag: `"${hex}"` };
}

function notModified(etag: string): Response {
  return new Response(null, { status: 304, headers: { etag, "cache-control": "no-cache" } });
}
