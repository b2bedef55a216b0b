/**
 * The match on the server-rendered screens: the timer's time as of the render, the scoring
 * summary on a game's page, the last scoring event on the board, and pages (and their ETags)
 * that change each second a running timer is shown and not otherwise. Status first, then content
 * type, then body; the clock is a ManualClock, moved instead of waited for.
 */
import assert from "node:assert/strict";
import { ManualClock } from "./support/clock.ts";
import { type Answer, call, gameBody } from "./support/http.ts";
import { startServer, type TestServer, TOKEN } from "./support/server.ts";

/** 18:00:00 UTC: the minute turns at 18:01:00, far from the seconds these tests move. */
const START = Date.UTC(2026, 10, 21, 18, 0, 0);
const XSS = "<img src=x onerror=alert(1)>";

async function send(server: TestServer, method: string, path: string, body?: unknown) {
  const answer = await call(server.url, path, { method, token: TOKEN, body });
  assert.ok(answer.status < 300, `${method} ${path}: ${answer.text}`);
  return answer;
}

async function page(server: TestServer, path: string, etag?: string | null): Promise<Answer> {
  const headers: Record<string, string> = etag ? { "if-none-match": etag } : {};
  const answer = await call(server.url, path, { headers });
  if (answer.status === 200) {
    assert.equal(answer.headers.get("content-type"), "text/html; charset=utf-8");
  }
  return answer;
}

const clockOf = (answer: Answer) => /<span class="clock">([^<]*)<\/span>/.exec(answer.text)?.[1];

Deno.test("a game with a timer shows the timer's time as of the render, not its clock text", async () => {
  const clock = new ManualClock(START);
  await using server = await startServer({ clock });
  await send(server, "PUT", "/api/games/g", gameBody(0, 0, { clock: "67:12" }));
  assert.equal(clockOf(await page(server, "/games/g")), "67:12", "no timer: the clock text");
  await send(server, "POST", "/api/games/g/timer", { action: "set", elapsedMs: 2_700_000 });
  await send(server, "POST", "/api/games/g/timer", { action: "start" });
  clock.advance(12_345);
  const shown = await page(server, "/games/g");
  assert.equal(shown.status, 200);
  assert.equal(clockOf(shown), "45:12");
  assert.doesNotMatch(shown.text, /67:12/);
  const board = await page(server, "/");
  assert.match(board.text, /<span class="card-meta">45:12<\/span>/);
  const embed = await page(server, "/embed/games/g");
  assert.match(embed.text, /<span class="card-meta">45:12<\/span>/, "the embed's fallback too");
});

Deno.test("a running timer's page is new each second it is shown; a stopped one's is the same page until the minute turns", async () => {
  const clock = new ManualClock(START);
  await using server = await startServer({ clock });
  await send(server, "PUT", "/api/games/g", gameBody());
  await send(server, "POST", "/api/games/g/timer", { action: "start" });
  for (const path of ["/games/g", "/", "/embed/games/g"]) {
    clock.advance(1_100 - ((clock.now() - START) % 1_000)); // 0.1 s into a second
    const first = await page(server, path);
    const etag = first.headers.get("etag");
    clock.advance(400);
    assert.equal((await page(server, path, etag)).status, 304, `${path}: the same second`);
    clock.advance(1_000);
    const next = await page(server, path, etag);
    assert.equal(next.status, 200, `${path}: a second later the page moved on`);
    assert.notEqual(next.headers.get("etag"), etag);
    assert.notEqual(next.text, first.text);
  }
  await send(server, "POST", "/api/games/g/timer", { action: "stop" });
  const stopped = await page(server, "/games/g");
  const etag = stopped.headers.get("etag");
  clock.advance(20_000);
  const later = await page(server, "/games/g", etag);
  assert.equal(later.status, 304, "a stopped timer does not move: the same page");
});

Deno.test("a timer held at its limit stops changing its page", async () => {
  const clock = new ManualClock(START);
  await using server = await startServer({ clock });
  await send(server, "PUT", "/api/games/g", {
    ...gameBody(),
    timer: { running: true, elapsedMs: 715_000, direction: "down", limitMs: 720_000 },
  });
  clock.advance(10_000);
  const out = await page(server, "/games/g");
  assert.equal(clockOf(out), "00:00");
  clock.advance(5_000);
  assert.equal((await page(server, "/games/g", out.headers.get("etag"))).status, 304);
});

Deno.test("the game page lists each side's scoring events under its score, oldest first, with the minute or the timer's time", async () => {
  const clock = new ManualClock(START);
  await using server = await startServer({ clock });
  await send(server, "PUT", "/api/games/g", gameBody());
  await send(server, "POST", "/api/games/g/timer", { action: "start" });
  clock.advance(1_380_000);
  await send(server, "POST", "/api/games/g/events", {
    kind: "goal",
    side: "home",
    points: 1,
    text: "Okafor",
  });
  await send(server, "POST", "/api/games/g/events", { kind: "card", side: "away", text: "Red" });
  await send(server, "POST", "/api/games/g/events", {
    kind: "goal",
    side: "away",
    points: 1,
    text: "Mensah",
    clock: "45+2'",
  });
  clock.advance(600_000);
  await send(server, "POST", "/api/games/g/events", { kind: "try", side: "home", points: 5 });
  const shown = await page(server, "/games/g");
  assert.equal(shown.status, 200);
  const summary = /<section class="summary">[\s\S]*?<\/section>/.exec(shown.text)?.[0] ?? "";
  const [home, away] = [...summary.matchAll(/<ol aria-label="([^"]*)">(.*?)<\/ol>/g)];
  assert.equal(home?.[1], "Lions");
  assert.equal(
    home?.[2],
    '<li><span class="when">23:00</span> Okafor</li><li><span class="when">33:00</span> try (+5)</li>',
  );
  assert.equal(away?.[1], "Tigers");
  assert.equal(away?.[2], `<li><span class="when">45+2&#39;</span> Mensah</li>`);
  assert.doesNotMatch(summary, /Red/, "a card is not a scoring event");
  const board = await page(server, "/");
  assert.match(
    board.text,
    /<span class="card-last">Last: Lions · <span class="when">33:00<\/span> try \(\+5\)<\/span>/,
  );
});

Deno.test("a long timeline shows each side's latest five and how many came earlier", async () => {
  await using server = await startServer({ clock: new ManualClock(START) });
  await send(server, "PUT", "/api/games/g", gameBody());
  for (let n = 1; n <= 8; n++) {
    await send(server, "POST", "/api/games/g/events", {
      kind: "basket",
      side: "home",
      points: 2,
      text: `B${n}`,
    });
  }
  const shown = await page(server, "/games/g");
  assert.match(shown.text, /<p class="earlier">3 earlier<\/p>/);
  const items = [...shown.text.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => m[1]);
  assert.deepEqual(items, ["B4 (+2)", "B5 (+2)", "B6 (+2)", "B7 (+2)", "B8 (+2)"]);
});

Deno.test("event text and clocks are escaped on the game page, the board and the embed", async () => {
  await using server = await startServer({ clock: new ManualClock(START) });
  await send(server, "PUT", "/api/games/xss", gameBody(0, 0, { home: { name: XSS } }));
  await send(server, "POST", "/api/games/xss/events", {
    kind: "goal",
    side: "home",
    points: 1,
    text: XSS,
    clock: "<b>9'</b>",
  });
  for (const path of ["/games/xss", "/", "/embed/games/xss"]) {
    const shown = await page(server, path);
    assert.equal(shown.status, 200, path);
    assert.match(shown.text, /&lt;img src=x onerror=alert\(1\)&gt;/, path);
    assert.match(shown.text, /&lt;b&gt;9&#39;&lt;\/b&gt;/, path);
    assert.doesNotMatch(shown.text, /<img|<b>/, path);
  }
});
