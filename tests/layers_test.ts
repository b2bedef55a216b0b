/**
 * The layers of DESIGN.md, checked on every import: core ← store ← config ← http ←
 * routes / feeds / pages ← app ← main. An import that points up (or sideways between routes,
 * feeds and pages) fails here, type imports included, so the layout stays readable at a glance.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** Each layer may import its own files and any layer with a lower rank. */
const LAYERS: { name: string; rank: number; holds: (path: string) => boolean }[] = [
  { name: "core", rank: 0, holds: (p) => p.startsWith("core/") },
  { name: "store", rank: 1, holds: (p) => p.startsWith("store/") },
  { name: "config", rank: 2, holds: (p) => p === "config.ts" },
  { name: "http", rank: 3, holds: (p) => p.startsWith("http/") },
  { name: "routes", rank: 4, holds: (p) => p.startsWith("routes/") },
  { name: "feeds", rank: 4, holds: (p) => p.startsWith("feeds/") },
  { name: "pages", rank: 4, holds: (p) => p.startsWith("pages/") },
  { name: "app", rank: 5, holds: (p) => p === "app.ts" },
  { name: "main", rank: 6, holds: (p) => p === "main.ts" },
];

/**
 * Modules that speak HTTP: the domain and the stores must not need them. (core/schema.ts takes
 * zod from @hono/zod-openapi, which is zod with names for the OpenAPI document, not HTTP.)
 */
const HTTP_MODULES = /^(hono|hono\/.*)$/;

function layerOf(path: string) {
  return LAYERS.find((layer) => layer.holds(path));
}

async function* sources(dir = ""): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(new URL(dir || ".", ROOT))) {
    const path = dir + entry.name;
    if (entry.isDirectory && layerOf(`${path}/`)) yield* sources(`${path}/`);
    else if (entry.isFile && path.endsWith(".ts") && layerOf(path)) yield path;
  }
}

/** Every module specifier a file imports or re-exports, static or dynamic, types included. */
export function specifiers(text: string): string[] {
  const found: string[] = [];
  const pattern =
    /(?:^|[\s;])(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']|(?:^|[\s;(])import\s*\(?\s*["']([^"']+)["']/gm;
  for (const match of text.matchAll(pattern)) found.push(match[1] ?? match[2]!);
  return found;
}

function resolve(from: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  const url = new URL(specifier, new URL(from, ROOT));
  return url.href.slice(ROOT.href.length);
}

Deno.test("the import scanner sees static, type-only, re-exported and dynamic imports", () => {
  const text = `import { a } from "./a.ts";
import type { B } from "../b.ts";
export { c } from "./c.ts";
export type { D } from "./d.ts";
import "./e.ts";
const f = await import("./f.ts");
import {
  g,
} from "./g.ts";`;
  assert.deepEqual(specifiers(text).sort(), [
    "../b.ts",
    "./a.ts",
    "./c.ts",
    "./d.ts",
    "./e.ts",
    "./f.ts",
    "./g.ts",
  ]);
});

Deno.test("every import points down the layers, never up or sideways, not even for a type", async () => {
  const wrong: string[] = [];
  let files = 0;
  for await (const path of sources()) {
    files++;
    const from = layerOf(path)!;
    const text = await Deno.readTextFile(new URL(path, ROOT));
    for (const specifier of specifiers(text)) {
      if (HTTP_MODULES.test(specifier) && from.rank <= 1) {
        wrong.push(
          `${path} (${from.name}) imports ${specifier}: the domain and stores speak no HTTP`,
        );
      }
      const target = resolve(path, specifier);
      if (target === null) continue;
      const to = layerOf(target);
      if (!to) continue; // static/, client/: assets, not layers
      const sameLayer = to.name === from.name;
      if (!sameLayer && to.rank >= from.rank) {
        wrong.push(`${path} (${from.name}) imports ${target} (${to.name})`);
      }
    }
  }
  assert.ok(files > 40, `scanned ${files} files`);
  assert.deepEqual(wrong, []);
});
