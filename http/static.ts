/**
 * The files in `static/`, the one place they are read and served from: `/widget.js` and
 * `/static/labels.js` (loaded by other sites, so they keep one URL and a short cache life),
 * `/static/kiosk.css` (linked only by our pages, with `?v=<hash>` so a screen reloading every few
 * seconds never asks for it again) and the scorer console's files (pages/console.ts). Files are
 * read on first use, not at import, and served from memory with a strong ETag, so a phone on a
 * slow venue network revalidates with a 304.
 */
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import { ifNoneMatchHits } from "./conditions.ts";
import { HttpProblem } from "./problem.ts";

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

const ASSETS = {
  "widget.js": JS,
  "labels.js": JS,
  "kiosk.css": CSS,
  "console/index.html": "text/html; charset=utf-8",
  "console/console.js": JS,
  "console/writer.js": JS,
  "console/console.css": CSS,
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
/**
 * What other sites load as module scripts: a CORS request (the cors middleware answers `*`),
 * including from sites that isolate themselves with Cross-Origin-Embedder-Policy.
 */
const SHARED_SCRIPT = {
  "cache-control": `public, max-age=${WIDGET_MAX_AGE}`,
  "cross-origin-resource-policy": "cross-origin",
};
const IMMUTABLE = "public, max-age=31536000, immutable";

export class StaticAssets {
  readonly #dir: URL;
  readonly #loaded = new Map<AssetName, Promise<Asset>>();

  constructor(dir: URL = new URL("../static/", import.meta.url)) {
    this.#dir = dir;
  }

  /** Whether `name` is one of the files served. */
  static has(name: string): name is AssetName {
    return Object.hasOwn(ASSETS, name);
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
    return serveAsset(await assets.get("widget.js"), c.req.raw.headers, SHARED_SCRIPT);
  });

  app.get("/static/:name", async (c) => {
    const name = c.req.param("name");
    if (name === "labels.js") {
      return serveAsset(await assets.get(name), c.req.raw.headers, SHARED_SCRIPT);
    }
    if (name !== "kiosk.css") throw new HttpProblem("not-found", `no static file "${name}"`);
    const asset = await assets.get(name);
    const current = c.req.query("v") === asset.hash;
    return serveAsset(asset, c.req.raw.headers, {
      "cache-control": current ? IMMUTABLE : "no-cache",
    });
  });

  return app;
}

/** An asset, or 304 when the request already holds it; `headers` may replace the content type. */
export function serveAsset(
  asset: Asset,
  request: Headers,
  headers: Record<string, string>,
): Response {
  const etag = `"${asset.hash}"`;
  if (ifNoneMatchHits(request, etag)) {
    return new Response(null, { status: 304, headers: { ...headers, etag } });
  }
  return new Response(asset.bytes, {
    headers: { "content-type": asset.contentType, ...headers, etag },
  });
}
