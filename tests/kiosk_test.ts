/**
 * The screens over HTTP: kiosk pages, the embed page and the static files, status first, then
 * content type, then body. What a browser does with them is in screens_browser_test.ts.
 */
import assert from "node:assert/strict";
import { ALL_GAMES } from "../core/scope.ts";
import { KioskPages, PAGE_CACHE_BYTES } from "../pages/kiosk_pages.ts";
import { renderGamePage } from "../pages/kiosk_render.ts";
import {
  boardQuery,
  pageQuery,
  STAMP_FORMAT,
  ZONE_CACHE_SIZE,
  Zones,
} from "../pages/page_params.ts";
import { call, gameBody } from "./support/http.ts";
import { ManualClock } from "./support/clock.ts";
import { startServer, type TestServer, TOKEN } from "./support/server.ts";

const XSS = "<img src=x onerror=alert(1)>";
/** 18:00 UTC, a Saturday. */
const START = Date.UTC(2026, 10, 21, 18, 0, 0);

async function put(url: string, id: string, body: unknown) {
  const answer = await call(url, `/api/games/${id}`, { method: "PUT", token: TOKEN, body });
  assert.ok(answer.status === 200 || answer.status === 201, answer.text);
  return answer.json;
}

function assertPageHeaders(headers: Headers, scripts: "'none'" | "'self'") {
  assert.equal(headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(headers.get("content-security-policy") ?? "", new RegExp(`script-src ${scripts}`));
  assert.equal(headers.get("x-content-type-options"), "nosniff");
  assert.equal(headers.get("referrer-policy"), "no-referrer");
}

Deno.test("a game's kiosk page is server-rendered HTML with no script and a CSP that forbids scripts", async () => {
  await using server = await startServer();
  await put(server.url, "cup-final", gameBody(2, 1, { period: "2nd half", clock: "67:12" }));
  const page = await call(server.url, "/games/cup-final");
  assert.equal(page.status, 200);
  assertPageHeaders(page.headers, "'none'");
  assert.equal(page.headers.get("x-frame-options"), "DENY");
  assert.equal(page.headers.get("cache-control"), "no-cache");
  assert.match(page.text, /<p class="name">Lions<\/p>/);
  assert.match(
    page.text,
    /<p class="score">2<\/p><p class="mid vs">&ndash;<\/p><p class="score">1<\/p>/,
  );
  assert.match(page.text, /<span class="clock">67:12<\/span>/);
  assert.match(page.text, /<title>Lions 2–1 Tigers · Cup Final · Scoreline<\/title>/);
  assert.doesNotMatch(page.text, /<script/i);
});

Deno.test("a live game refreshes every 5 s by default and any other status every 60 s", async () => {
  await using server = await startServer();
  await put(server.url, "g", gameBody(0, 0, { status: "live" }));
  for (const [status, seconds] of [["live", 5], ["break", 60], ["final", 60], ["scheduled", 60]]) {
    await put(server.url, "g", gameBody(0, 0, { status }));
    const page = await call(server.url, "/games/g");
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("refresh"), String(seconds), String(status));
    assert.match(page.text, new RegExp(`<meta http-equiv="refresh" content="${seconds}">`));
  }
});

Deno.test("the board refreshes every 5 s while any game shown is live, else every 60 s", async () => {
  await using server = await startServer();
  const empty = await call(server.url, "/");
  assert.equal(empty.status, 200);
  assertPageHeaders(empty.headers, "'none'");
  assert.equal(empty.headers.get("refresh"), "60");
  assert.match(empty.text, /No games yet/);

  await put(server.url, "a-final", gameBody(3, 0, { status: "final" }));
  assert.equal((await call(server.url, "/")).headers.get("refresh"), "60");
  await put(server.url, "b-live", gameBody(0, 0, { status: "live", title: "Derby" }));
  const board = await call(server.url, "/");
  assert.equal(board.headers.get("refresh"), "5");
  // Live games first, each card linking to its own page.
  const live = board.text.indexOf('href="/games/b-live"');
  const over = board.text.indexOf('href="/games/a-final"');
  assert.ok(live > 0 && over > live, "the live game comes before the finished one");
});

Deno.test("?refresh= is clamped to 1–3600, and one that is not an integer is a 400 HTML page", async () => {
  await using server = await startServer();
  await put(server.url, "g", gameBody());
  for (const [raw, used] of [["30", "30"], ["0", "1"], ["-7", "1"], ["99999999999", "3600"]]) {
    const page = await call(server.url, `/games/g?refresh=${raw}`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("refresh"), used, raw);
    assert.match(page.text, new RegExp(`<meta http-equiv="refresh" content="${used}">`));
  }
  for (const raw of ["abc", "1.5", "", "1e3", "%205"]) {
    for (const path of ["/games/g", "/", "/embed/games/g"]) {
      const page = await call(server.url, `${path}?refresh=${raw}`);
      assert.equal(page.status, 400, `${path}?refresh=${raw}`);
      assertPageHeaders(page.headers, "'none'");
      assert.match(page.text, /400 Invalid request/);
      assert.match(page.text, /refresh: must be an integer/);
      assert.equal(page.headers.get("refresh"), null, "a bad URL is not retried by itself");
    }
  }
});

Deno.test("a bad game id on a page is a 400 HTML page that names the id", async () => {
  await using server = await startServer();
  for (const path of ["/games/Not_An_Id", "/embed/games/-x"]) {
    const page = await call(server.url, path);
    assert.equal(page.status, 400, path);
    assertPageHeaders(page.headers, "'none'");
    assert.match(page.text, /id: must be 1 to 64 characters/);
  }
});

Deno.test("an unknown game shows a waiting page (404) that keeps refreshing, and the same URL shows the game once it exists", async () => {
  await using server = await startServer();
  const waiting = await call(server.url, "/games/cup-final");
  assert.equal(waiting.status, 404);
  assertPageHeaders(waiting.headers, "'none'");
  assert.equal(waiting.headers.get("refresh"), "60");
  assert.equal(waiting.headers.get("etag"), null);
  assert.match(waiting.text, /<meta http-equiv="refresh" content="60">/);
  assert.match(waiting.text, /Waiting for this game/);
  assert.match(waiting.text, /cup-final/);

  await put(server.url, "cup-final", gameBody(1, 0));
  const shown = await call(server.url, "/games/cup-final");
  assert.equal(shown.status, 200);
  assert.match(shown.text, /<p class="score">1<\/p>/);

  await call(server.url, "/api/games/cup-final", { method: "DELETE", token: TOKEN });
  const gone = await call(server.url, "/games/cup-final");
  assert.equal(gone.status, 404);
  assert.match(gone.text, /Waiting for this game/);
});

Deno.test("within a minute a reload gets 304; the next minute gets the page again with the stamp moved on", async () => {
  const clock = new ManualClock(START + 5_000);
  await using server = await startServer({ clock });
  await put(server.url, "g", gameBody(0, 0));
  const first = await call(server.url, "/games/g");
  assert.equal(first.status, 200);
  const etag = first.headers.get("etag")!;
  assert.match(
    first.text,
    /As of <time datetime="2026-11-21T18:00Z">Sat 21 Nov, 18:00 UTC<\/time>/,
  );

  clock.advance(50_000); // 18:00:55, same minute
  const again = await call(server.url, "/games/g", { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  assert.equal(again.text, "");
  assert.equal(again.headers.get("etag"), etag);
  assert.equal(again.headers.get("refresh"), "5");
  assert.match(again.headers.get("content-security-policy") ?? "", /script-src 'none'/);

  clock.advance(10_000); // 18:01:05
  const later = await call(server.url, "/games/g", { headers: { "if-none-match": etag } });
  assert.equal(later.status, 200);
  assert.notEqual(later.headers.get("etag"), etag);
  assert.match(later.text, /Sat 21 Nov, 18:01 UTC/);
});

Deno.test("a change of the game changes the ETag, so the next reload shows the new score", async () => {
  await using server = await startServer({ clock: new ManualClock(START) });
  await put(server.url, "g", gameBody(0, 0));
  const before = await call(server.url, "/games/g");
  const etag = before.headers.get("etag")!;
  await call(server.url, "/api/games/g/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "home", points: 1 },
  });
  const after = await call(server.url, "/games/g", { headers: { "if-none-match": etag } });
  assert.equal(after.status, 200);
  assert.match(after.text, /<p class="score">1<\/p>/);
  const board = await call(server.url, "/");
  const boardAgain = await call(server.url, "/", {
    headers: { "if-none-match": board.headers.get("etag")! },
  });
  assert.equal(boardAgain.status, 304);
});

/** The page cache of a running server's store, on its own, to count what it renders. */
function pagesOf(server: TestServer, clock: ManualClock) {
  return new KioskPages({
    store: server.store,
    clock,
    stylesheet: () => Promise.resolve("/kiosk.css"),
  });
}

Deno.test("a page is rendered once per version and its bytes are shared by every request", async () => {
  const clock = new ManualClock(START);
  await using server = await startServer({ clock });
  const pages = pagesOf(server, clock);
  const query = pageQuery(() => undefined, { themed: false, zones: new Zones() });
  const all = boardQuery(() => undefined, () => undefined);
  await put(server.url, "g", gameBody());
  const first = await pages.game("g", query);
  const second = await pages.game("g", query);
  const board = await pages.board(query, all);
  assert.equal(second.body, first.body, "the same bytes, not a copy");
  assert.equal((await pages.board(query, all)).body, board.body);
  assert.equal(pages.renders, 2);

  await put(server.url, "g", gameBody(1, 0));
  const changed = await pages.game("g", query);
  assert.notEqual(changed.body, first.body);
  assert.notEqual(changed.etag, first.etag);
  assert.equal(pages.renders, 3);

  clock.advance(60_000);
  await pages.game("g", query);
  assert.equal(pages.renders, 4, "a new minute is a new stamp");
});

Deno.test("cycling ?refresh= renders a page once, and each refresh gets exactly the page it would", async () => {
  const clock = new ManualClock(START);
  await using server = await startServer({ clock });
  await put(server.url, "g", gameBody());
  const zones = new Zones();
  const pages = new KioskPages({
    store: server.store,
    clock,
    stylesheet: () => Promise.resolve("/kiosk.css"),
  });
  const game = await server.store.get("g");
  for (const refresh of [1, 7, 59, 119, 120, 150, 3600, null]) {
    const query = pageQuery((name) => (name === "refresh" ? refresh?.toString() : undefined), {
      themed: false,
      zones,
    });
    const page = await pages.game("g", query);
    // What rendering with this very refresh gives, byte for byte.
    const direct = renderGamePage(game!, {
      stylesheet: "/kiosk.css",
      refresh: refresh ?? 5,
      renderedAt: START,
      now: START,
      zone: query.zone,
    });
    assert.equal(new TextDecoder().decode(page.body), direct, `refresh=${refresh}`);
    assert.equal(page.refresh, refresh ?? 5);
    assert.equal((await pages.game("g", query)).body, page.body, "then the same bytes");
  }
  const waiting = await pages.game(
    "nope",
    pageQuery((name) => (name === "refresh" ? "42" : undefined), { themed: false, zones }),
  );
  assert.match(new TextDecoder().decode(waiting.body), /content="42"[^]*every 42 s/);
  assert.equal(pages.renders, 2, "one render per page, whatever the refresh");
});

Deno.test("the rendered-page cache is bounded in bytes, however many refreshes and zones are asked for", async () => {
  const clock = new ManualClock(START);
  await using server = await startServer({ clock });
  for (let i = 0; i < 60; i++) await put(server.url, `g-${i}`, gameBody(i));
  const zones = new Zones();
  const pages = new KioskPages({
    store: server.store,
    clock,
    stylesheet: () => Promise.resolve("/kiosk.css"),
  });
  // The largest page a board has: 48 games to a page.
  const all = boardQuery((name) => (name === "per" ? "48" : undefined), () => undefined);
  const board = (await pages.board(pageQuery(() => undefined, { themed: false, zones }), all)).body;
  assert.ok(board.byteLength > 15_000, `a board page of 48 games is ${board.byteLength} bytes`);
  for (let refresh = 1; refresh <= 1200; refresh++) {
    const tz = refresh % 3 === 0 ? `+${String(refresh % 24).padStart(2, "0")}` : undefined;
    const query = (name: string) =>
      name === "refresh" ? String(refresh) : name === "tz" ? tz : undefined;
    await pages.board(pageQuery(query, { themed: false, zones }), all);
  }
  assert.ok(pages.cachedBytes <= 2 * PAGE_CACHE_BYTES, `${pages.cachedBytes} bytes cached`);
  assert.ok(pages.renders <= 25, `${pages.renders} renders: one per zone, not per refresh`);
});

Deno.test("numeric ?tz= offsets read as Intl reads them, without a formatter kept for each", () => {
  const zones = new Zones();
  const at = Date.UTC(2026, 10, 21, 18, 4);
  const format = (zone: string) =>
    new Intl.DateTimeFormat("en-GB", { ...STAMP_FORMAT, timeZone: zone });
  for (const zone of ["+05", "+0530", "-0930", "+00", "-00", "-0001", "+2359", "-23", "+1245"]) {
    assert.equal(zones.param(zone).format(at), format(zone).format(at), zone);
    assert.equal(zones.param(zone).id, format(zone).resolvedOptions().timeZone, zone);
  }
  for (const sign of ["+", "-"]) {
    for (let minutes = 0; minutes < 24 * 60; minutes += 7) {
      const hh = String(Math.floor(minutes / 60)).padStart(2, "0");
      zones.param(`${sign}${hh}${String(minutes % 60).padStart(2, "0")}`);
    }
  }
  assert.ok(zones.size <= ZONE_CACHE_SIZE, `${zones.size} zones kept`);
  for (const bad of ["+24", "+0560", "+5", "+05:30"]) {
    assert.throws(() => zones.param(bad), /tz: /, bad);
  }
});

Deno.test("?tz= shows the stamp in that time zone, and an unknown zone is a 400 page", async () => {
  await using server = await startServer({ clock: new ManualClock(START) });
  await put(server.url, "g", gameBody());
  const london = await call(server.url, "/games/g?tz=Europe/London");
  assert.equal(london.status, 200);
  assert.match(london.text, /Sat 21 Nov, 18:00 GMT/);
  const york = await call(server.url, "/?tz=america/new_york");
  assert.match(york.text, /Sat 21 Nov, 13:00 GMT-5/);
  for (const tz of ["Mars/Base", "<b>", "Europe/London;x"]) {
    const bad = await call(server.url, `/games/g?tz=${encodeURIComponent(tz)}`);
    assert.equal(bad.status, 400, tz);
    assertPageHeaders(bad.headers, "'none'");
    assert.match(bad.text, /tz: /);
    assert.doesNotMatch(bad.text, /<b>/);
  }
});

Deno.test("text from a game is escaped on every page", async () => {
  await using server = await startServer();
  await put(server.url, "xss", {
    title: `"quoted" & <b>bold</b>`,
    status: "live",
    period: "<i>",
    home: { name: XSS, detail: "<script>" },
    away: { name: "O'Brien" },
  });
  for (const path of ["/games/xss", "/", "/embed/games/xss"]) {
    const page = await call(server.url, path);
    assert.equal(page.status, 200, path);
    assert.match(page.text, /&lt;img src=x onerror=alert\(1\)&gt;/, path);
    assert.match(page.text, /&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;\/b&gt;/, path);
    assert.match(page.text, /O&#39;Brien/, path);
    assert.doesNotMatch(page.text, /<img|<b>|<i>|<script>/, path);
  }
});

Deno.test("the embed page may sit in a frame on any site, runs only our script, and reloads only without JavaScript", async () => {
  await using server = await startServer();
  await put(server.url, "cup-final", gameBody(2, 1, { status: "final" }));
  const page = await call(server.url, "/embed/games/cup-final");
  assert.equal(page.status, 200);
  assertPageHeaders(page.headers, "'self'");
  assert.match(page.headers.get("content-security-policy")!, /frame-ancestors \*/);
  assert.equal(page.headers.get("x-frame-options"), null);
  assert.equal(page.headers.get("refresh"), null, "a Refresh header would reload the widget too");
  assert.ok(page.headers.get("etag"));
  const head = page.text.slice(0, page.text.indexOf("</head>"));
  assert.match(head, /<noscript><meta http-equiv="refresh" content="60"><\/noscript>/);
  assert.match(head, /<script type="module" src="\/widget.js"><\/script>/);
  assert.equal(head.match(/http-equiv="refresh"/g)?.length, 1, "no refresh outside <noscript>");
  assert.match(page.text, /<scoreline-game game="cup-final"><div class="card status-final/);
  assert.match(
    page.text,
    /<span class="team-name">Lions<\/span><span class="team-score">2<\/span>/,
  );

  const dark = await call(server.url, "/embed/games/cup-final?theme=dark&refresh=15");
  assert.equal(dark.status, 200);
  assert.match(dark.text, /<html lang="en" class="embed theme-dark">/);
  assert.match(dark.text, /<noscript><meta http-equiv="refresh" content="15"><\/noscript>/);
  const timeline = await call(server.url, "/embed/games/cup-final?timeline=1");
  assert.equal(timeline.status, 200);
  assert.match(timeline.text, /<scoreline-game game="cup-final" timeline><div class="card/);
  const noTimeline = await call(server.url, "/embed/games/cup-final?timeline=2");
  assert.equal(noTimeline.status, 400);
  assert.match(noTimeline.text, /timeline: must be 1 or 0/);
  const bad = await call(server.url, "/embed/games/cup-final?theme=neon");
  assert.equal(bad.status, 400);
  assert.match(bad.headers.get("content-security-policy")!, /frame-ancestors \*/);
  assert.match(bad.text, /theme: must be light or dark/);

  const waiting = await call(server.url, "/embed/games/not-yet");
  assert.equal(waiting.status, 404);
  assert.match(waiting.text, /<scoreline-game game="not-yet">/);
  assert.match(waiting.text, /Waiting for this game/);
});

Deno.test("/widget.js is a JavaScript module any site may load, built on /client.js, revalidated by ETag", async () => {
  await using server = await startServer();
  const widget = await call(server.url, "/widget.js", {
    headers: { origin: "https://news.example" },
  });
  assert.equal(widget.status, 200);
  assert.equal(widget.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(widget.headers.get("access-control-allow-origin"), "*");
  assert.equal(widget.headers.get("cross-origin-resource-policy"), "cross-origin");
  assert.equal(widget.headers.get("cache-control"), "public, max-age=300");
  assert.match(widget.text, /customElements\.define\(TAG, ScorelineGame\)/);
  // Built on the client library served beside it: no connection logic of its own. Its imports
  // name the versions served with it, cached for good, so a widget cached from before a deploy
  // runs with the /client.js (and labels) it was fetched with.
  const imports: Array<[specifier: string, plain: string]> = [
    ["./client.js", "/client.js"],
    ["./static/labels.js", "/static/labels.js"],
  ];
  for (const [specifier, plain] of imports) {
    const imported = new RegExp(`from "(${specifier.replaceAll(".", "\\.")}\\?v=[0-9a-f]{16})";`)
      .exec(widget.text)?.[1];
    assert.ok(imported, `/widget.js imports ${specifier} by its version`);
    const pinned = await call(
      server.url,
      new URL(imported, `${server.url}/widget.js`).href.slice(server.url.length),
    );
    const current = await call(server.url, plain);
    assert.equal(pinned.status, 200);
    assert.equal(pinned.text, current.text);
    assert.equal(`"${imported.split("?v=")[1]}"`, current.headers.get("etag"));
    assert.equal(pinned.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(pinned.headers.get("access-control-allow-origin"), "*");
  }
  assert.doesNotMatch(widget.text, /from "\.\/client\.js";|from "\.\/static\/labels\.js";/);
  assert.doesNotMatch(widget.text, /EventSource|new WebSocket|fetch\(|XMLHttpRequest/);
  assert.doesNotMatch(widget.text, /innerHTML|insertAdjacentHTML|outerHTML|document\.write/);
  const etag = widget.headers.get("etag")!;
  const again = await call(server.url, "/widget.js", { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  assert.equal(again.text, "");
});

Deno.test("the kiosk stylesheet is cached for good under the versioned URL the pages link", async () => {
  await using server = await startServer();
  const page = await call(server.url, "/");
  const href = /<link rel="stylesheet" href="([^"]+)">/.exec(page.text)?.[1];
  assert.match(href ?? "", /^\/static\/kiosk\.css\?v=[0-9a-f]{16}$/);
  const css = await call(server.url, href!);
  assert.equal(css.status, 200);
  assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
  assert.equal(css.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.match(css.text, /\.badge-live/);
  const stale = await call(server.url, "/static/kiosk.css?v=0000000000000000");
  assert.equal(stale.status, 200);
  assert.equal(stale.headers.get("cache-control"), "no-cache");
  const missing = await call(server.url, "/static/secrets.txt");
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("content-type"), "application/problem+json");
});

Deno.test("pages answer HEAD with their headers, and other methods with 405", async () => {
  await using server = await startServer();
  const head = await call(server.url, "/", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(head.text, "");
  for (const path of ["/", "/games/g", "/embed/games/g", "/widget.js"]) {
    const post = await call(server.url, path, { method: "POST" });
    assert.equal(post.status, 405, path);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
  }
});

Deno.test("when the store cannot be read, a page says so and reloads itself", async () => {
  await using server = await startServer();
  await server.store.close();
  const page = await call(server.url, "/games/g?refresh=5");
  assert.equal(page.status, 503);
  assertPageHeaders(page.headers, "'none'");
  const retry = page.headers.get("retry-after");
  assert.ok(retry && Number(retry) > 0);
  assert.equal(page.headers.get("refresh"), retry);
  assert.match(page.text, new RegExp(`<meta http-equiv="refresh" content="${retry}">`));
  assert.match(page.text, /503 Service unavailable/);
});

// ---- The board's filters and pages, and kick-off times ----

/** `/` with this query: the card links it shows, in order. */
async function boardCards(url: string, query: string) {
  const page = await call(url, `/${query}`);
  assert.equal(page.status, 200, `/${query}: ${page.text.slice(0, 300)}`);
  assertPageHeaders(page.headers, "'none'");
  const ids = [...page.text.matchAll(/<a href="\/games\/([a-z0-9-]+)" class="card/g)].map((m) =>
    m[1]!
  );
  return { page, ids };
}

Deno.test("the board shows only a filter's games: ?competition= and ?games=, named in its header", async () => {
  await using server = await startServer({ clock: new ManualClock(START) });
  for (const [id, competition] of [["a", "cup"], ["b", "league"], ["c", "cup"], ["d", ""]]) {
    await put(server.url, id!, gameBody(0, 0, competition ? { competition } : {}));
  }
  const cup = await boardCards(server.url, "?competition=cup");
  assert.deepEqual(cup.ids, ["a", "c"]);
  assert.match(cup.page.text, /<h1>Scores <span class="filter">cup<\/span><\/h1>/);
  assert.match(cup.page.text, /<title>Scores · cup · Scoreline<\/title>/);
  const listed = await boardCards(server.url, "?games=d,b,later");
  assert.deepEqual(listed.ids, ["b", "d"]);
  assert.match(listed.page.text, /<span class="filter">3 games<\/span>/);
  const none = await boardCards(server.url, "?competition=nobody");
  assert.deepEqual(none.ids, []);
  assert.match(none.page.text, /No games yet/);
  assert.deepEqual((await boardCards(server.url, "")).ids, ["a", "b", "c", "d"]);
});

Deno.test("with more games than ?per=, the board shows one page at a time, says which, and each refresh moves to the next", async () => {
  await using server = await startServer({ clock: new ManualClock(START) });
  for (let i = 1; i <= 7; i++) {
    await put(server.url, `g${i}`, gameBody(0, 0, { status: "final", competition: "cup" }));
  }
  const seen: string[] = [];
  let query = "?competition=cup&per=3&refresh=20&tz=Europe/London";
  for (const [number, url] of [[1, "page=2"], [2, "page=3"], [3, "page=1"]] as const) {
    const { page, ids } = await boardCards(server.url, query);
    seen.push(...ids);
    const next = `/?competition=cup&per=3&${url}&refresh=20&tz=Europe%2FLondon`;
    assert.equal(page.headers.get("refresh"), `20; url=${next}`, `page ${number}`);
    const meta = `<meta http-equiv="refresh" content="20; url=${next.replaceAll("&", "&amp;")}">`;
    assert.ok(page.text.includes(meta), `page ${number}: ${meta}`);
    assert.match(
      page.text,
      new RegExp(`<p class="page-no"><span class="sr">Page </span>${number} / 3</p>`),
    );
    query = next.slice(1);
  }
  assert.deepEqual(seen, ["g1", "g2", "g3", "g4", "g5", "g6", "g7"], "every game, once a cycle");
  // Past the last page: the first. With one page only: no page number, a plain refresh.
  const past = await boardCards(server.url, "?competition=cup&per=3&page=9");
  assert.deepEqual(past.ids, ["g1", "g2", "g3"]);
  assert.match(past.page.text, /1 \/ 3/);
  const single = await boardCards(server.url, "?competition=cup");
  assert.equal(single.page.headers.get("refresh"), "60");
  assert.doesNotMatch(single.page.text, /page-no/);
  assert.equal(single.ids.length, 7, "12 to a page by default");
});

Deno.test("a board page is cached by the page it shows: page numbers past the last add nothing to the cache", async () => {
  const clock = new ManualClock(START);
  await using server = await startServer({ clock });
  const pages = pagesOf(server, clock);
  for (let i = 1; i <= 5; i++) await put(server.url, `g${i}`, gameBody());
  const query = pageQuery(() => undefined, { themed: false, zones: new Zones() });
  const board = (page: number) => pages.board(query, { scope: ALL_GAMES, per: 2, page });
  const first = await board(1);
  await board(2);
  await board(3);
  assert.equal(pages.renders, 3);
  for (let page = 4; page < 500; page++) assert.equal(await board(page), first);
  assert.equal(pages.renders, 3, "pages 4 to 499 are page 1");
});

Deno.test("bad board parameters are 400 pages naming them: a filter, per, page", async () => {
  await using server = await startServer();
  const cases: [string, RegExp][] = [
    ["games=a,a", /games: &quot;a&quot; is listed twice/],
    ["games=", /games: must list 1 to 100 game ids/],
    [
      `games=${Array.from({ length: 101 }, (_, i) => `g${i}`).join(",")}`,
      /games: must list at most 100/,
    ],
    ["games=Not_Id", /games: &quot;Not_Id&quot; is not a game id/],
    ["competition=UPPER", /competition: must be 1 to 64 characters/],
    ["games=a&competition=b", /games, competition: give one filter/],
    ["per=0", /per: must be an integer from 1 to 48/],
    ["per=49", /per: must be an integer from 1 to 48/],
    ["per=x", /per: must be an integer from 1 to 48/],
    ["page=0", /page: must be an integer from 1 to 999999/],
    ["page=-1", /page: must be an integer/],
    ["page=1.5", /page: must be an integer/],
  ];
  for (const [query, message] of cases) {
    const page = await call(server.url, `/?${query}`);
    assert.equal(page.status, 400, query);
    assertPageHeaders(page.headers, "'none'");
    assert.match(page.text, /400 Invalid request/);
    assert.match(page.text, message, query);
  }
});

Deno.test("a scheduled game shows its kick-off in the page's time zone, on the board, its own page and the embed", async () => {
  await using server = await startServer({ clock: new ManualClock(START) });
  await put(
    server.url,
    "later",
    gameBody(0, 0, { status: "scheduled", startsAt: "2026-12-07T19:45:00Z" }),
  );
  await put(
    server.url,
    "now",
    gameBody(1, 0, { status: "live", startsAt: "2026-11-21T17:00:00Z" }),
  );
  for (const path of ["/", "/games/later", "/embed/games/later"]) {
    const utc = await call(server.url, path);
    assert.equal(utc.status, 200, path);
    assert.match(
      utc.text,
      /Kick-off <time datetime="2026-12-07T19:45:00.000Z">Mon 7 Dec, 19:45 UTC<\/time>/,
      path,
    );
    const tokyo = await call(server.url, `${path}?tz=Asia/Tokyo`);
    assert.match(tokyo.text, /Kick-off <time datetime="[^"]+">Tue 8 Dec, 04:45 GMT\+9<\/time>/);
  }
  const own = await call(server.url, "/games/later");
  assert.doesNotMatch(own.text, /class="competition"/, "no competition, no line for it");
  await put(server.url, "in-cup", gameBody(0, 0, { competition: "cup-2026" }));
  assert.match(
    (await call(server.url, "/games/in-cup")).text,
    /<p class="competition">cup-2026<\/p>/,
    "a game's page names its competition",
  );
  const live = await call(server.url, "/games/now");
  assert.doesNotMatch(live.text, /Kick-off/, "a game under way shows its clock, not its kick-off");
  // The board orders upcoming games by kick-off.
  await put(
    server.url,
    "sooner",
    gameBody(0, 0, { status: "scheduled", startsAt: "2026-12-01T12:00:00Z" }),
  );
  assert.deepEqual((await boardCards(server.url, "")).ids, ["in-cup", "now", "sooner", "later"]);
});
