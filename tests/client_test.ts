/**
 * The client library (client/scoreline.js) on its own and as the service serves it: its timer
 * arithmetic against the service's core/timer.ts, its JSON Patch against the service's diffs,
 * its refusals of options that cannot work, `/client.js` and `/client.d.ts` with their headers
 * and content-hashed URLs, and a Deno program type-checked against the served declarations.
 */
import assert from "node:assert/strict";
import { applyPatch, Scorer, timerMs, watch } from "../client/scoreline.js";
import { diff } from "../core/json_patch.ts";
import { VERSION } from "../core/version.ts";
import type { Timer } from "../core/schema.ts";
import { timerMs as serverTimerMs } from "../core/timer.ts";
import { call } from "./support/http.ts";
import { Random, runSeed } from "./support/random.ts";
import { mutate, randomValue } from "./support/random_json.ts";
import { startServer } from "./support/server.ts";

const CLIENT = new URL("../client/", import.meta.url);

Deno.test("timerMs of the client library agrees with the service's core/timer.ts on 5,000 random timers", () => {
  const random = new Random(runSeed("CLIENT_TIMER_SEED"));
  const base = Date.UTC(2026, 11, 7, 18, 0, 0);
  for (let i = 0; i < 5_000; i++) {
    const direction = random.pick(["up", "down"] as const);
    const timer: Timer = {
      running: random.chance(0.6),
      elapsedMs: random.int(0, 5_400_000),
      at: new Date(base + random.int(-3_600_000, 3_600_000)).toISOString(),
      direction,
    };
    if (direction === "down" || random.chance(0.5)) {
      timer.limitMs = random.int(Math.max(1, timer.elapsedMs), 6_000_000);
    }
    // Times before `at` too: a timer stamped by another instance whose clock is a little ahead.
    const now = base + random.int(-3_600_000, 90_000_000);
    assert.equal(
      timerMs({ timer }, now),
      serverTimerMs({ timer }, now),
      JSON.stringify({ timer, now }),
    );
  }
  assert.equal(timerMs({}, base), null);
  assert.equal(serverTimerMs({}, base), null);
});

Deno.test("applyPatch gives exactly the target of the service's own diff on 5,000 random pairs, and never changes what it was given", () => {
  const random = new Random(runSeed("CLIENT_PATCH_SEED"));
  for (let i = 0; i < 5_000; i++) {
    const from = randomValue(random, 0);
    const to = mutate(random, from, 0);
    const before = structuredClone(from);
    const ops = diff(from, to);
    assert.deepEqual(applyPatch(from, ops), to, `case ${i}: ${JSON.stringify({ from, to, ops })}`);
    assert.deepEqual(from, before, `case ${i}: the document given is unchanged`);
  }
});

Deno.test("applyPatch knows move, copy and test, and refuses operations that do not apply", () => {
  const doc = { a: { b: [1, 2, 3] }, "c/d": "x", "e~f": 1 };
  assert.deepEqual(
    applyPatch(doc, [
      { op: "move", from: "/a/b/0", path: "/a/b/-" },
      { op: "copy", from: "/c~1d", path: "/g" },
      { op: "test", path: "/e~0f", value: 1 },
      { op: "replace", path: "/e~0f", value: 2 },
    ]),
    { a: { b: [2, 3, 1] }, "c/d": "x", "e~f": 2, g: "x" },
  );
  assert.deepEqual(doc, { a: { b: [1, 2, 3] }, "c/d": "x", "e~f": 1 });
  for (
    const ops of [
      [{ op: "remove", path: "/nope" }],
      [{ op: "replace", path: "/a/x", value: 1 }],
      [{ op: "add", path: "/a/b/9", value: 1 }],
      [{ op: "add", path: "/a/b/01", value: 1 }],
      [{ op: "test", path: "/c~1d", value: "y" }],
      [{ op: "add", path: "/nope/deeper", value: 1 }],
    ] as const
  ) {
    assert.throws(() => applyPatch(doc, [...ops]), Error, JSON.stringify(ops));
  }
});

Deno.test("watch and Scorer refuse options that cannot work at once, with a TypeError naming the option", () => {
  const server = "http://127.0.0.1:9";
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ server, game: "Not An Id" }, /game must be a game id/],
    [{ server, game: "a", games: ["b"] }, /one of game, games, competition/],
    [{ server, games: [] }, /games must name 1 to 100 games/],
    [{ server, games: Array.from({ length: 101 }, (_, i) => `g${i}`) }, /1 to 100/],
    [{ server, competition: "x y" }, /competition must be a game id/],
    [{ server, transport: "carrier-pigeon" }, /transport must be one of/],
    [{ server: "ftp://example.com" }, /http: or https:/],
    [{}, /server is required/],
    [{ server, transport: "websocket", WebSocket: null }, /no WebSocket/],
    [{ server, retryMinMs: -1 }, /retryMinMs must be a non-negative number/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => watch(options as Parameters<typeof watch>[0]),
      (e: Error) => e instanceof TypeError && message.test(e.message),
      JSON.stringify(options),
    );
  }
  assert.throws(() => new Scorer({ server, token: "" }), /token is required/);
});

Deno.test("client/scoreline.js has no dependencies: it imports nothing", async () => {
  const text = await Deno.readTextFile(new URL("scoreline.js", CLIENT));
  assert.doesNotMatch(text, /^\s*import\s|^\s*export\s[^;]*\sfrom\s|\bimport\s*\(/m);
  assert.ok(text.startsWith('// @ts-self-types="./scoreline.d.ts"'));
});

Deno.test("client/package.json is ready to publish: name, version, exports, types, files, license", async () => {
  const pkg = JSON.parse(await Deno.readTextFile(new URL("package.json", CLIENT)));
  assert.equal(pkg.type, "module");
  assert.equal(pkg.version, VERSION, "the library is released with the service that serves it");
  assert.equal(pkg.license, "Apache-2.0");
  assert.deepEqual(pkg.exports, { ".": { types: "./scoreline.d.ts", default: "./scoreline.js" } });
  assert.equal(pkg.types, "./scoreline.d.ts");
  for (const file of pkg.files) await Deno.stat(new URL(file, CLIENT));
  assert.ok(pkg.files.includes("scoreline.js") && pkg.files.includes("scoreline.d.ts"));
});

Deno.test("GET /client.js is a module any site may import, short-cached, and immutable under its hash", async () => {
  await using server = await startServer();
  const plain = await call(server.url, "/client.js", { headers: { origin: "https://a.example" } });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(plain.headers.get("access-control-allow-origin"), "*");
  assert.equal(plain.headers.get("cross-origin-resource-policy"), "cross-origin");
  assert.equal(plain.headers.get("cache-control"), "public, max-age=300");
  const source = await Deno.readTextFile(new URL("scoreline.js", CLIENT));
  const types = await call(server.url, "/client.d.ts");
  const typesHash = types.headers.get("etag")!.replaceAll('"', "");
  // The served module names its types at /client.d.ts of its own version; the rest is the file.
  assert.equal(
    plain.text,
    source.replace("./scoreline.d.ts", `./client.d.ts?v=${typesHash}`),
  );
  const hash = plain.headers.get("etag")!.replaceAll('"', "");
  assert.match(hash, /^[0-9a-f]{16}$/);

  const pinned = await call(server.url, `/client.js?v=${hash}`);
  assert.equal(pinned.status, 200);
  assert.equal(pinned.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.equal(pinned.text, plain.text);
  const stale = await call(server.url, "/client.js?v=0000000000000000");
  assert.equal(stale.headers.get("cache-control"), "no-cache");

  const again = await call(server.url, "/client.js", { headers: { "if-none-match": `"${hash}"` } });
  assert.equal(again.status, 304);
  assert.equal(again.text, "");
  const post = await call(server.url, "/client.js", { method: "POST" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
});

Deno.test("GET /client.d.ts is the declarations, served as TypeScript to any origin", async () => {
  await using server = await startServer();
  const types = await call(server.url, "/client.d.ts");
  assert.equal(types.status, 200);
  assert.equal(types.headers.get("content-type"), "application/typescript; charset=utf-8");
  assert.equal(types.headers.get("access-control-allow-origin"), "*");
  assert.equal(types.headers.get("cross-origin-resource-policy"), "cross-origin");
  assert.equal(types.text, await Deno.readTextFile(new URL("scoreline.d.ts", CLIENT)));
  const hash = types.headers.get("etag")!.replaceAll('"', "");
  const pinned = await call(server.url, `/client.d.ts?v=${hash}`);
  assert.equal(pinned.headers.get("cache-control"), "public, max-age=31536000, immutable");
});

Deno.test("a Deno program that imports /client.js from the service is type-checked against /client.d.ts", async () => {
  await using server = await startServer();
  const dir = await Deno.makeTempDir({ prefix: "scoreline-client-check-" });
  try {
    const host = new URL(server.url).host;
    const check = async (body: string) => {
      const file = `${dir}/user_${crypto.randomUUID()}.ts`;
      await Deno.writeTextFile(
        file,
        `import { watch, timerMs, Scorer } from "${server.url}/client.js";\n${body}\n`,
      );
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["check", "--quiet", `--allow-import=${host}`, "--no-config", "--no-lock", file],
        env: { DENO_DIR: `${dir}/cache`, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: output.code, text: new TextDecoder().decode(output.stderr) };
    };
    const good = await check(`
const scores = watch({ server: "${server.url}", games: ["a", "b"], transport: "auto" });
scores.addEventListener("change", (e) => {
  const game = e.detail.games.get("a");
  const shown: number | null = game ? timerMs(game, scores.now()) : null;
  console.log(shown, e.detail.changed.length, game?.home.score);
});
scores.addEventListener("status", (e) => console.log(e.detail.transport, e.detail.connected));
scores.setScope({ competition: "cup" });
const scorer = new Scorer({ server: "${server.url}", token: "t" });
const game: Promise<{ version: number }> = scorer.score("a", "home", 1, { ifMatch: 3 });
console.log(game);
await scores.close();`);
    assert.equal(good.code, 0, good.text);
    const bad = await check(`
const scores = watch({ server: "x", game: "a" });
scores.addEventListener("change", (e) => { const n: string = e.detail.games.get("a")!.home.score; console.log(n); });
new Scorer({ server: "x", token: "t" }).score("a", "middle", 1);`);
    assert.notEqual(bad.code, 0, "a program that misuses the library does not type-check");
    assert.match(bad.text, /Type 'number' is not assignable to type 'string'/);
    assert.match(bad.text, /"middle"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
