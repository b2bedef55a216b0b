/**
 * The match over HTTP (API.md v2, "The match: running timer and timeline"): the timer route, the
 * timer in PUT and PATCH, and the timeline routes, with every rule of the writes (token, scope,
 * If-Match, Idempotency-Key, problems) and what reaches the feeds. Time is a ManualClock: the
 * time a timer shows is computed from it, never waited for.
 */
import assert from "node:assert/strict";
import { MAX_EVENTS } from "../core/schema.ts";
import { ManualClock } from "./support/clock.ts";
import { openSse } from "./support/feeds.ts";
import { type Answer, assertProblem, call, gameBody } from "./support/http.ts";
import { SCOPED_TOKEN, startServer, type TestServer, TOKEN } from "./support/server.ts";

const START = Date.UTC(2026, 11, 7, 17, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

function write(
  server: TestServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return call(server.url, path, { method, token: TOKEN, body, headers });
}

const timer = (server: TestServer, id: string, body: unknown, headers = {}) =>
  write(server, "POST", `/api/games/${id}/timer`, body, headers);
const addEvent = (server: TestServer, id: string, body: unknown, headers = {}) =>
  write(server, "POST", `/api/games/${id}/events`, body, headers);
const removeEvent = (server: TestServer, id: string, eventId: string | number, headers = {}) =>
  write(server, "DELETE", `/api/games/${id}/events/${eventId}`, undefined, headers);

/** A server on a manual clock with one live game, 0–0, at version `version`. */
async function withGame(id = "cup-final") {
  const clock = new ManualClock(START);
  const server = await startServer({ clock });
  const created = await write(server, "PUT", `/api/games/${id}`, gameBody(0, 0));
  assert.equal(created.status, 201);
  return { clock, server, version: created.json.version as number };
}

async function board(server: TestServer) {
  return (await call(server.url, "/api/games")).json;
}

function assertGame(answer: Answer, status: number) {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.headers.get("content-type"), "application/json");
  assert.equal(answer.headers.get("etag"), `"${answer.json.version}"`);
}

Deno.test("start, stop and set each answer the game with its timer as of the commit, at a new version", async () => {
  const { clock, server, version } = await withGame();
  await using _ = server;
  const started = await timer(server, "cup-final", { action: "start" });
  assertGame(started, 200);
  assert.equal(started.json.version, version + 1);
  assert.deepEqual(started.json.timer, {
    running: true,
    elapsedMs: 0,
    at: iso(START),
    direction: "up",
  });
  assert.deepEqual(Object.keys(started.json), [
    "id",
    "title",
    "status",
    "timer",
    "home",
    "away",
    "version",
    "updatedAt",
  ]);
  clock.advance(2_700_000);
  const stopped = await timer(server, "cup-final", { action: "stop" });
  assertGame(stopped, 200);
  assert.deepEqual(stopped.json.timer, {
    running: false,
    elapsedMs: 2_700_000,
    at: iso(START + 2_700_000),
    direction: "up",
  });
  clock.advance(900_000); // half-time: a stopped timer does not move
  const set = await timer(server, "cup-final", { action: "set", elapsedMs: 2_700_000 });
  assert.equal(set.json.timer.running, false, "set keeps a stopped timer stopped");
  assert.equal(set.json.version, version + 3);
  const restarted = await timer(server, "cup-final", { action: "start" });
  assert.equal(restarted.json.timer.elapsedMs, 2_700_000);
  clock.advance(60_000);
  const reset = await timer(server, "cup-final", { action: "set", elapsedMs: 0 });
  assert.deepEqual(reset.json.timer, {
    running: true,
    elapsedMs: 0,
    at: iso(clock.now()),
    direction: "up",
  }, "set keeps a running timer running, counted from the commit");
});

Deno.test("a start of a running timer and a stop of a stopped one are 200 with the game as it is: no version, no message", async () => {
  const { clock, server } = await withGame();
  await using _ = server;
  const started = await timer(server, "cup-final", { action: "start" });
  const sse = await openSse(
    `${server.url}/api/games/cup-final/events?since=${started.json.version}`,
  );
  await server.opened("sse");
  clock.advance(5_000);
  const again = await timer(server, "cup-final", { action: "start" });
  assertGame(again, 200);
  assert.deepEqual(again.json, started.json, "the game as it is, timer not restarted");
  const stopped = await timer(server, "cup-final", { action: "stop" });
  const stopAgain = await timer(server, "cup-final", { action: "stop" });
  assert.deepEqual(stopAgain.json, stopped.json);
  const setNew = await write(server, "PUT", "/api/games/other", gameBody());
  const stopNone = await timer(server, "other", { action: "stop" });
  assert.deepEqual(stopNone.json, setNew.json, "stopping no timer changes nothing either");
  const messages = await sse.inbox.until((e) => e.event === "update");
  assert.deepEqual(
    messages.filter((e) => e.data && e.event !== "ping").map((e) => JSON.parse(e.data).version),
    [stopped.json.version],
    "the only message is the stop's",
  );
  assert.equal(sse.inbox.buffered, 0);
  await sse.close();
  assert.equal(server.hub.counters.published, 4, "create, start, stop, create: nothing else");
});

Deno.test("a start on a game without a timer creates one counting up from zero; set creates a stopped one", async () => {
  const { server } = await withGame();
  await using _ = server;
  await write(server, "PUT", "/api/games/b", gameBody());
  const set = await timer(server, "b", { action: "set", elapsedMs: 1_234 });
  assert.deepEqual(set.json.timer, {
    running: false,
    elapsedMs: 1_234,
    at: iso(START),
    direction: "up",
  });
});

Deno.test("a GET then a PUT back of a running timer leaves the shown time continuous", async () => {
  const { clock, server } = await withGame();
  await using _ = server;
  await timer(server, "cup-final", { action: "start" });
  clock.advance(61_000);
  const read = await call(server.url, "/api/games/cup-final");
  clock.advance(10_000); // the scorer edits the title for ten seconds
  const put = await write(server, "PUT", "/api/games/cup-final", { ...read.json, title: "Final" });
  assertGame(put, 200);
  assert.deepEqual(
    put.json.timer,
    read.json.timer,
    "same at: the timer neither restarts nor jumps",
  );
  const patched = await write(server, "PATCH", "/api/games/cup-final", {
    period: "2nd half",
    timer: read.json.timer,
  });
  assert.deepEqual(patched.json.timer, read.json.timer);
  // A timer sent with a changed field is a new timer, from the commit time.
  const moved = await write(server, "PATCH", "/api/games/cup-final", {
    timer: { ...read.json.timer, elapsedMs: 2_700_000 },
  });
  assert.deepEqual(moved.json.timer, {
    running: true,
    elapsedMs: 2_700_000,
    at: iso(clock.now()),
    direction: "up",
  });
});

Deno.test("PATCH writes the timer whole: a partial one is 400 naming the missing field, null removes it", async () => {
  const { server } = await withGame();
  await using _ = server;
  await timer(server, "cup-final", { action: "start" });
  const before = await board(server);
  const partial = await write(server, "PATCH", "/api/games/cup-final", {
    timer: { running: false },
  });
  assertProblem(partial, 400, "validation");
  assert.deepEqual(partial.json.errors, [{ path: "timer.elapsedMs", message: "is required" }]);
  assert.deepEqual(await board(server), before, "nothing changed");
  const removed = await write(server, "PATCH", "/api/games/cup-final", { timer: null });
  assertGame(removed, 200);
  assert.equal(removed.json.timer, undefined);
});

Deno.test("a down timer without limitMs, and a limitMs below elapsedMs, are 400 naming timer.limitMs", async () => {
  const { server } = await withGame();
  await using _ = server;
  const before = await board(server);
  for (
    const [sent, message] of [
      [{ running: false, elapsedMs: 0, direction: "down" }, "is required when direction is down"],
      [
        { running: true, elapsedMs: 600_000, limitMs: 300_000 },
        "must not be below elapsedMs (600000)",
      ],
    ] as const
  ) {
    for (const method of ["PUT", "PATCH"]) {
      const body = method === "PUT" ? gameBody(0, 0, { timer: sent }) : { timer: sent };
      const answer = await write(server, method, "/api/games/cup-final", body);
      assertProblem(answer, 400, "validation");
      assert.deepEqual(answer.json.errors, [{ path: "timer.limitMs", message }], method);
    }
  }
  for (const bad of [-1, 1.5, 86_400_001, "60000"]) {
    const answer = await write(server, "PUT", "/api/games/cup-final", {
      ...gameBody(),
      timer: { running: true, elapsedMs: bad },
    });
    assertProblem(answer, 400, "validation");
    assert.equal(answer.json.errors[0].path, "timer.elapsedMs", String(bad));
  }
  assert.deepEqual(await board(server), before, "nothing changed");
});

Deno.test("a down timer counts what is left; set past its limit is 400 naming elapsedMs", async () => {
  const { clock, server } = await withGame();
  await using _ = server;
  const put = await write(server, "PUT", "/api/games/cup-final", {
    ...gameBody(),
    timer: { running: true, elapsedMs: 0, direction: "down", limitMs: 720_000 },
  });
  assertGame(put, 200);
  clock.advance(20_000);
  const page = await call(server.url, "/games/cup-final");
  assert.match(page.text, /<span class="clock">11:40<\/span>/);
  const before = await board(server);
  const past = await timer(server, "cup-final", { action: "set", elapsedMs: 720_001 });
  assertProblem(past, 400, "validation");
  assert.deepEqual(past.json.errors, [{
    path: "elapsedMs",
    message: "must be at most the timer's limitMs (720000)",
  }]);
  assert.deepEqual(await board(server), before);
});

Deno.test("the timer route's body is checked: unknown actions, elapsedMs without set, set without it", async () => {
  const { server } = await withGame();
  await using _ = server;
  const before = await board(server);
  for (
    const [body, path] of [
      [{ action: "pause" }, "action"],
      [{}, "action"],
      [{ action: "set" }, "elapsedMs"],
      [{ action: "start", elapsedMs: 5 }, "elapsedMs"],
      [{ action: "set", elapsedMs: -5 }, "elapsedMs"],
      [{ action: "stop", running: false }, "running"],
    ] as const
  ) {
    const answer = await timer(server, "cup-final", body);
    assertProblem(answer, 400, "validation");
    assert.equal(answer.json.errors[0].path, path, JSON.stringify(body));
  }
  assert.deepEqual(await board(server), before);
});

Deno.test("a write that makes a game final stops its running timer where it stands", async () => {
  const { clock, server } = await withGame();
  await using _ = server;
  await timer(server, "cup-final", { action: "start" });
  clock.advance(5_520_000);
  const final = await write(server, "PATCH", "/api/games/cup-final", { status: "final" });
  assert.deepEqual(final.json.timer, {
    running: false,
    elapsedMs: 5_520_000,
    at: iso(clock.now()),
    direction: "up",
  });
  // Already final: a timer started afterwards (a correction, extra time) is obeyed.
  const started = await timer(server, "cup-final", { action: "start" });
  assert.equal(started.json.timer.running, true);
});

Deno.test("an event answers 201 with the whole game, its ETag and the event's Location; its points are in the same version and message", async () => {
  const { clock, server, version } = await withGame();
  await using _ = server;
  await timer(server, "cup-final", { action: "start" });
  const sse = await openSse(`${server.url}/api/games/cup-final/events?since=${version + 1}`);
  await server.opened("sse");
  clock.advance(1_380_000);
  const goal = await addEvent(server, "cup-final", {
    kind: "goal",
    side: "home",
    points: 1,
    text: "Okafor",
  });
  assertGame(goal, 201);
  assert.equal(goal.headers.get("location"), "/api/games/cup-final/events/1");
  assert.equal(goal.json.version, version + 2);
  assert.equal(goal.json.home.score, 1);
  assert.deepEqual(goal.json.events, [{
    id: 1,
    kind: "goal",
    side: "home",
    points: 1,
    text: "Okafor",
    elapsedMs: 1_380_000,
    version: version + 2,
    time: iso(START + 1_380_000),
  }]);
  assert.equal(goal.json.lastEventId, 1);
  assert.deepEqual(Object.keys(goal.json).slice(-4), [
    "events",
    "lastEventId",
    "version",
    "updatedAt",
  ]);
  const card = await addEvent(server, "cup-final", {
    kind: "card",
    side: "away",
    text: "Yellow: Mensah",
    clock: "45+2'",
  });
  assertGame(card, 201);
  assert.equal(card.headers.get("location"), "/api/games/cup-final/events/2");
  assert.deepEqual(card.json.events[1], {
    id: 2,
    kind: "card",
    side: "away",
    text: "Yellow: Mensah",
    clock: "45+2'",
    elapsedMs: 1_380_000,
    version: version + 3,
    time: iso(START + 1_380_000),
  });
  assert.equal(card.json.away.score, 0, "no points, no score");
  const updates = (await sse.inbox.until((e) => e.id === String(version + 3)))
    .filter((e) => e.event === "update").map((e) => JSON.parse(e.data));
  assert.deepEqual(updates.map((m) => m.game), [goal.json, card.json], "one message per event");
  await sse.close();
});

Deno.test("an event without a timer has no elapsedMs; a note needs neither side nor points", async () => {
  const { server } = await withGame();
  await using _ = server;
  const note = await addEvent(server, "cup-final", { kind: "note", text: "Kick-off delayed" });
  assertGame(note, 201);
  assert.deepEqual(Object.keys(note.json.events[0]), ["id", "kind", "text", "version", "time"]);
});

Deno.test("an event's body is checked field by field, and a refused event adds nothing", async () => {
  const { server } = await withGame();
  await using _ = server;
  const before = await board(server);
  for (
    const [body, paths] of [
      [{ kind: "Goal" }, ["kind"]],
      [{ kind: "g".repeat(25) }, ["kind"]],
      [{ text: "x" }, ["kind"]],
      [{ kind: "goal", points: 1 }, ["side"]],
      [{ kind: "goal", side: "both", points: 1 }, ["side"]],
      [{ kind: "goal", side: "home", points: 0 }, ["points"]],
      [{ kind: "goal", side: "home", points: 101 }, ["points"]],
      [{ kind: "goal", side: "home", points: 1.5 }, ["points"]],
      [{ kind: "goal", text: "" }, ["text"]],
      [{ kind: "goal", text: "x".repeat(81) }, ["text"]],
      [{ kind: "goal", text: "a\u0007b" }, ["text"]],
      [{ kind: "goal", text: "a\ud800b" }, ["text"]],
      [{ kind: "goal", clock: "x".repeat(17) }, ["clock"]],
      [{ kind: "goal", id: 7 }, ["id"]],
      [{ kind: "goal", version: 1 }, ["version"]],
    ] as const
  ) {
    const answer = await addEvent(server, "cup-final", body);
    assertProblem(answer, 400, "validation");
    assert.deepEqual(
      answer.json.errors.map((e: { path: string }) => e.path),
      paths,
      JSON.stringify(body),
    );
  }
  assert.deepEqual(await board(server), before);
});

Deno.test("points that would take a score out of its range are 422 and add no event", async () => {
  const { server } = await withGame();
  await using _ = server;
  await write(server, "PUT", "/api/games/high", gameBody(999_990, 0));
  const before = await board(server);
  assertProblem(
    await addEvent(server, "cup-final", { kind: "correction", side: "home", points: -1 }),
    422,
    "score-out-of-range",
  );
  assertProblem(
    await addEvent(server, "high", { kind: "basket", side: "home", points: 11 }),
    422,
    "score-out-of-range",
  );
  assert.deepEqual(await board(server), before);
});

Deno.test("removing an event takes its points back; an unknown event is 404, a bad event id 400 naming eventId, and a score that would go below 0 is 422", async () => {
  const { server } = await withGame();
  await using _ = server;
  await addEvent(server, "cup-final", { kind: "try", side: "home", points: 5, text: "Smith" });
  await addEvent(server, "cup-final", { kind: "card", side: "away" });
  const removed = await removeEvent(server, "cup-final", 1);
  assertGame(removed, 200);
  assert.equal(removed.json.home.score, 0);
  assert.deepEqual(removed.json.events.map((e: { id: number }) => e.id), [2]);
  assertProblem(await removeEvent(server, "cup-final", 1), 404, "not-found");
  assertProblem(await removeEvent(server, "cup-final", 99), 404, "not-found");
  for (const bad of ["0", "-1", "1.5", "abc", "1e3", "9007199254740993", "%201"]) {
    const answer = await removeEvent(server, "cup-final", bad);
    assertProblem(answer, 400, "validation");
    assert.deepEqual(answer.json.errors, [{
      path: "eventId",
      message: "must be a positive integer",
    }]);
  }
  // A correction set the score below what the event added: taking the event back is refused.
  await addEvent(server, "cup-final", { kind: "goal", side: "home", points: 1 });
  await write(server, "POST", "/api/games/cup-final/score", { side: "home", points: -1 });
  const before = await board(server);
  assertProblem(await removeEvent(server, "cup-final", 3), 422, "score-out-of-range");
  assert.deepEqual(await board(server), before);
  assertProblem(await removeEvent(server, "nope", 1), 404, "not-found");
});

Deno.test("ids count per game and are never reused, even after the last event was removed", async () => {
  const { server } = await withGame();
  await using _ = server;
  await write(server, "PUT", "/api/games/other", gameBody());
  for (let i = 0; i < 2; i++) await addEvent(server, "cup-final", { kind: "note", text: `n${i}` });
  assert.equal((await addEvent(server, "other", { kind: "note" })).json.events[0].id, 1);
  await removeEvent(server, "cup-final", 2);
  const emptied = await removeEvent(server, "cup-final", 1);
  assert.equal(emptied.json.events, undefined);
  assert.equal(emptied.json.lastEventId, 2);
  const next = await addEvent(server, "cup-final", { kind: "note" });
  assert.equal(next.headers.get("location"), "/api/games/cup-final/events/3");
});

Deno.test("the timeline is written only through its routes: PUT and PATCH accept events back and ignore them", async () => {
  const { server } = await withGame();
  await using _ = server;
  const goal = await addEvent(server, "cup-final", { kind: "goal", side: "home", points: 1 });
  const forged = { id: 9, kind: "goal", side: "away", points: 7, version: 1, time: "x" };
  const put = await write(server, "PUT", "/api/games/cup-final", {
    ...goal.json,
    events: [forged],
    lastEventId: 40,
  });
  assertGame(put, 200);
  assert.deepEqual(put.json.events, goal.json.events, "a PUT keeps the game's timeline");
  assert.equal(put.json.lastEventId, 1);
  const patch = await write(server, "PATCH", "/api/games/cup-final", {
    events: [],
    lastEventId: 0,
  });
  assertGame(patch, 200);
  assert.deepEqual(patch.json.events, goal.json.events);
  for (const [body, path] of [[{ events: null }, "events"], [{ events: {} }, "events"]] as const) {
    const answer = await write(server, "PATCH", "/api/games/cup-final", body);
    assertProblem(answer, 400, "validation");
    assert.equal(answer.json.errors[0].path, path);
  }
  // Scores stay authoritative: a correction need not match the timeline.
  const corrected = await write(server, "PATCH", "/api/games/cup-final", { home: { score: 0 } });
  assert.equal(corrected.json.home.score, 0);
  assert.equal(corrected.json.events.length, 1);
});

Deno.test("an Idempotency-Key on an event replays its 201, Location and body and adds it once; the same key for another event is 422", async () => {
  const { server } = await withGame();
  await using _ = server;
  const headers = { "idempotency-key": "goal-okafor-23" };
  const body = { kind: "goal", side: "home", points: 1, text: "Okafor" };
  const first = await addEvent(server, "cup-final", body, headers);
  const retry = await addEvent(server, "cup-final", body, headers);
  assertGame(retry, 201);
  assert.equal(retry.headers.get("idempotent-replayed"), "true");
  assert.equal(retry.headers.get("location"), first.headers.get("location"));
  assert.deepEqual(retry.json, first.json);
  assert.equal((await call(server.url, "/api/games/cup-final")).json.home.score, 1, "once");
  assertProblem(
    await addEvent(server, "cup-final", { ...body, text: "Mensah" }, headers),
    422,
    "idempotency-key-reused",
  );
  // The event a removal is about is part of the request: one key, two events, is a reuse.
  await addEvent(server, "cup-final", { kind: "note" });
  const removal = { "idempotency-key": "undo-1" };
  assert.equal((await removeEvent(server, "cup-final", 1, removal)).status, 200);
  const replay = await removeEvent(server, "cup-final", 1, removal);
  assert.equal(replay.status, 200);
  assert.equal(replay.headers.get("idempotent-replayed"), "true");
  assertProblem(await removeEvent(server, "cup-final", 2, removal), 422, "idempotency-key-reused");
  // And a no-op timer start is recorded like any answer.
  const start = { "idempotency-key": "start-1" };
  await timer(server, "cup-final", { action: "start" });
  const noop = await timer(server, "cup-final", { action: "start" }, start);
  const again = await timer(server, "cup-final", { action: "start" }, start);
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.deepEqual(again.json, noop.json);
});

Deno.test("If-Match on the timer and the timeline: a stale version is 412 and changes nothing", async () => {
  const { server, version } = await withGame();
  await using _ = server;
  const stale = { "if-match": `"${version - 1}"` };
  const before = await board(server);
  assertProblem(
    await timer(server, "cup-final", { action: "start" }, stale),
    412,
    "precondition-failed",
  );
  assertProblem(
    await addEvent(server, "cup-final", { kind: "note" }, stale),
    412,
    "precondition-failed",
  );
  assert.deepEqual(await board(server), before);
  const current = { "if-match": `"${version}"` };
  const added = await addEvent(server, "cup-final", { kind: "note" }, current);
  assert.equal(added.status, 201);
  assertProblem(await removeEvent(server, "cup-final", 1, current), 412, "precondition-failed");
  assert.equal(
    (await removeEvent(server, "cup-final", 1, { "if-match": `"${added.json.version}"` })).status,
    200,
  );
});

Deno.test("the match writes need a token, keep to its games, and are 404 for a game that does not exist", async () => {
  const { server } = await withGame();
  await using _ = server;
  const paths: [string, string, unknown][] = [
    ["POST", "timer", { action: "start" }],
    ["POST", "events", { kind: "note" }],
    ["DELETE", "events/1", undefined],
  ];
  const before = await board(server);
  for (const [method, tail, body] of paths) {
    const path = `/api/games/cup-final/${tail}`;
    const anonymous = await call(server.url, path, { method, body });
    assertProblem(anonymous, 401, "unauthorized");
    assert.equal(anonymous.headers.get("www-authenticate"), "Bearer");
    const scoped = await call(server.url, path, { method, body, token: SCOPED_TOKEN });
    assertProblem(scoped, 403, "forbidden");
    assertProblem(await write(server, method, `/api/games/nope/${tail}`, body), 404, "not-found");
  }
  assert.deepEqual(await board(server), before);
  await write(server, "PUT", "/api/games/game-a", gameBody());
  const own = await call(server.url, "/api/games/game-a/events", {
    method: "POST",
    token: SCOPED_TOKEN,
    body: { kind: "note" },
  });
  assert.equal(own.status, 201, "a scoped token writes the timeline of its own game");
});

Deno.test("the match routes answer other methods with 405 and Allow, and GET on /events is still the feed", async () => {
  const { server } = await withGame();
  await using _ = server;
  for (
    const [method, path, allow] of [
      ["GET", "/api/games/cup-final/timer", "POST"],
      ["PUT", "/api/games/cup-final/events", "GET, HEAD, POST"],
      ["GET", "/api/games/cup-final/events/1", "DELETE"],
      ["POST", "/api/games/cup-final/events/1", "DELETE"],
    ] as const
  ) {
    const body = method === "GET" ? undefined : {};
    const answer = await call(server.url, path, { method, token: TOKEN, body });
    assertProblem(answer, 405, "method-not-allowed");
    assert.equal(answer.headers.get("allow"), allow, `${method} ${path}`);
  }
  const sse = await openSse(`${server.url}/api/games/cup-final/events`);
  assert.equal(sse.status, 200);
  assert.equal(sse.headers.get("content-type"), "text/event-stream; charset=utf-8");
  await sse.close();
});

Deno.test("the 501st event of a game is 422 timeline-full and adds nothing", async () => {
  const { server } = await withGame();
  await using _ = server;
  let added = 0;
  const worker = async () => {
    while (added < MAX_EVENTS) {
      added++;
      const answer = await addEvent(server, "cup-final", { kind: "note", text: `n${added}` });
      assert.equal(answer.status, 201, answer.text);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const before = await board(server);
  const refused = await addEvent(server, "cup-final", { kind: "goal", side: "home", points: 1 });
  assertProblem(refused, 422, "timeline-full");
  assert.deepEqual(await board(server), before);
});

Deno.test("match writes are counted in the metrics by action and outcome", async () => {
  const { server } = await withGame();
  await using _ = server;
  await timer(server, "cup-final", { action: "start" });
  await timer(server, "cup-final", { action: "start" });
  await addEvent(server, "cup-final", { kind: "note" });
  await removeEvent(server, "cup-final", 1);
  const metrics = (await call(server.url, "/metrics")).text;
  for (
    const series of [
      'scoreline_writes_total{action="timer",outcome="saved"} 1',
      'scoreline_writes_total{action="timer",outcome="unchanged"} 1',
      'scoreline_writes_total{action="event",outcome="saved"} 1',
      'scoreline_writes_total{action="unevent",outcome="saved"} 1',
    ]
  ) {
    assert.ok(metrics.includes(series), series);
  }
});
