/**
 * One version, said the same everywhere: `GET /version`, the OpenAPI document and CHANGELOG.md's
 * newest section all follow `core/version.ts`; and the license the README names is the one the
 * repository holds.
 */
import assert from "node:assert/strict";
import { VERSION } from "../core/version.ts";
import { call } from "./support/http.ts";
import { startServer } from "./support/server.ts";

const read = (path: string) => Deno.readTextFile(new URL(`../${path}`, import.meta.url));

Deno.test("GET /version answers the version of core/version.ts, and the OpenAPI document says it too", async () => {
  assert.match(VERSION, /^\d+\.\d+\.\d+(-dev)?$/);
  await using server = await startServer();
  const answer = await call(server.url, "/version");
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("content-type"), "application/json");
  assert.deepEqual(answer.json, { version: VERSION });
  const document = await call(server.url, "/openapi.json");
  assert.equal(document.json.info.version, VERSION);
});

Deno.test("CHANGELOG.md's newest section is this version, unreleased while it ends in -dev", async () => {
  const changelog = await read("CHANGELOG.md");
  const sections = [...changelog.matchAll(/^## \[(\d+\.\d+\.\d+)\] — (.+)$/gm)];
  assert.ok(sections.length >= 2, "v1 and v2");
  const [newest] = sections;
  assert.equal(newest![1], VERSION.replace(/-dev$/, ""));
  if (VERSION.endsWith("-dev")) assert.equal(newest![2], "unreleased");
  else assert.match(newest![2]!, /^\d{4}-\d\d-\d\d$/, "a released version has its date");
  assert.equal(sections.at(-1)![1], "1.0.0");
});

Deno.test("the repository's LICENSE is the Apache License 2.0 the README names", async () => {
  const license = await read("LICENSE");
  assert.match(license, /^\s*Apache License\s+Version 2\.0, January 2004/);
  assert.match(license, /3\. Grant of Patent License\./);
  assert.match(await read("README.md"), /Apache License 2\.0/);
});
