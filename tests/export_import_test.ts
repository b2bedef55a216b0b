/**
 * GET /api/export and POST /api/import, end to end: an export taken back by another service has
 * the same games with new versions, viewers of that service get every one of them, and an
 * import with any bad line is refused whole, naming the line, with nothing changed.
 */
import assert from "node:assert/strict";
import { ManualClock } from "./support/clock.ts";
import { openNdjson } from "./support/feeds.ts";
import { call, gameBody } from "./support/http.ts";
import { latin1, readResponse } from "./support/raw_http.ts";
import { SCOPED_TOKEN, startServer, type TestServer, TOKEN } from "./support/server.ts";

const NDJSON = "application/x-ndjson";

function importBody(server: TestServer, body: BodyInit, headers: Record<string, string> = {}) {
  return call(server.url, "/api/import", {
    method: "POST",
    token: TOKEN,
    raw: body,
    headers: { "content-type": NDJSON, ...headers },
  });
}

/** The export's answer; its body as text (it is NDJSON, not one JSON document). */
async function exported(server: TestServer, token = TOKEN) {
  const response = await fetch(`${server.url}/api/export`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

const line = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id, ...gameBody(1, 2), ...extra });

Deno.test("GET /api/export streams every game as one JSON line each, to a token for every game only", async () => {
  await using server = await startServer();
  for (const id of ["b", "a", "c"]) {
    const put = await call(server.url, `/api/games/${id}`, {
      method: "PUT",
      token: TOKEN,
      body: gameBody(id.charCodeAt(0) - 96, 0, { period: "2nd half" }),
    });
    assert.equal(put.status, 201);
  }
  await call(server.url, "/api/games/c", { method: "DELETE", token: TOKEN });
  const answer = await exported(server);
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("content-type"), NDJSON);
  assert.equal(answer.headers.get("cache-control"), "no-store");
  assert.ok(answer.text.endsWith("\n"));
  const games = answer.text.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(games, (await call(server.url, "/api/games")).json.games);
  assert.deepEqual(games.map((g) => g.id), ["a", "b"]);

  const scoped = await call(server.url, "/api/export", { token: SCOPED_TOKEN });
  assert.equal(scoped.status, 403);
  assert.equal(scoped.headers.get("content-type"), "application/problem+json");
  assert.match(scoped.json.detail, /token for every game/);
  const anonymous = await call(server.url, "/api/export");
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get("www-authenticate"), "Bearer");
});

Deno.test("an export imported into another service gives the same games, re-stamped, and its viewers get each one", async () => {
  const clock = new ManualClock();
  await using source = await startServer({ clock });
  for (const [id, home] of [["final", 3], ["semi-1", 1], ["semi-2", 0]] as const) {
    await call(source.url, `/api/games/${id}`, {
      method: "PUT",
      token: TOKEN,
      body: gameBody(home, 2, { away: { name: "Tigers", score: 2, detail: "10 men" } }),
    });
  }
  const file = (await exported(source)).text;

  clock.advance(60_000);
  await using target = await startServer({ clock });
  await call(target.url, "/api/games/semi-1", { method: "PUT", token: TOKEN, body: gameBody() });
  const before = (await call(target.url, "/api/games")).json.version;
  const feed = await openNdjson(`${target.url}/api/stream?since=${before}`);
  try {
    await target.opened("ndjson");

    const answer = await importBody(target, file);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("content-type"), "application/json");
    assert.deepEqual(answer.json, {
      version: before + 3,
      imported: 3,
      created: 2,
      replaced: 1,
    });

    const list = (await call(target.url, "/api/games")).json;
    const strip = ({ version: _v, updatedAt: _u, ...rest }: Record<string, unknown>) => rest;
    const sourceGames = file.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(list.games.map(strip), sourceGames.map(strip));
    assert.deepEqual(
      list.games.map((g: { version: number }) => g.version),
      [before + 1, before + 2, before + 3],
      "new versions from this service's counter, in the file's order",
    );
    const now = new Date(clock.now()).toISOString();
    assert.ok(list.games.every((g: { updatedAt: string }) => g.updatedAt === now));

    const messages = (await feed.inbox.until((m) => m.version === before + 3))
      .filter((m) => m.type !== "ping");
    assert.deepEqual(
      messages.map((m) => [m.type, m.game.id, m.version]),
      [["update", "final", before + 1], ["update", "semi-1", before + 2], [
        "update",
        "semi-2",
        before + 3,
      ]],
    );
  } finally {
    await feed.close();
  }
});

/** Every way a line can be bad, and the line the 400 must name. */
const BAD_FILES: [string, string, number, RegExp][] = [
  ["a line that is not JSON", `${line("a")}\n${line("b")}\n{"id": "c",\n`, 3, /not well-formed/],
  [
    "an invalid game",
    `${line("a")}\n${line("b", { home: { name: "L", score: -1 } })}\n`,
    2,
    /home\.score/,
  ],
  ["an unknown field", `${line("a", { colour: "red" })}\n`, 1, /colour: unknown field/],
  ["a bad id", `${line("a")}\n\n${line("Not An Id")}\n`, 3, /^id: /],
  ["a line that is not a game", `${line("a")}\n[1, 2]\n`, 2, /must be a game/],
  ["a game named twice", `${line("a")}\n${line("b")}\n${line("a")}\n`, 3, /again \(see line 1\)/],
  [
    "a line over 1 MiB",
    `${line("a")}\n"${"x".repeat(1024 * 1024 + 1)}"\n`,
    2,
    /longer than 1048576/,
  ],
];

for (const [what, file, bad, message] of BAD_FILES) {
  Deno.test(`an import with ${what} is 400 naming line ${bad}, and changes nothing`, async () => {
    await using server = await startServer();
    await call(server.url, "/api/games/a", { method: "PUT", token: TOKEN, body: gameBody(5, 5) });
    const before = (await call(server.url, "/api/games")).json;
    const answer = await importBody(server, file);
    assert.equal(answer.status, 400);
    assert.equal(answer.headers.get("content-type"), "application/problem+json");
    const lineErrors = answer.json.errors.filter((e: { path: string }) => e.path === `line ${bad}`);
    assert.ok(lineErrors.length > 0, JSON.stringify(answer.json));
    assert.ok(
      lineErrors.some((e: { message: string }) => message.test(e.message)),
      JSON.stringify(lineErrors),
    );
    assert.deepEqual(answer.json.errors.map((e: { path: string }) => e.path), [`line ${bad}`]);
    assert.match(answer.json.detail, new RegExp(`^line ${bad}: `));
    assert.deepEqual((await call(server.url, "/api/games")).json, before);
  });
}

Deno.test("an import with a line that is not UTF-8 is 400 naming it", async () => {
  await using server = await startServer();
  const bytes = new Uint8Array([
    ...new TextEncoder().encode(`${line("a")}\n{"id":"b","title":"`),
    0xff,
    ...new TextEncoder().encode(`"}\n`),
  ]);
  const answer = await importBody(server, bytes);
  assert.equal(answer.status, 400);
  assert.deepEqual(answer.json.errors, [{ path: "line 2", message: "is not valid UTF-8" }]);
  assert.deepEqual((await call(server.url, "/api/games")).json.games, []);
});

Deno.test("an import reports every bad line, up to twenty", async () => {
  await using server = await startServer();
  const file = Array.from({ length: 30 }, (_, i) => i % 2 ? "nope" : line(`g${i}`)).join("\n");
  const answer = await importBody(server, file);
  assert.equal(answer.status, 400);
  assert.equal(answer.json.errors.length, 15);
  assert.equal(answer.json.errors[0].path, "line 2");
  assert.equal(answer.json.errors[14].path, "line 30");
  assert.match(answer.json.detail, /^line 2: is not well-formed JSON.*\(and 14 more\)$/);
});

Deno.test("an import over 32 MiB is 413, whether it says so up front or not, and changes nothing", async () => {
  await using server = await startServer();
  const big = 32 * 1024 * 1024 + 1;
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: Number(new URL(server.url).port),
  });
  await conn.write(latin1(
    `POST /api/import HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      `Content-Type: ${NDJSON}\r\nContent-Length: ${big}\r\n\r\n`,
  ));
  const declared = await readResponse(conn);
  conn.close();
  assert.equal(declared.status, 413, "refused before a byte of the body is read");
  // Blank lines: nothing in them is wrong but their number.
  const chunk = new TextEncoder().encode(`${" ".repeat(64 * 1024 - 1)}\n`);
  let sent = 0;
  const streamed = await importBody(
    server,
    new ReadableStream({
      pull(controller) {
        if (sent > big) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    }),
  );
  assert.equal(streamed.status, 413);
  assert.equal(streamed.headers.get("content-type"), "application/problem+json");
  assert.match(streamed.json.detail, /larger than 33554432 bytes/);
  assert.deepEqual((await call(server.url, "/api/games")).json.games, []);
});

Deno.test("an import needs a token for every game and application/x-ndjson", async () => {
  await using server = await startServer();
  const anonymous = await call(server.url, "/api/import", {
    method: "POST",
    raw: line("a"),
    headers: { "content-type": NDJSON },
  });
  assert.equal(anonymous.status, 401);
  const scoped = await call(server.url, "/api/import", {
    method: "POST",
    token: SCOPED_TOKEN,
    raw: line("game-a"),
    headers: { "content-type": NDJSON },
  });
  assert.equal(scoped.status, 403);
  const json = await importBody(server, line("a"), { "content-type": "application/json" });
  assert.equal(json.status, 415);
  assert.match(json.json.detail, /application\/x-ndjson/);
  const latin = await importBody(server, line("a"), {
    "content-type": `${NDJSON}; charset=latin1`,
  });
  assert.equal(latin.status, 415);
  assert.deepEqual((await call(server.url, "/api/games")).json.games, []);
});

Deno.test("an import takes blank lines, CRLF, a byte order mark and no final newline; an empty one imports nothing", async () => {
  await using server = await startServer();
  const empty = await importBody(server, "");
  assert.equal(empty.status, 200);
  assert.equal(empty.json.imported, 0);
  const answer = await importBody(server, `\uFEFF${line("a")}\r\n\r\n${line("b")}`);
  assert.equal(answer.status, 200);
  assert.deepEqual(
    (await call(server.url, "/api/games")).json.games.map((g: { id: string }) => g.id),
    ["a", "b"],
  );
});

Deno.test("an import keeps a game's competition when the line names none, and a line that would move it to another is 400", async () => {
  await using server = await startServer();
  await call(server.url, "/api/games/a", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(0, 0, { competition: "cup", startsAt: "2026-12-07T17:00:00Z" }),
  });
  const file = (await exported(server)).text;
  assert.match(file, /"competition":"cup","startsAt":"2026-12-07T17:00:00.000Z"/, "every part");
  const kept = await importBody(server, `${line("a")}\n`);
  assert.equal(kept.status, 200);
  const a = (await call(server.url, "/api/games/a")).json;
  assert.equal(a.competition, "cup");
  assert.equal(a.startsAt, undefined, "the rest of the game is the line's");
  const before = (await call(server.url, "/api/games")).json;
  const moved = await importBody(server, `${line("b")}\n${line("a", { competition: "league" })}\n`);
  assert.equal(moved.status, 400);
  assert.equal(moved.headers.get("content-type"), "application/problem+json");
  assert.deepEqual(moved.json.errors.map((e: { path: string }) => e.path), ["line 2"]);
  assert.match(moved.json.errors[0].message, /^competition: .*"cup"/);
  assert.deepEqual((await call(server.url, "/api/games")).json, before);
});

Deno.test("a game with a timer and a timeline moves whole: its events keep their ids and times and take the new version", async () => {
  const clock = new ManualClock();
  await using source = await startServer({ clock });
  const url = source.url;
  await call(url, "/api/games/cup", { method: "PUT", token: TOKEN, body: gameBody() });
  await call(url, "/api/games/cup/timer", {
    method: "POST",
    token: TOKEN,
    body: { action: "start" },
  });
  clock.advance(60_000);
  for (const text of ["Okafor", "Lind"]) {
    const added = await call(url, "/api/games/cup/events", {
      method: "POST",
      token: TOKEN,
      body: { kind: "goal", side: "home", points: 1, text },
    });
    assert.equal(added.status, 201, added.text);
  }
  await call(url, "/api/games/cup/events/1", { method: "DELETE", token: TOKEN });
  const before = (await call(url, "/api/games/cup")).json;
  const file = (await exported(source)).text;

  clock.advance(60_000);
  await using target = await startServer({ clock });
  const imported = await importBody(target, file);
  assert.equal(imported.status, 200, imported.text);
  const after = (await call(target.url, "/api/games/cup")).json;
  assert.equal(after.version, imported.json.version);
  assert.deepEqual(after.timer, before.timer, "the timer goes on from where it stood");
  assert.deepEqual(after.lastEventId, 2, "ids are never reused, the removed one included");
  assert.deepEqual(
    after.events,
    before.events.map((event: Record<string, unknown>) => ({ ...event, version: after.version })),
  );
  assert.equal(after.home.score, 1);
});
