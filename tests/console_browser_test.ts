/**
 * The scorer console in a real browser (Debian's chromium through playwright-core, launched by
 * tests/support/browser.ts), as a phone: a touch screen, a narrow viewport. A scorer enters the
 * token, picks a game and scores; a double tap counts once; a goal another scorer recorded first
 * is refused and shown; the token never reaches the URL or lasting storage.
 */
import "./support/not_wsl.ts"; // first: before playwright-core loads
import assert from "node:assert/strict";
import { devices, type Page } from "playwright-core";

import { skipWithout } from "./support/binaries.ts";
import { launchBrowser } from "./support/browser.ts";
import { call, gameBody } from "./support/http.ts";
import { startServer, type TestServer, TOKEN } from "./support/server.ts";
import { timerMs } from "../client/scoreline.js";

const ignore = skipWithout("chromium");

async function withPhone(fn: (page: Page, server: TestServer) => Promise<void>): Promise<void> {
  await using chromium = await launchBrowser();
  const context = await chromium.browser.newContext({ ...devices["Pixel 7"] });
  const server = await startServer();
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error" && !/Failed to load resource/.test(message.text())) {
        errors.push(message.text());
      }
    });
    await fn(page, server);
    assert.deepEqual(errors, [], "no script errors and no CSP violations");
  } finally {
    await context.close();
    await server.close();
  }
}

/** Creates game "cup", Lions v Tigers at 0–0, and returns the PUT's answer. */
async function createCup(server: TestServer) {
  const put = await call(server.url, "/api/games/cup", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
  });
  assert.equal(put.status, 201);
  return put;
}

async function scoreOf(server: TestServer, side: "home" | "away"): Promise<number> {
  const answer = await call(server.url, "/api/games/cup");
  assert.equal(answer.status, 200);
  return answer.json[side].score;
}

/** Opens /console#cup, enters `token` and waits until the page shows the game. */
async function openCup(page: Page, server: TestServer, token: string): Promise<void> {
  await page.goto(`${server.url}/console#cup`);
  await page.locator("#token").fill(token);
  await page.getByRole("button", { name: "Start scoring" }).tap();
  await page.locator("#home-name").filter({ hasText: "Lions" }).waitFor();
}

/** Enters the token and opens the game, waiting for its live feed to show it. */
async function startScoring(page: Page, server: TestServer): Promise<void> {
  await page.goto(`${server.url}/console`);
  await page.locator("#token").fill(TOKEN);
  await page.getByRole("button", { name: "Start scoring" }).tap();
  await page.locator("#game").selectOption("cup");
  await page.locator("#home-name").filter({ hasText: "Lions" }).waitFor();
  await page.locator("#connection").filter({ hasText: "live" }).waitFor();
}

Deno.test({
  name: "on a phone, a scorer enters the token, picks the game and a double tap on +1 is one goal",
  ignore,
  fn: () =>
    withPhone(async (page, server) => {
      await createCup(server);
      await page.clock.install(); // time runs, and a test can jump it past the double-tap window
      await startScoring(page, server);
      await server.opened("ws"); // the client library's first choice, allowed by the CSP
      assert.ok(!page.url().includes(TOKEN), "the token is not in the URL");
      assert.equal(page.url(), `${server.url}/console#cup`);

      const plus = page.locator('.tap.plus[data-side="home"]');
      const box = (await plus.boundingBox())!;
      assert.ok(box.height >= 90 && box.width >= 120, `a big target (${box.width}×${box.height})`);
      await plus.dblclick();
      await page.locator("#message").filter({ hasText: "Lions 1 – 0 Tigers" }).waitFor();
      await page.locator("#home-score").filter({ hasText: /^1$/ }).waitFor();
      assert.equal(await scoreOf(server, "home"), 1, "two taps, one goal");

      // A tap after the double-tap window (700 ms on the page's clock) is a new goal.
      await page.clock.fastForward(1000);
      await plus.tap();
      await page.locator("#home-score").filter({ hasText: /^2$/ }).waitFor();
      assert.equal(await scoreOf(server, "home"), 2);

      const stored = await page.evaluate(() => ({
        session: sessionStorage.getItem("scoreline-token"),
        local: localStorage.length,
        // deno-lint-ignore no-explicit-any
        cookies: (globalThis as any).document.cookie,
      }));
      assert.deepEqual(stored, { session: TOKEN, local: 0, cookies: "" });
    }),
});

Deno.test({
  name:
    "when another scorer changed the game first, the console refuses the tap and shows the new score",
  ignore,
  fn: () =>
    withPhone(async (page, server) => {
      const put = await createCup(server);
      // The page's feed is held at version 1, as on a phone whose connection stalled: the tap is
      // then based on a state that is no longer current. The console reads through the client
      // library, which opens a WebSocket first: that socket is answered here, never by the server.
      const snapshot = { type: "snapshot", version: put.json.version, game: put.json };
      await page.routeWebSocket("**/api/games/cup/ws*", (socket) => {
        socket.send(JSON.stringify(snapshot));
        socket.send(JSON.stringify({ type: "ping", time: Date.now() }));
      });
      await openCup(page, server, TOKEN);
      const other = await call(server.url, "/api/games/cup/score", {
        method: "POST",
        token: TOKEN,
        body: { side: "away", points: 1 },
      });
      assert.equal(other.status, 200);
      assert.equal(await page.locator("#away-score").textContent(), "0", "the page is stale");
      await page.locator('.tap.plus[data-side="away"]').tap();
      await page.locator("#message").filter({ hasText: "changed before your tap" }).waitFor();
      await page.locator("#away-score").filter({ hasText: /^1$/ }).waitFor();
      assert.equal(await scoreOf(server, "away"), 1, "the goal was counted once, not twice");
      const message = await page.locator("#message").textContent();
      assert.match(message!, /It is now Lions 0 – 1 Tigers/);
    }),
});

Deno.test({
  name: "a token the service refuses sends the scorer back to the token form",
  ignore,
  fn: () =>
    withPhone(async (page, server) => {
      await createCup(server);
      await openCup(page, server, "this-is-not-a-valid-token");
      await page.locator('.tap.plus[data-side="home"]').tap();
      await page.locator("#token-form").waitFor({ state: "visible" });
      await page.locator("#message").filter({ hasText: "not accepted" }).waitFor();
      assert.equal(await page.evaluate(() => sessionStorage.getItem("scoreline-token")), null);
      assert.equal(await scoreOf(server, "home"), 0);
    }),
});

/** The seconds a `mm:ss` text shows. */
function secondsOf(text: string): number {
  const match = /^(\d+):(\d\d)$/.exec(text.trim());
  assert.ok(match, `a mm:ss clock, not ${JSON.stringify(text)}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Asserts that the page's clock shows what the server's timer reads now, within a second. */
async function clockAgrees(page: Page, server: TestServer): Promise<void> {
  const game = (await call(server.url, "/api/games/cup")).json;
  const before = timerMs(game, Date.now())!;
  const shown = secondsOf((await page.locator("#timer").textContent())!);
  const after = timerMs(game, Date.now())!;
  assert.ok(
    shown >= Math.floor(before / 1000) - 1 && shown <= Math.floor(after / 1000) + 1,
    `the console shows ${shown} s, the server's timer reads ${before}–${after} ms`,
  );
}

Deno.test({
  name:
    "on a phone whose clock is 7 minutes slow, the start/stop toggle runs the match clock and it ticks in step with the server",
  ignore,
  fn: () =>
    withPhone(async (page, server) => {
      await createCup(server);
      // The device's clock is wrong; the console must read the server's time, not this one.
      await page.addInitScript(() => {
        const real = Date.now;
        Date.now = () => real() - 7 * 60_000;
      });
      await startScoring(page, server);
      const toggle = page.locator("#timer-toggle");
      assert.equal(await toggle.textContent(), "Start clock");
      assert.equal(await toggle.getAttribute("aria-pressed"), "false");
      await toggle.tap();
      await page.locator("#timer-toggle").filter({ hasText: "Stop clock" }).waitFor();
      assert.equal(await toggle.getAttribute("aria-pressed"), "true");
      assert.equal((await call(server.url, "/api/games/cup")).json.timer.running, true);

      // Another screen sets the clock to 12:34 (it keeps running): the phone follows and ticks.
      const set = await call(server.url, "/api/games/cup/timer", {
        method: "POST",
        token: TOKEN,
        body: { action: "set", elapsedMs: 754_000 },
      });
      assert.equal(set.status, 200);
      await page.locator("#timer").filter({ hasText: /^12:3\d$/ }).waitFor();
      await clockAgrees(page, server);
      const seen = (await page.locator("#timer").textContent())!;
      // It ticks by itself.
      await page.locator("#timer").filter({ hasNotText: new RegExp(`^${seen}$`) }).waitFor();
      await clockAgrees(page, server);

      await toggle.tap();
      await page.locator("#timer-toggle").filter({ hasText: "Start clock" }).waitFor();
      const stopped = (await call(server.url, "/api/games/cup")).json;
      assert.equal(stopped.timer.running, false);
      await page.locator("#timer").filter({
        hasText: new RegExp(
          `^${String(Math.floor(stopped.timer.elapsedMs / 60_000)).padStart(2, "0")}:${
            String(Math.floor(stopped.timer.elapsedMs / 1000) % 60).padStart(2, "0")
          }$`,
        ),
      }).waitFor();
    }),
});

Deno.test({
  name:
    "a goal with the scorer's name, a double-tapped goal and an undo each count once; a hostile name is shown as text",
  ignore,
  fn: () =>
    withPhone(async (page, server) => {
      await createCup(server);
      await startScoring(page, server);
      await page.locator("#scorer-name").fill("Okafor");
      await page.locator('.tap.goal[data-side="home"]').dblclick();
      await page.locator("#home-score").filter({ hasText: /^1$/ }).waitFor();
      await page.locator("#timeline li").filter({ hasText: "Okafor" }).waitFor();
      assert.equal(await page.locator("#scorer-name").inputValue(), "", "ready for the next");

      const hostile = `<img src=x onerror="window.pwned=1">`;
      await page.locator("#scorer-name").fill(hostile);
      await page.locator('.tap.goal[data-side="away"]').tap();
      await page.locator("#away-score").filter({ hasText: /^1$/ }).waitFor();
      const newest = page.locator("#timeline li").first();
      await newest.locator(".text").filter({ hasText: hostile }).waitFor();
      assert.equal(await newest.locator(".text").textContent(), hostile, "shown as it was typed");
      assert.equal(await page.locator("#timeline img, #message img").count(), 0);
      assert.equal(await page.evaluate(() => "pwned" in globalThis), false);
      assert.equal(await page.locator("#timeline li").count(), 2);

      await page.getByRole("button", { name: "Undo last event" }).tap();
      await page.locator("#away-score").filter({ hasText: /^0$/ }).waitFor();
      await page.locator("#message").filter({ hasText: "Undone: goal Tigers" }).waitFor();
      assert.equal(await page.locator("#timeline li").count(), 1);
      // The game list names the game with the score shown, not the one it was loaded with.
      assert.match(
        (await page.locator("#game option:checked").textContent())!,
        /Lions 1 – 0 Tigers/,
      );

      const game = (await call(server.url, "/api/games/cup")).json;
      assert.equal(game.home.score, 1);
      assert.equal(game.away.score, 0);
      assert.deepEqual(
        game.events.map((e: { kind: string; side: string; points: number; text: string }) => [
          e.kind,
          e.side,
          e.points,
          e.text,
        ]),
        [["goal", "home", 1, "Okafor"]],
        "two taps, one goal; the undone goal is gone",
      );
    }),
});

Deno.test({
  name:
    "a goal that got no answer through all the Scorer's retries is pending, and is sent again with its key once the feed is live",
  ignore,
  fn: () =>
    withPhone(async (page, server) => {
      await createCup(server);
      // The page's clock runs, and the test can jump it through the retries' back-off.
      await page.clock.install();
      // "Down" is what a phone sees while the service restarts behind a proxy: every request
      // of the game answered 502, every WebSocket closed at once.
      let down = false;
      const sockets: { close(): Promise<void> }[] = [];
      await page.routeWebSocket("**/api/games/cup/ws*", (socket) => {
        if (down) return void socket.close();
        socket.connectToServer();
        sockets.push(socket);
      });
      await page.route("**/api/games/cup/**", (route) =>
        down ? route.fulfill({ status: 502, body: "bad gateway" }) : route.fallback());
      const keys: string[] = [];
      page.on("request", (request) => {
        if (request.method() === "POST" && request.url().endsWith("/api/games/cup/events")) {
          keys.push(request.headers()["idempotency-key"]!);
        }
      });
      await startScoring(page, server);

      down = true;
      await Promise.all(sockets.map((socket) =>
        socket.close()
      ));
      await page.locator("#stale").filter({ hasText: "Not live" }).waitFor();
      await page.locator('.tap.goal[data-side="home"]').tap();
      const message = page.locator("#message");
      for (let i = 0; i < 60 && !/Not confirmed yet/.test((await message.textContent())!); i++) {
        await page.clock.fastForward(2_000); // the Scorer's back-off, at most 4 s a try
      }
      await message.filter({ hasText: "Not confirmed yet" }).waitFor();
      await page.locator("#retry").waitFor();
      assert.ok(keys.length > 1, `tried more than once (${keys.length})`);
      assert.equal(await scoreOf(server, "home"), 0, "nothing reached the service");

      down = false;
      const connection = page.locator("#connection");
      for (let i = 0; i < 60 && (await connection.textContent()) !== "live"; i++) {
        await page.clock.fastForward(1_000); // the feed's back-off, at most 5 s
      }
      await connection.filter({ hasText: /^live$/ }).waitFor();
      await page.locator("#home-score").filter({ hasText: /^1$/ }).waitFor();
      await message.filter({ hasText: "Saved: goal Lions" }).waitFor();
      assert.equal(await page.locator("#retry").isHidden(), true);
      assert.equal(await scoreOf(server, "home"), 1, "sent again by itself, counted once");
      assert.equal(new Set(keys).size, 1, `one key for every try (${keys.length} tries)`);
    }),
});
