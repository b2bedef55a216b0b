/**
 * The widget on the client library, in Chromium: one connection per server scoped with `games=`
 * and rescoped as elements come and go, the timer ticking on the server's time on a device whose
 * clock is minutes wrong, the timeline and viewer count, `<scoreline-board>`, the "not live" sign
 * through a 429 and through a restart behind nginx, and the league example page. Waits are on
 * DOM conditions and server events, never on time; the one bound asserted is the contract's
 * "within one second of the server's clock".
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { skipWithout } from "./support/binaries.ts";
import { ManualClock } from "./support/clock.ts";
import { call, gameBody } from "./support/http.ts";
import { startNginx } from "./support/nginx.ts";
import { type Child, freePort, startMain } from "./support/process.ts";
import {
  embedSiteHtml,
  loadEmbed,
  openSite,
  put,
  shows,
  soon,
  widgetHtml,
} from "./support/screens.ts";
import { startServer, TOKEN } from "./support/server.ts";

const ignore = skipWithout("chromium");
const XSS = "<img src=x onerror=alert(1)>";

/** Page-side readers of a board (plain JavaScript: Deno's types have no DOM). */
const BOARD_HELPERS = `
globalThis.boardRows = (selector = "scoreline-board") => {
  const root = document.querySelector(selector)?.shadowRoot;
  return [...(root?.querySelectorAll(".row") ?? [])].map((row) =>
    row.dataset.game + " " + row.querySelector(".hs").textContent + "-" +
      row.querySelector(".as").textContent);
};
`;

/** Every feed connection the page opens (requests to /api/ and WebSockets), as path?query. */
function recordFeeds(page: Page): string[] {
  const feeds: string[] = [];
  const add = (url: string) => {
    const { pathname, search } = new URL(url);
    if (pathname.startsWith("/api/")) feeds.push(pathname + search);
  };
  page.on("request", (request) => add(request.url()));
  page.on("websocket", (socket) => add(socket.url()));
  return feeds;
}

async function post(url: string, path: string, body: unknown): Promise<void> {
  const answer = await call(url, path, { method: "POST", token: TOKEN, body });
  assert.ok(answer.status === 200 || answer.status === 201, answer.text);
}

/** What the widget for `id` shows in `selector` (text, or null when hidden or missing). */
function shownText(page: Page, id: string, selector: string): Promise<string | null> {
  return page.evaluate(
    ([id, selector]) => {
      // deno-lint-ignore no-explicit-any
      const doc = (globalThis as any).document;
      const node = doc.querySelector(`scoreline-game[game="${id}"]`)?.shadowRoot
        ?.querySelector(selector);
      return node && !node.hidden ? node.textContent : null;
    },
    [id, selector],
  );
}

Deno.test({
  name:
    "five widgets open exactly one connection, scoped with games= to their games; adding and removing widgets rescopes it and loses no update",
  ignore,
  async fn() {
    await using server = await startServer();
    const ids = ["g1", "g2", "g3", "g4", "g5"];
    for (const id of [...ids, "g6", "elsewhere"]) await put(server.url, id, gameBody(0, 0));
    await using site = await openSite(widgetHtml(server.url, ids));
    const { page, problems } = site;
    const feeds = recordFeeds(page);
    await page.goto(site.url);
    for (const id of ids) await shows(page, id, "0-0");
    await soon(server.opened("ws"), "a WebSocket opened");
    assert.equal(feeds.length, 1, `one connection: ${feeds}`);
    const url = new URL(feeds[0]!, server.url);
    assert.equal(url.pathname, "/api/ws");
    assert.equal(url.searchParams.get("games"), "g1,g2,g3,g4,g5");
    assert.equal(server.hub.open("ws"), 1);

    // A sixth widget: the same watch follows one more game.
    const scopeOf = async (next: Promise<{ url(): string }>) =>
      new URL((await next).url()).searchParams.get("games");
    let next = page.waitForEvent("websocket");
    await page.evaluate(`document.body.append(Object.assign(
      document.createElement("scoreline-game"), { id: "added" }))`);
    await page.evaluate(`document.getElementById("added").setAttribute("game", "g6")`);
    assert.equal(await scopeOf(next), "g1,g2,g3,g4,g5,g6");
    await shows(page, "g6", "0-0");
    await put(server.url, "g6", gameBody(1, 0));
    await shows(page, "g6", "1-0");

    // One removed: the watch lets its game go, and the others keep updating.
    next = page.waitForEvent("websocket");
    await page.evaluate(`document.querySelector('scoreline-game[game="g2"]').remove()`);
    assert.equal(await scopeOf(next), "g1,g3,g4,g5,g6");
    await put(server.url, "g3", gameBody(0, 1));
    await shows(page, "g3", "0-1");
    await put(server.url, "g6", gameBody(2, 0));
    await shows(page, "g6", "2-0");
    await put(server.url, "elsewhere", gameBody(5, 5));
    await page.waitForFunction(
      (want) =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).document.querySelectorAll("scoreline-game").length === want,
      5,
    );
    await soon(server.closedTo("ws", 1), "at most one WebSocket");
    assert.equal(server.hub.open("ws"), 1, "never more than one connection");
    for (const feed of feeds) {
      const games = new URL(feed, server.url).searchParams.get("games");
      assert.ok(games, `every connection is scoped: ${feed}`);
      assert.ok(!games.includes("elsewhere"), feed);
    }
    assert.deepEqual(problems, []);
  },
});

Deno.test({
  name:
    "on a device whose clock is 7 minutes slow, the widget ticks the timer every second in agreement with the server's clock, without announcing ticks",
  ignore,
  async fn() {
    await using server = await startServer();
    await put(
      server.url,
      "cup-final",
      gameBody(1, 0, {
        status: "live",
        period: "2nd half",
        clock: "ignored",
        timer: { running: true, elapsedMs: 600_000, direction: "up" },
      }),
    );
    await put(
      server.url,
      "marathon",
      gameBody(0, 0, { timer: { running: false, elapsedMs: 7_384_000, direction: "up" } }),
    );
    await put(
      server.url,
      "quarter",
      gameBody(0, 0, {
        timer: { running: false, elapsedMs: 497_400, direction: "down", limitMs: 600_000 },
      }),
    );
    const game = await (await fetch(`${server.url}/api/games/cup-final`)).json();
    const at = Date.parse(game.timer.at);
    await using site = await openSite(
      widgetHtml(server.url, ["cup-final", "marathon", "quarter"]),
      {
        init: `{ const real = Date.now; Date.now = () => real() - 7 * 60_000; }`,
      },
    );
    const { page, problems } = site;
    await page.goto(site.url);
    await shows(page, "cup-final", "1-0");
    assert.equal(await shownText(page, "cup-final", ".period"), "2nd half");
    assert.equal(await shownText(page, "marathon", ".clock"), "2:03:04");
    assert.equal(await shownText(page, "quarter", ".clock"), "01:43");

    const seconds = (text: string | null) => {
      const match = /^(\d+):(\d\d)$/.exec(text ?? "");
      assert.ok(match, `mm:ss, not ${text}`);
      return Number(match[1]) * 60 + Number(match[2]);
    };
    // Three ticks in a row, each read between two readings of the server's clock (this process).
    let last = -1;
    for (let ticks = 0; ticks < 3; ticks++) {
      await page.waitForFunction(
        (previous) =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).widgetRoot("cup-final").querySelector(".clock").textContent !==
            previous,
        await shownText(page, "cup-final", ".clock"),
      );
      const before = Date.now();
      const shown = seconds(await shownText(page, "cup-final", ".clock")) * 1000;
      const after = Date.now();
      const low = 600_000 + (before - at);
      const high = 600_000 + (after - at);
      assert.ok(
        shown > low - 1000 && shown <= high,
        `shown ${shown / 1000} s while the server's timer read ${low / 1000}–${high / 1000} s`,
      );
      assert.ok(shown > last, "it moves on");
      last = shown;
    }
    const announced = await page.evaluate<string>(
      `widgetRoot("cup-final").querySelector("[aria-live]").textContent`,
    );
    assert.equal(announced, "", "ticks are not announced");
    assert.equal(
      await page.evaluate<string | null>(
        `widgetRoot("cup-final").querySelector(".clock").closest("[aria-live]")`,
      ),
      null,
      "the clock is outside the live region",
    );

    await post(server.url, "/api/games/cup-final/score", { side: "home", points: 1 });
    await shows(page, "cup-final", "2-0");
    assert.equal(
      await page.evaluate<string>(
        `widgetRoot("cup-final").querySelector("[aria-live]").textContent`,
      ),
      "Lions 2, Tigers 0",
    );
    assert.deepEqual(problems, []);
  },
});

Deno.test({
  name:
    "with timeline and viewers, the widget lists the game's events as text and shows how many watch it",
  ignore,
  async fn() {
    await using server = await startServer();
    await put(server.url, "cup-final", gameBody(0, 0, { status: "live" }));
    await post(server.url, "/api/games/cup-final/timer", { action: "set", elapsedMs: 1_380_000 });
    await post(server.url, "/api/games/cup-final/events", {
      kind: "goal",
      side: "home",
      points: 1,
      text: XSS,
    });
    await using site = await openSite(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A site</title>
<script type="module" src="${server.url}/widget.js"></script></head><body>
<scoreline-game game="cup-final" timeline viewers></scoreline-game></body></html>`,
    );
    const { page, problems } = site;
    const feeds = recordFeeds(page);
    await page.goto(site.url);
    await shows(page, "cup-final", "1-0");
    const events = () =>
      page.evaluate<string[]>(`[...widgetRoot("cup-final").querySelectorAll(".timeline li")]
        .map((li) => [...li.children].filter((s) => !s.hidden).map((s) => s.textContent).join("|"))`);
    assert.deepEqual(await events(), [`23:00|goal|Lions|${XSS}`]);
    await post(server.url, "/api/games/cup-final/events", {
      kind: "card",
      side: "away",
      text: "Booked",
      clock: "45+2'",
    });
    await page.waitForFunction(
      `widgetRoot("cup-final").querySelectorAll(".timeline li").length === 2`,
    );
    assert.deepEqual(await events(), [`23:00|goal|Lions|${XSS}`, "45+2'|card|Tigers|Booked"]);
    assert.equal(await page.locator("img").count(), 0);

    await page.waitForFunction(
      `widgetRoot("cup-final").querySelector(".viewers").textContent === "1 watching"`,
      undefined,
      { timeout: 20_000 },
    );
    assert.ok(feeds.every((feed) => /[?&]viewers=1/.test(feed)), `${feeds}`);
    assert.deepEqual(problems, []);
  },
});

Deno.test({
  name:
    "<scoreline-board competition> lists its games live first then by kick-off, follows changes and new games, and announces scores politely",
  ignore,
  async fn() {
    await using server = await startServer();
    const game = (
      home: string,
      startsAt: string,
      status: string,
      competition = "league",
    ) => gameBody(0, 0, { competition, startsAt, status, home: { name: home } });
    await put(server.url, "late", game("Late", "2026-12-07T18:00:00Z", "scheduled"));
    await put(server.url, "now", game("Now", "2026-12-07T17:00:00Z", "live"));
    await put(server.url, "done", game("Done", "2026-12-07T15:00:00Z", "final"));
    await put(server.url, "soon", game("Soon", "2026-12-07T16:00:00Z", "scheduled"));
    await put(server.url, "cup", game("Cup", "2026-12-07T14:00:00Z", "live", "cup"));
    await using site = await openSite(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A league</title>
<script type="module" src="${server.url}/widget.js"></script></head><body>
<scoreline-board competition="league" style="--scoreline-background: #10151c"></scoreline-board>
<scoreline-board id="pair" games="now,cup"></scoreline-board>
<scoreline-game game="cup"></scoreline-game></body></html>`,
      { init: BOARD_HELPERS },
    );
    const { page, problems } = site;
    const feeds = recordFeeds(page);
    await page.goto(site.url);
    const rows = (selector = "scoreline-board") =>
      page.evaluate<string[]>(`boardRows(${JSON.stringify(selector)})`);
    await page.waitForFunction(`boardRows().length === 4`);
    assert.deepEqual(await rows(), ["now 0-0", "done 0-0", "soon 0-0", "late 0-0"]);
    await page.waitForFunction(`boardRows("#pair").length === 2`);
    assert.deepEqual(await rows("#pair"), ["cup 0-0", "now 0-0"]);
    await shows(page, "cup", "0-0");

    await post(server.url, "/api/games/now/score", { side: "home", points: 1 });
    await page.waitForFunction(`boardRows()[0] === "now 1-0"`);
    const announced = await page.evaluate<string>(
      `document.querySelector("scoreline-board").shadowRoot.querySelector("[aria-live=polite]").textContent`,
    );
    assert.equal(announced, "Now 1, Tigers 0");
    await call(server.url, "/api/games/late", {
      method: "PATCH",
      token: TOKEN,
      body: { status: "live" },
    });
    await page.waitForFunction(`boardRows()[1] === "late 0-0"`);
    assert.deepEqual(await rows(), ["now 1-0", "late 0-0", "done 0-0", "soon 0-0"]);
    await put(server.url, "new", game("New", "2026-12-07T15:30:00Z", "scheduled"));
    await page.waitForFunction(`boardRows().length === 5`);
    assert.deepEqual(await rows(), ["now 1-0", "late 0-0", "done 0-0", "new 0-0", "soon 0-0"]);
    await page.waitForFunction(`boardRows("#pair")[1] === "now 1-0"`);
    const live = await page.evaluate<string | null>(
      `document.querySelector("scoreline-board").shadowRoot.querySelector(".badge").textContent`,
    );
    assert.equal(live, "Live");

    // One connection for the competition, one for the games of the page: nothing unscoped.
    const scopes = feeds.map((feed) => {
      const query = new URL(feed, server.url).searchParams;
      return query.get("competition") ?? `games=${query.get("games")}`;
    });
    assert.deepEqual(scopes.sort(), ["games=cup,now", "league"]);
    assert.equal(server.hub.open("ws"), 2);
    assert.deepEqual(problems, []);
  },
});

Deno.test({
  name:
    "refused with 429 after its connection dropped, the widget shows it is not live and keeps the score, then comes back by itself once the limit clears",
  ignore,
  async fn() {
    // New feeds per address: 1 a second, bursts of 2, on a clock that moves only when told.
    const clock = new ManualClock(Date.UTC(2026, 11, 7, 17, 0, 0));
    await using server = await startServer({ clock, env: { SCORELINE_FEED_RATE: "1" } });
    await put(server.url, "cup-final", gameBody(1, 0));
    await using site = await openSite(widgetHtml(server.url, ["cup-final"]));
    const { page } = site;
    await page.goto(site.url);
    await shows(page, "cup-final", "1-0");
    await soon(server.opened("ws"), "a WebSocket opened");
    assert.equal(await shownText(page, "cup-final", ".conn"), null, "live: no sign");

    // Others at this address use up what is left of the burst (the clock stands still: nothing
    // comes back); then the widget's connection drops.
    let opened = 0;
    for (; opened < 10; opened++) {
      const other = await fetch(`${server.url}/api/events?games=cup-final`);
      await other.body?.cancel();
      if (other.status === 429) break;
      assert.equal(other.status, 200);
    }
    assert.ok(opened < 10, "the burst ran out");
    // The widget tries its WebSocket again, refused (429), then its event stream, refused too.
    const refused = page.waitForResponse((response) =>
      new URL(response.url()).pathname === "/api/events" && response.status() === 429
    );
    server.hub.reset();
    await page.waitForFunction(
      `widgetRoot("cup-final").querySelector(".conn")?.hidden === false`,
    );
    assert.equal(
      await shownText(page, "cup-final", ".conn"),
      "Not live \u00b7 reconnecting\u2026",
    );
    assert.equal(
      await page.evaluate<string>(
        `widgetRoot("cup-final").querySelector(".card").classList.contains("stale")`,
      ),
      true,
    );
    await refused;
    assert.equal(await shownText(page, "cup-final", ".conn"), "Not live \u00b7 reconnecting\u2026");
    await shows(page, "cup-final", "1-0"); // the last known score stays

    clock.advance(10_000); // the limit clears
    await page.waitForFunction(
      `widgetRoot("cup-final").querySelector(".conn")?.hidden === true`,
      undefined,
      { timeout: 60_000 },
    );
    await put(server.url, "cup-final", gameBody(2, 0));
    await shows(page, "cup-final", "2-0");
  },
});

Deno.test({
  name:
    "behind nginx, while the service restarts, the widget shows it is not live and keeps the score, then resumes by itself",
  ignore: ignore || skipWithout("nginx", "apt-get install nginx"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "scoreline-widget-nginx-" });
    const env = {
      SCORELINE_DATA: `${dir}/scoreline.db`,
      SCORELINE_TOKENS: TOKEN,
      SCORELINE_WRITE_RATE: "0",
    };
    const port = freePort();
    let child: Child | undefined = await startMain(env, port);
    const nginx = await startNginx(`127.0.0.1:${port}`);
    try {
      await put(child.url, "cup-final", gameBody(1, 0));
      await using site = await openSite(widgetHtml(nginx.url, ["cup-final"]));
      const { page } = site;
      await page.goto(site.url);
      await shows(page, "cup-final", "1-0");

      // While it is away, nginx answers the widget's tries itself: 502 Bad Gateway, without the
      // service's CORS headers, so the page on another origin sees a failed request.
      const badGateway = page.waitForEvent(
        "requestfailed",
        (request) => new URL(request.url()).pathname === "/api/events",
      );
      child.kill("SIGKILL");
      await child.exited;
      child = undefined;
      await page.waitForFunction(
        `widgetRoot("cup-final").querySelector(".conn")?.hidden === false`,
      );
      await badGateway;
      const away = await fetch(`${nginx.url}/api/games/cup-final`);
      await away.body?.cancel();
      assert.equal(away.status, 502);
      assert.equal(
        await shownText(page, "cup-final", ".conn"),
        "Not live \u00b7 reconnecting\u2026",
      );
      await shows(page, "cup-final", "1-0"); // the last known score stays

      child = await startMain(env, port);
      await put(child.url, "cup-final", gameBody(2, 0));
      await shows(page, "cup-final", "2-0");
      await page.waitForFunction(
        `widgetRoot("cup-final").querySelector(".conn")?.hidden === true`,
        undefined,
        { timeout: 60_000 },
      );
      await put(child.url, "cup-final", gameBody(2, 1));
      await shows(page, "cup-final", "2-1");
    } finally {
      await nginx.stop();
      child?.kill("SIGTERM");
      await child?.exited;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "the embed with timeline=1, in an iframe on another site, ticks the timer and lists the events live",
  ignore,
  async fn() {
    await using server = await startServer();
    await put(server.url, "cup-final", gameBody(0, 0, { status: "live" }));
    await post(server.url, "/api/games/cup-final/timer", { action: "set", elapsedMs: 1_380_000 });
    await post(server.url, "/api/games/cup-final/timer", { action: "start" });
    await using site = await openSite(
      embedSiteHtml(`${server.url}/embed/games/cup-final?timeline=1`, 260),
    );
    const { problems } = site;
    const frame = await loadEmbed(site, "cup-final");
    await shows(frame, "cup-final", "0-0");
    const clock = () =>
      frame.evaluate(() =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).widgetRoot("cup-final").querySelector(".clock").textContent
      );
    const first = await clock();
    assert.match(first, /^23:0\d$/);
    await frame.waitForFunction(
      (was) =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).widgetRoot("cup-final").querySelector(".clock").textContent !== was,
      first,
    );
    await post(server.url, "/api/games/cup-final/events", {
      kind: "goal",
      side: "away",
      points: 1,
      text: "Okafor",
    });
    await shows(frame, "cup-final", "0-1");
    const events = await frame.evaluate(() =>
      // deno-lint-ignore no-explicit-any
      [...(globalThis as any).widgetRoot("cup-final").querySelectorAll(".timeline li")].map((
        // deno-lint-ignore no-explicit-any
        li: any,
      ) => li.querySelector(".text").textContent)
    );
    assert.deepEqual(events, ["Okafor"]);
    assert.deepEqual(problems, []);
  },
});

Deno.test({
  name:
    "docs/examples/league.html, served by another site, shows the round's board and its featured games live",
  ignore,
  async fn() {
    await using server = await startServer();
    const example = await Deno.readTextFile(
      new URL("../docs/examples/league.html", import.meta.url),
    );
    const round: [string, string, string, string, string][] = [
      ["millbrook-eastfield", "Millbrook United", "Eastfield", "live", "2026-12-07T15:00:00Z"],
      ["harbour-castle", "Harbour Rovers", "Castle Athletic", "final", "2026-12-07T12:30:00Z"],
      ["riverside-bay", "Riverside", "Bay City", "scheduled", "2026-12-07T17:30:00Z"],
      ["north-south", "North End", "South Park", "scheduled", "2026-12-07T15:00:00Z"],
    ];
    for (const [id, home, away, status, startsAt] of round) {
      await put(
        server.url,
        id,
        gameBody(0, 0, {
          competition: "premier-2026",
          status,
          startsAt,
          home: { name: home },
          away: { name: away },
        }),
      );
    }
    await post(server.url, "/api/games/harbour-castle/events", {
      kind: "goal",
      side: "away",
      points: 1,
      text: "Achterberg",
      clock: "71'",
    });
    await using site = await openSite(example.replaceAll("https://scores.example", server.url), {
      init: BOARD_HELPERS,
    });
    const { page, problems } = site;
    await page.goto(site.url);
    await page.waitForFunction(`boardRows().length === 4`);
    assert.deepEqual(await page.evaluate(`boardRows()`), [
      "millbrook-eastfield 0-0",
      "harbour-castle 0-1",
      "north-south 0-0",
      "riverside-bay 0-0",
    ]);
    await shows(page, "millbrook-eastfield", "0-0");
    await shows(page, "harbour-castle", "0-1");
    await shows(page, "riverside-bay", "0-0");
    assert.equal(await shownText(page, "harbour-castle", ".timeline .text"), "Achterberg");

    await post(server.url, "/api/games/millbrook-eastfield/events", {
      kind: "goal",
      side: "home",
      points: 1,
      text: "Okafor",
    });
    await shows(page, "millbrook-eastfield", "1-0");
    await page.waitForFunction(`boardRows()[0] === "millbrook-eastfield 1-0"`);
    assert.equal(await shownText(page, "millbrook-eastfield", ".timeline .text"), "Okafor");
    assert.equal(server.hub.open("ws"), 2, "the competition's connection and the games' one");
    assert.deepEqual(problems, []);
  },
});

Deno.test({
  name:
    "an element whose attributes cannot work says what to fix, as text, and opens no connection for it",
  ignore,
  async fn() {
    await using server = await startServer();
    await using site = await openSite(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A site</title>
<script type="module" src="${server.url}/widget.js"></script></head><body>
<scoreline-game id="bad-id" game="${XSS}"></scoreline-game>
<scoreline-game id="bad-server" game="cup-final" server="ftp://scores.example"></scoreline-game>
<scoreline-board id="both" competition="cup" games="a,b"></scoreline-board>
<scoreline-board id="bad-list" games="a,Not An Id"></scoreline-board></body></html>`,
    );
    const { page, problems } = site;
    const feeds = recordFeeds(page);
    await page.goto(site.url);
    // What an element says instead of a game (plain JavaScript: Deno's types have no DOM).
    const said = (id: string) =>
      page.waitForFunction<string>(
        `document.getElementById(${JSON.stringify(id)})?.shadowRoot
          ?.querySelector(".message:not([hidden])")?.textContent || false`,
      ).then((handle) => handle.jsonValue());
    assert.match(await said("bad-id"), /^No game to show: set game="…" to a game id \(got "<img/);
    assert.match(await said("bad-server"), /server="ftp:\/\/scores.example" is not an http\(s\)/);
    assert.equal(await said("both"), 'Set competition="…" or games="a,b" (one of them).');
    assert.match(await said("bad-list"), /must list game ids/);
    assert.deepEqual(feeds, [], "nothing to connect for");
    assert.deepEqual(problems.filter((p) => !p.includes("favicon")), []);
    assert.equal(await page.locator("img").count(), 0, "the game attribute is only text");
  },
});
