/**
 * The files in `static/` and `client/`, the one place they are read and served from: `/widget.js`
 * and `/static/labels.js` (loaded by other sites, so they keep one URL and a short cache life),
 * `/static/kiosk.css` (linked only by our pages, with `?v=<hash>` so a screen reloading every few
 * seconds never asks for it again), the client library `/client.js` with its types
 * `/client.d.ts` (both: one URL with a short cache life for other sites, and `?v=<hash>` cached
 * for a year for whoever knows the hash) and the scorer console's files (pages/console.ts). Files
 * are read on first use, not at import, and served from memory with a strong ETag, so a phone on
 * a slow venue network revalidates with a 304.
 */
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import { ifNoneMatchHits } from "./conditions.ts";
import { HttpProblem } from "./problem.ts";

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";
/** What Deno reads as TypeScript declarations when a user imports /client.js from the service. */
const TS = "application/typescript; charset=utf-8";

const ASSETS = {
  "widget.js": JS,
  "labels.js": JS,
  "kiosk.css": CSS,
  "console/index.html": "text/html; charset=utf-8",
  "console/console.js": JS,
  "console/intents.js": JS,
  "console/console.css": CSS,
  "client.js": JS,
  "client.d.ts": TS,
} as const;

/** The client library's files in `client/`, by the name they are served under. */
const CLIENT_SOURCES: Partial<Record<AssetName, string>> = {
  "client.js": "scoreline.js",
  "client.d.ts": "scoreline.d.ts",
};
/** How client/scoreline.js names its types, for the package; served, they are /client.d.ts. */
const SELF_TYPES = '// @ts-self-types="./scoreline.d.ts"';

/**
 * Our scripts' imports of files that are served with a short cache life (other sites load them by
 * one URL), and the file each names. Served, the import carries `?v=<hash>` of the version served
 * beside it, cached for a year: a browser that still holds /widget.js from before a deploy also
 * holds the library fetched with it under that URL (independent 5-minute caches of the two plain
 * URLs could pair an old one with a new one), and the console's `no-cache` files never run with a
 * /client.js cached from before. An old `?v=` gets the current file with `no-cache`.
 */
const PINNED_IMPORTS: Partial<Record<AssetName, ReadonlyArray<[specifier: string, AssetName]>>> = {
  "widget.js": [["./client.js", "client.js"], ["./static/labels.js", "labels.js"]],
  "console/console.js": [["../client.js", "client.js"]],
};

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
  readonly #clientDir: URL;
  readonly #loaded = new Map<AssetName, Promise<Asset>>();

  constructor(
    dir: URL = new URL("../static/", import.meta.url),
    clientDir: URL = new URL("../client/", import.meta.url),
  ) {
    this.#dir = dir;
    this.#clientDir = clientDir;
  }

  /** Whether `name` is one of the files served. */
  static has(name: string): name is AssetName {
    return Object.hasOwn(ASSETS, name);
  }

  get(name: AssetName): Promise<Asset> {
    let asset = this.#loaded.get(name);
    if (!asset) {
      asset = name === "client.js"
        ? this.#loadClient()
        : PINNED_IMPORTS[name]
        ? this.#loadPinned(name, PINNED_IMPORTS[name])
        : this.#load(name);
      // A failed read is retried by the next request instead of being remembered.
      asset.catch(() => this.#loaded.delete(name));
      this.#loaded.set(name, asset);
    }
    return asset;
  }

  /**
   * The URL our pages link a file by: it changes whenever the file does (`/client.js?v=<hash>`
   * for the client library, `/static/<name>?v=<hash>` for the rest).
   */
  async url(name: AssetName): Promise<string> {
    const hash = (await this.get(name)).hash;
    return CLIENT_SOURCES[name] ? `/${name}?v=${hash}` : `/static/${name}?v=${hash}`;
  }

  #load(name: AssetName): Promise<Asset> {
    const source = CLIENT_SOURCES[name];
    const url = source ? new URL(source, this.#clientDir) : new URL(name, this.#dir);
    return Deno.readFile(url).then((bytes) => assetOf(bytes, ASSETS[name]));
  }

  /**
   * The module as served: its `@ts-self-types` points at /client.d.ts of the very version it
   * was served with, so a Deno user of `/client.js?v=<hash>` is checked against matching types
   * for as long as that URL is cached (a year).
   */
  async #loadClient(): Promise<Asset> {
    const types = await this.get("client.d.ts");
    const text = await Deno.readTextFile(new URL(CLIENT_SOURCES["client.js"]!, this.#clientDir));
    if (!text.startsWith(SELF_TYPES)) {
      throw new Error(`client/scoreline.js must begin with ${SELF_TYPES}`);
    }
    const served = `// @ts-self-types="./client.d.ts?v=${types.hash}"${
      text.slice(SELF_TYPES.length)
    }`;
    return assetOf(new TextEncoder().encode(served), ASSETS["client.js"]);
  }

  /** A script whose imports name the versions served beside it (PINNED_IMPORTS). */
  async #loadPinned(
    name: AssetName,
    imports: ReadonlyArray<[specifier: string, AssetName]>,
  ): Promise<Asset> {
    let text = await Deno.readTextFile(new URL(name, this.#dir));
    for (const [specifier, dependency] of imports) {
      const from = `from "${specifier}";`;
      // A renamed import would otherwise go out unpinned without anyone noticing.
      if (!text.includes(from)) throw new Error(`static/${name} no longer imports ${specifier}`);
      const { hash } = await this.get(dependency);
      text = text.replace(from, `from "${specifier}?v=${hash}";`);
    }
    return assetOf(new TextEncoder().encode(text), ASSETS[name]);
  }
}

async function assetOf(bytes: Uint8Array<ArrayBuffer>, contentType: string): Promise<Asset> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hash = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return { bytes, contentType, hash };
}

export function staticRoutes(assets: StaticAssets): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/widget.js", async (c) => {
    return serveAsset(await assets.get("widget.js"), c.req.raw.headers, SHARED_SCRIPT);
  });

  // The client library and the labels: sites import the plain URL (a fix reaches them within
  // minutes); our own pages, the widget and the console import `?v=<hash>` (PINNED_IMPORTS),
  // which never changes and is cached for a year.
  const shared = async (name: AssetName, v: string | undefined, request: Headers) => {
    const asset = await assets.get(name);
    const cacheControl = v === undefined
      ? SHARED_SCRIPT["cache-control"]
      : v === asset.hash
      ? IMMUTABLE
      : "no-cache";
    return serveAsset(asset, request, { ...SHARED_SCRIPT, "cache-control": cacheControl });
  };
  for (const name of ["client.js", "client.d.ts"] as const) {
    app.get(`/${name}`, (c) => shared(name, c.req.query("v"), c.req.raw.headers));
  }

  app.get("/static/:name", async (c) => {
    const name = c.req.param("name");
    if (name === "labels.js") return shared(name, c.req.query("v"), c.req.raw.headers);
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
