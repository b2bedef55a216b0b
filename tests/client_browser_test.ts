/**
 * The client library in Chromium (Debian's, through playwright-core), from a site of another
 * origin, exactly as the README shows it: its plain HTML page (imports /client.js from the
 * service, shows a game live, ticks the timer) and its Preact component (Preact and htm from npm,
 * served to the page by the test beside it, rendered live). The README's code blocks are what
 * runs, with the example origin replaced by the test server's.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { Scorer } from "../client/scoreline.js";
import { skipWithout } from "./support/binaries.ts";
import { type HostFile, hostPage, launchBrowser } from "./support/browser.ts";
import { startServer, TOKEN } from "./support/server.ts";

const ignore = skipWithout("chromium");
const EXAMPLE = "https://scores.example";

/** The first code block in `language` under the README heading `heading`. */
async function readmeBlock(heading: string, language: string): Promise<string> {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf(`\n### ${heading}\n`));
  const match = new RegExp("```" + language + "\\n([\\s\\S]*?)\\n```").exec(section);
  assert.ok(match, `README has a ${language} block under "${heading}"`);
  return match[1]!;
}

/**
 * Where Deno keeps an npm package this project pins (deno.json), fetched by importing it here.
 * The import is not a literal, so the type checker does not follow it: Preact's declarations
 * bring in the DOM library, whose stream types clash with Deno's in every other test.
 */
async function npmPackageDir(name: string): Promise<string> {
  await import(name);
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const version = /@([^@/]+)$/.exec(config.imports[name])![1];
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const { npmCache } = JSON.parse(new TextDecoder().decode(info.stdout));
  return `${npmCache}/registry.npmjs.org/${name}/${version}`;
}

/** Every page error and failed request, so a broken page fails its test with a reason. */
function problemsOf(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  return problems;
}

Deno.test({
  name:
    "the README's plain HTML page, on another origin, imports /client.js, shows the game live over WebSocket and ticks its timer",
  ignore,
  async fn() {
    await using server = await startServer();
    const scorer = new Scorer({ server: server.url, token: TOKEN });
    const html = (await readmeBlock("A plain HTML page", "html")).replaceAll(EXAMPLE, server.url);
    await using host = hostPage(html);
    await using chrome = await launchBrowser();
    const page = await chrome.browser.newPage();
    const problems = problemsOf(page);
    await page.goto(host.url);
    await page.waitForSelector('body[style*="opacity: 1"]');
    assert.equal(await page.textContent("#score"), "Waiting for the game…");
    await scorer.put("cup-final", {
      status: "live",
      home: { name: "Lions" },
      away: { name: "Tigers" },
    });
    await page.waitForSelector('#score:text-is("Lions 0 – 0 Tigers")');
    await scorer.event("cup-final", { kind: "goal", side: "home", points: 1 });
    await page.waitForSelector('#score:text-is("Lions 1 – 0 Tigers")');
    await scorer.timer("cup-final", { action: "set", elapsedMs: 5_400_000 });
    await page.waitForSelector('#clock:text-is("90:00")');
    assert.equal(server.hub.open("ws"), 1, "one WebSocket, the preferred transport");
    assert.deepEqual(problems, []);
  },
});

Deno.test({
  name:
    "the README's Preact component renders a competition's games live in Chromium, Preact and htm from npm",
  ignore,
  async fn() {
    await using server = await startServer();
    const scorer = new Scorer({ server: server.url, token: TOKEN });
    await scorer.put("semi-1", {
      competition: "cup-2026",
      home: { name: "Lions" },
      away: { name: "Tigers" },
    });
    await scorer.put("other", {
      competition: "league",
      home: { name: "Owls" },
      away: { name: "Bears" },
    });
    const preact = await npmPackageDir("preact");
    const htm = await npmPackageDir("htm");
    const js = "text/javascript; charset=utf-8";
    const file = async (path: string): Promise<HostFile> => ({
      body: await Deno.readFile(path),
      type: js,
    });
    const files: Record<string, HostFile> = {
      "/npm/preact.mjs": await file(`${preact}/dist/preact.mjs`),
      "/npm/preact-hooks.mjs": await file(`${preact}/hooks/dist/hooks.mjs`),
      "/npm/htm.mjs": await file(`${htm}/dist/htm.module.js`),
      "/npm/htm-preact.mjs": await file(`${htm}/preact/index.module.js`),
    };
    const imports = {
      "preact": "/npm/preact.mjs",
      "preact/hooks": "/npm/preact-hooks.mjs",
      "htm": "/npm/htm.mjs",
      "htm/preact": "/npm/htm-preact.mjs",
    };
    const component = (await readmeBlock("A Preact component", "js")).replaceAll(
      EXAMPLE,
      server.url,
    );
    await using host = hostPage(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A league site</title>
<script type="importmap">${JSON.stringify({ imports })}</script></head>
<body><div id="app"></div><script type="module">${component}</script></body></html>`,
      files,
    );
    await using chrome = await launchBrowser();
    const page = await chrome.browser.newPage();
    const problems = problemsOf(page);
    await page.goto(host.url);
    const rows = () => page.$$eval("#app ul.live li", (items) => items.map((li) => li.textContent));
    await page.waitForSelector("#app ul.live li");
    assert.deepEqual(await rows(), ["Lions 0 – 0 Tigers"]);
    await scorer.score("semi-1", "away", 2);
    await scorer.put("semi-2", {
      competition: "cup-2026",
      home: { name: "Hawks" },
      away: { name: "Eagles" },
    });
    await scorer.score("other", "home", 5); // another competition: not on this board
    await page.waitForSelector("#app ul.live li:nth-child(2)");
    await page.waitForSelector('#app li:text-is("Lions 0 – 2 Tigers")');
    assert.deepEqual(await rows(), ["Lions 0 – 2 Tigers", "Hawks 0 – 0 Eagles"]);
    assert.deepEqual(problems, []);
  },
});
