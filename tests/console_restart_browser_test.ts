/**
 * The scorer console through a restart of the service behind nginx (issue 17.6): the real main.ts
 * as a child process on one SQLite file, nginx with the documented site in front, a phone in
 * Chromium. While the service is away nginx answers 502, which makes an EventSource give up for
 * good; the console reads through the client library's watch(), says clearly that it is not
 * live, and is live again by itself once the service answers. A goal tapped while the service
 * is away is retried with its Idempotency-Key and lands exactly once.
 */
import "./support/not_wsl.ts"; // first: before playwright-core loads
import assert from "node:assert/strict";
import { devices } from "playwright-core";

import { Scorer } from "../client/scoreline.js";
import { skipWithout } from "./support/binaries.ts";
import { launchBrowser } from "./support/browser.ts";
import { startNginx } from "./support/nginx.ts";
import { freePort, startMain } from "./support/process.ts";

const ignore = skipWithout("chromium") || skipWithout("nginx", "apt-get install nginx");
const TOKEN = "console-restart-token-0001";

Deno.test({
  name:
    "behind nginx, while the service restarts the console says it is not live, comes back by itself, and a goal tapped meanwhile lands exactly once",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "scoreline-console-restart-" });
    const port = freePort();
    const nginx = await startNginx(`127.0.0.1:${port}`);
    const env = {
      SCORELINE_DATA: `${dir}/scoreline.db`,
      SCORELINE_TOKENS: TOKEN,
      SCORELINE_WRITE_RATE: "0",
    };
    let child = await startMain(env, port);
    await using chromium = await launchBrowser();
    const context = await chromium.browser.newContext({ ...devices["Pixel 7"] });
    const errors: string[] = [];
    try {
      const direct = new Scorer({ server: child.url, token: TOKEN });
      await direct.put("cup", {
        status: "live",
        home: { name: "Lions" },
        away: { name: "Tigers" },
      });

      const page = await context.newPage();
      page.on("pageerror", (error) => errors.push(String(error)));
      // Every try of the goal: its key and the answer it got.
      const tries: { key: string; status: number | null }[] = [];
      page.on("requestfinished", async (request) => {
        if (request.method() !== "POST" || !request.url().endsWith("/api/games/cup/events")) return;
        const response = await request.response();
        tries.push({
          key: request.headers()["idempotency-key"]!,
          status: response?.status() ?? null,
        });
      });
      await page.goto(`${nginx.url}/console#cup`);
      await page.locator("#token").fill(TOKEN);
      await page.getByRole("button", { name: "Start scoring" }).tap();
      await page.locator("#home-name").filter({ hasText: "Lions" }).waitFor();
      await page.locator("#connection").filter({ hasText: /^live$/ }).waitFor();
      assert.equal(await page.locator("#stale").isHidden(), true);

      child.kill("SIGTERM");
      assert.equal((await child.exited).code, 0, child.lines.join("\n"));
      // Down: nginx answers 502 (an EventSource would give up for good on that). The console
      // says so, in words.
      const refused = await fetch(`${nginx.url}/api/games/cup/events`);
      await refused.body?.cancel();
      assert.equal(refused.status, 502);
      const stale = page.locator("#stale");
      await stale.filter({ hasText: "Not live" }).waitFor();
      assert.match((await stale.textContent())!, /may be old/);
      await page.locator("#connection").filter({ hasText: "reconnecting" }).waitFor();
      assert.equal(await page.locator("#board.stale").count(), 1, "the numbers are dimmed");

      // A goal while the service is away: the Scorer keeps trying with the same key.
      await page.locator("#scorer-name").fill("Late");
      const refusedTry = page.waitForResponse((response) =>
        response.request().method() === "POST" && response.url().endsWith("/cup/events") &&
        response.status() === 502
      );
      await page.locator('.tap.goal[data-side="home"]').tap();
      await page.locator("#message").filter({ hasText: "Sending" }).waitFor();
      await refusedTry; // tried while down, and tried again after

      child = await startMain(env, port);
      await page.locator("#home-score").filter({ hasText: /^1$/ }).waitFor({ timeout: 60_000 })
        .catch(async (error) => {
          const game = await (await fetch(`${child.url}/api/games/cup`)).text();
          const texts = await Promise.all(
            ["#message", "#stale", "#connection"].map((s) => page.locator(s).textContent()),
          );
          throw new Error(`${error.message}\n${texts.join("\n")}\nserver: ${game}`);
        });
      await page.locator("#connection").filter({ hasText: /^live$/ }).waitFor({
        timeout: 60_000,
      });
      await stale.waitFor({ state: "hidden" });
      assert.equal(await page.locator("#board.stale").count(), 0);

      // Live again: a write made elsewhere reaches the console through its feed.
      await new Scorer({ server: child.url, token: TOKEN }).score("cup", "away", 2);
      await page.locator("#away-score").filter({ hasText: /^2$/ }).waitFor();
      await page.locator("#timeline li").filter({ hasText: "Late" }).waitFor();

      const game = await (await fetch(`${child.url}/api/games/cup`)).json();
      assert.equal(game.home.score, 1, "the goal tapped while down counted once");
      assert.deepEqual(
        game.events.map((e: { kind: string; text: string }) => [e.kind, e.text]),
        [["goal", "Late"]],
      );
      assert.equal(new Set(tries.map((t) => t.key)).size, 1, "every try had the same key");
      assert.equal(tries.at(-1)?.status, 201);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await nginx.stop();
      child.kill("SIGTERM");
      await child.exited;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
