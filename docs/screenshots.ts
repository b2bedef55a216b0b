/**
 * `deno task screenshots`: takes the README's pictures from the real pages, served by the real
 * app in-process (memory store, a fixed clock so the stamp reads the same every time), in the
 * same chromium the browser tests use. Writes the PNGs next to this file.
 */
import "../tests/support/not_wsl.ts"; // first: before playwright-core loads
import { devices } from "playwright-core";
import { gameBody } from "../tests/support/http.ts";
import { hostPage, launchBrowser } from "../tests/support/browser.ts";
import { ManualClock } from "../tests/support/clock.ts";
import { startServer, TOKEN } from "../tests/support/server.ts";

const OUT = new URL("./", import.meta.url);

const GAMES: Record<string, Record<string, unknown>> = {
  "cup-final": gameBody(0, 0, {
    title: "Cup Final",
    period: "2nd half",
    // Every screen shows the timer; the clock text is for clients that know no timers.
    clock: "67:12",
    timer: { running: true, elapsedMs: 4_032_000, direction: "up", limitMs: 5_400_000 },
    away: { name: "Tigers", score: 0, detail: "10 men" },
  }),
  "north-derby": gameBody(0, 0, {
    title: "North Derby",
    status: "break",
    period: "Half-time",
    home: { name: "Harbour Rovers", score: 0 },
    away: { name: "Castle Athletic", score: 0 },
  }),
  "u18-final": gameBody(82, 84, {
    title: "U18 Basketball Final",
    period: "Q4",
    clock: "01:43",
    timer: { running: false, elapsedMs: 497_000, direction: "down", limitMs: 600_000 },
    home: { name: "Bay City Hawks", score: 82 },
    away: { name: "Riverside Owls", score: 84 },
  }),
  "league-round-9": gameBody(0, 0, {
    title: "League, round 9",
    status: "scheduled",
    period: "Kick-off 19:45",
    home: { name: "Millbrook United", score: 0 },
    away: { name: "Eastfield", score: 0 },
  }),
  "semi-final-1": gameBody(2, 2, {
    title: "Semi-final 1",
    status: "final",
    period: "After extra time",
    home: { name: "Lions", score: 2 },
    away: { name: "Wolves", score: 2 },
  }),
  "semi-final-2": gameBody(1, 0, {
    title: "Semi-final 2",
    status: "final",
    home: { name: "Tigers", score: 1 },
    away: { name: "Falcons", score: 0 },
  }),
};

/** A league round of twelve games in one competition: what a 1080p wall shows on one page. */
const ROUND: [string, string, number, string, number, Record<string, unknown>][] = [
  ["Harbour Rovers", "Castle Athletic", 0, "live", 0, { period: "2nd half", clock: "71:05" }],
  ["Millbrook United", "Eastfield", 0, "live", 0, { period: "1st half", clock: "38:40" }],
  ["Northgate", "Old Quay Wanderers", 3, "live", 3, { period: "2nd half", clock: "88:12" }],
  ["Riverside", "St Anne's", 1, "break", 1, { period: "Half-time" }],
  ["Kingsmead Town", "Ashby Vale", 4, "final", 2, {}],
  ["Westbrook", "Fenwick City", 0, "final", 1, {}],
  ["Dunmore", "Hollins Park", 0, "scheduled", 0, { startsAt: "2026-11-21T19:45:00Z" }],
  ["Brackley Forest", "Marsh Lane", 0, "scheduled", 0, { startsAt: "2026-11-21T19:45:00Z" }],
  ["Tolworth", "Greyfriars", 0, "scheduled", 0, { startsAt: "2026-11-22T13:30:00Z" }],
  ["Penrose Albion", "Calder Bridge", 0, "scheduled", 0, { startsAt: "2026-11-22T16:00:00Z" }],
  ["Saltash Borough", "Elm Grove", 0, "postponed", 0, {}],
  ["Linfield Rangers", "Oakhurst", 2, "live", 2, { period: "2nd half", clock: "54:30" }],
];

for (const [i, [home, away, homeScore, status, awayScore, extra]] of ROUND.entries()) {
  GAMES[`league-r9-${i + 1}`] = gameBody(homeScore, awayScore, {
    title: `Premier League, round 9`,
    status,
    competition: "premier-2026",
    home: { name: home, score: homeScore },
    away: { name: away, score: awayScore },
    ...extra,
  });
}
/** Timelines, added through the events route after the games are created (points included). */
const EVENTS: Record<string, Record<string, unknown>[]> = {
  "cup-final": [
    { kind: "goal", side: "home", points: 1, text: "Okafor", clock: "23'" },
    { kind: "goal", side: "away", points: 1, text: "Mensah (pen.)", clock: "41'" },
    { kind: "card", side: "away", text: "Red card: Diallo", clock: "52'" },
    { kind: "goal", side: "home", points: 1, text: "Okafor", clock: "58'" },
  ],
  "u18-final": [
    { kind: "basket", side: "home", points: 3, text: "Jordan", clock: "Q4 02:31" },
    { kind: "basket", side: "home", points: 2, text: "Reyes", clock: "Q4 01:58" },
  ],
  "semi-final-1": [
    { kind: "goal", side: "home", points: 1, text: "Achterberg", clock: "112'" },
  ],
  // Harbour Rovers 2–1 Castle Athletic, and Riverside 1–1 St Anne's, as the league example shows.
  "league-r9-1": [
    { kind: "goal", side: "home", points: 1, text: "Pereira", clock: "12'" },
    { kind: "goal", side: "away", points: 1, text: "Lindqvist", clock: "39'" },
    { kind: "card", side: "away", text: "Yellow: Moss", clock: "55'" },
    { kind: "goal", side: "home", points: 1, text: "Pereira", clock: "68'" },
  ],
};

const WIDGET_PAGE = (server: string) =>
  `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Widget demo</title>
<script type="module" src="${server}/widget.js"></script>
<style>
  body { margin: 0; padding: 24px; background: #f3f4f6; font: 16px system-ui, sans-serif; }
  .row { display: flex; gap: 20px; align-items: flex-start; }
  scoreline-game { width: 300px; }
  .dark {
    --scoreline-background: #10151c; --scoreline-color: #fff; --scoreline-muted: #b9c1cc;
    --scoreline-border: 1px solid #10151c; --scoreline-radius: 4px;
  }
  .brand {
    --scoreline-font: Georgia, serif; --scoreline-live: #0b6e4f; --scoreline-radius: 0;
    --scoreline-border: 2px solid #0b6e4f; --scoreline-score-size: 2em;
  }
</style></head>
<body><div class="row" id="demo">
  <scoreline-game game="cup-final"></scoreline-game>
  <scoreline-game game="u18-final" class="dark"></scoreline-game>
  <scoreline-game game="semi-final-1" class="brand"></scoreline-game>
</div></body></html>`;

async function main() {
  await using server = await startServer({ clock: new ManualClock(Date.UTC(2026, 10, 21, 18, 4)) });
  for (const [id, body] of Object.entries(GAMES)) {
    const response = await fetch(`${server.url}/api/games/${id}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`PUT ${id}: ${response.status}`);
    for (const event of EVENTS[id] ?? []) {
      const added = await fetch(`${server.url}/api/games/${id}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(event),
      });
      await added.body?.cancel();
      if (!added.ok) throw new Error(`POST ${id}/events: ${added.status}`);
    }
  }
  await using host = hostPage(WIDGET_PAGE(server.url));
  await using chrome = await launchBrowser();
  const { browser } = chrome;

  const shots: [string, string, { width: number; height: number }][] = [
    ["kiosk-game.png", "/games/cup-final", { width: 1920, height: 1080 }],
    ["kiosk-board.png", "/", { width: 1920, height: 1080 }],
    ["kiosk-league.png", "/?competition=premier-2026&tz=Europe/London", {
      width: 1920,
      height: 1080,
    }],
    ["kiosk-phone.png", "/games/u18-final", { width: 390, height: 844 }],
  ];
  for (const [file, path, viewport] of shots) {
    const context = await browser.newContext({ viewport, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(server.url + path);
    await page.screenshot({ path: new URL(file, OUT).pathname });
    await context.close();
    console.log(`docs/${file} from ${path}`);
  }

  const context = await browser.newContext({ viewport: { width: 1000, height: 400 } });
  const page = await context.newPage();
  await page.goto(host.url);
  // Every widget shows its game from the live feed (a string: Deno's types have no DOM).
  await page.waitForFunction(`[...document.querySelectorAll("scoreline-game")]
    .every((widget) => widget.shadowRoot.querySelector(".card:not([hidden])"))`);
  // ...and its timers on the server's clock, which the first ping tells (the fixed one above).
  await page.waitForFunction(`document.querySelector('scoreline-game[game="cup-final"]')
    .shadowRoot.querySelector(".clock").textContent.startsWith("67:")`);
  await page.locator("#demo").screenshot({ path: new URL("widget.png", OUT).pathname });
  await context.close();
  console.log("docs/widget.png from a page embedding three widgets");

  // The league example page, pointed at this server and at the round's games.
  const example = (await Deno.readTextFile(new URL("examples/league.html", OUT)))
    .replaceAll("https://scores.example", server.url)
    .replace('game="millbrook-eastfield"', 'game="league-r9-1"')
    .replace('game="harbour-castle"', 'game="league-r9-7"')
    .replace('game="riverside-bay"', 'game="league-r9-5"');
  await using league = hostPage(example);
  const boardContext = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const boardPage = await boardContext.newPage();
  await boardPage.goto(league.url);
  await boardPage.waitForFunction(`document.querySelector("scoreline-board").shadowRoot
      .querySelectorAll(".row").length === 12 && [...document.querySelectorAll("scoreline-game")]
      .every((widget) => widget.shadowRoot.querySelector(".card:not([hidden])"))`);
  await boardPage.screenshot({ path: new URL("widget-board.png", OUT).pathname, fullPage: true });
  await boardContext.close();
  console.log("docs/widget-board.png from docs/examples/league.html");

  // Last: the console records a goal, which changes the cup final the other pictures show.
  const phone = await browser.newContext({ ...devices["Pixel 7"] });
  const scorer = await phone.newPage();
  await scorer.goto(`${server.url}/console#cup-final`);
  await scorer.locator("#token").fill(TOKEN);
  await scorer.getByRole("button", { name: "Start scoring" }).tap();
  await scorer.locator("#connection").filter({ hasText: /^live$/ }).waitFor();
  await scorer.locator("#scorer-name").fill("Adeyemi");
  await scorer.locator('.tap.goal[data-side="home"]').tap();
  await scorer.locator("#message").filter({ hasText: "Saved: goal" }).waitFor();
  await scorer.screenshot({ path: new URL("console.png", OUT).pathname, fullPage: true });
  await phone.close();
  console.log("docs/console.png from /console#cup-final on a Pixel 7, after a goal");
}

if (import.meta.main) await main();
