/**
 * The files in `static/`: `/widget.js` (linked by other sites, so it keeps one URL and a short
 * cache life) and `/static/kiosk.css` (linked only by our pages, with `?v=<hash>` so a screen
 * reloading every few seconds never asks for it again). Files are read on first use, not at
 * import, and served from memory with a strong ETag.
 */
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import { ifNoneMatchHits } from "./conditions.ts";
import { HttpProblem } from "./problem.ts";

const ASSETS = {
  "widget.js": "text/javascript; charset=utf-8",
  "kiosk.css": "text/css; charset=utf-8",
} as const;

export type AssetName = keyof typeof ASSETS;

export interface Asset {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
  /** The first 16 hex digits of the SHA-256 of the bytes: the cache-busting `v` and the ETag. */
  hash: string;
}

/** Seconds other sites' pages may use /widget.js before asking again: a fix reaches them soon. */
const WIDGET_MAX_AGE = 300;
const IMMUTABLE = "public, max-age=31536000, immutable";

export class StaticAssets {
  readonly #dir: URL;
  readonly #loaded = new Map<AssetName, Promise<Asset>>();

  constructor(dir: URL = new URL("../static/", import.meta.url)) {
    this.#dir = dir;
  }

  get(name: AssetName): Promise<Asset> {
    let asset = this.#loaded.get(name);
    if (!asset) {
      asset = load(new URL(name, this.#dir), ASSETS[name]);
      // A failed read is retried by the next request instead of being remembered.
      asset.catch(() => this.#loaded.delete(name));
      this.#loaded.set(name, asset);
    }
    return asset;
  }

  /** The URL our pages link a stylesheet by: it changes whenever the file does. */
  async url(name: AssetName): Promise<string> {
    return `/static/${name}?v=${(await this.get(name)).hash}`;
  }
}

async function load(url: URL, contentType: string): Promise<Asset> {
  const bytes = await Deno.readFile(url);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hash = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return { bytes, contentType, hash };
}

export function staticRoutes(assets: StaticAssets): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/widget.js", async (c) => {
    const asset = await assets.get("widget.js");
    return serve(asset, c.req.raw.headers, {
      "cache-control": `public, max-age=${WIDGET_MAX_AGE}`,
      // Other sites load it as a module script (a CORS request: the cors middleware answers
      // `*`), including sites that isolate themselves with Cross-Origin-Embedder-Policy.
      "cross-origin-resource-policy": "cross-origin",
    });
  });

  app.get("/static/:name", async (c) => {
    const name = c.req.param("name");
    if (name !== "kiosk.css") throw new HttpProblem("not-found", `no static file "${name}"`);
    const asset = await assets.get(name);
    const current = c.req.query("v") === asset.hash;
    return serve(asset, c.req.raw.headers, { "cache-control": current ? IMMUTABLE : "no-cache" });
  });

  return app;
}

function serve(asset: Asset, request: Headers, headers: Record<string, string>): Response {
  const etag = `"${asset.hash}"`;
  if (ifNoneMatchHits(request, etag)) {
    return new Response(null, { status: 304, headers: { ...headers, etag } });
  }
  return new Response(asset.bytes, {
    headers: { ...headers, etag, "content-type": asset.contentType },
  });
}
