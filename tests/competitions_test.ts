/**
 * A game's competition and kick-off: validated, in the contract's field order, the competition
 * fixed once the game exists (422 on a change through PUT or PATCH), kick-off times normalised to
 * UTC; and "since N" answered within a scope (a competition, a `games=` list) by the Board.
 */
import assert from "node:assert/strict";
import {
  Board,
  type Change,
  deleteGame,
  Draft,
  type Mutation,
  patchGame,
  replaceGame,
} from "../core/scoreboard.ts";
import { gameInputSchema, gamePatchSchema, validate } from "../core/schema.ts";
import { ALL_GAMES, competitionScope, gameScope, gamesScope } from "../core/scope.ts";
import { call, gameBody } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

const NOW = Date.UTC(2026, 10, 21, 18, 0, 0);

function input(value: Record<string, unknown>) {
  const result = validate(gameInputSchema, {
    status: "live",
    home: { name: "Lions" },
    away: { name: "Tigers" },
    ...value,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value;
}

function patch(value: unknown) {
  const result = validate(gamePatchSchema, value);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value;
}

/** Applies writes one by one, as a store would, returning the outcomes. */
function run(board: Board, writes: [string, Mutation][]) {
  const draft = new Draft(board, NOW);
  const outcomes = writes.map(([id, mutate]) => draft.write(id, mutate).outcome);
  board.apply(draft.changes);
  board.raiseCompetitionHorizon(draft.competitionHorizon);
  return outcomes;
}

const ids = (changes: Change[]) =>
  changes.map((c) => `${c.type === "update" ? c.game.id : `-${c.id}`}@${c.version}`);

Deno.test("competition and startsAt take their place in the contract's field order, startsAt in UTC", () => {
  const board = new Board({ version: 0, horizon: 0 });
  const [created] = run(board, [[
    "a",
    replaceGame(
      input({
        startsAt: "2026-12-07T18:00:00+01:00",
        competition: "cup-2026",
        clock: "00:00",
        title: "Final",
      }),
      {},
    ),
  ]]);
  assert.ok(created?.kind === "created");
  assert.deepEqual(Object.keys(created.game), [
    "id",
    "title",
    "status",
    "clock",
    "competition",
    "startsAt",
    "home",
    "away",
    "version",
    "updatedAt",
  ]);
  assert.equal(created.game.startsAt, "2026-12-07T17:00:00.000Z", "normalised to UTC");
  assert.equal(created.game.competition, "cup-2026");
});

Deno.test("startsAt must be an RFC 3339 date-time with its offset; competition follows the game-id pattern", () => {
  for (const startsAt of ["2026-12-07T17:00:00Z", "2026-12-07T17:00:00.5-03:30"]) {
    assert.ok(validate(gameInputSchema, { ...gameBody(), startsAt }).ok, startsAt);
  }
  for (
    const startsAt of [
      "2026-12-07",
      "2026-12-07T17:00Z",
      "2026-12-07T17:00:00",
      "2026-02-30T17:00:00Z",
      "2026-12-07 17:00:00Z",
      "tomorrow",
      1796662800000,
      "",
    ]
  ) {
    const result = validate(gameInputSchema, { ...gameBody(), startsAt });
    assert.ok(!result.ok && result.errors[0]?.path === "startsAt", String(startsAt));
  }
  for (const competition of ["Cup", "-cup", "", "a".repeat(65), "cup_2026", 7]) {
    const result = validate(gameInputSchema, { ...gameBody(), competition });
    assert.ok(!result.ok && result.errors[0]?.path === "competition", String(competition));
  }
});

Deno.test("a game's competition is fixed: PUT or PATCH that changes it is refused, the same value or none is fine", () => {
  const board = new Board({ version: 0, horizon: 0 });
  run(board, [["a", replaceGame(input({ competition: "cup" }), {})]]);
  const outcomes = run(board, [
    ["a", replaceGame(input({ competition: "league" }), {})],
    ["a", patchGame(patch({ competition: "league" }), {})],
    ["a", patchGame(patch({ competition: null }), {})],
    ["a", replaceGame(input({ competition: "cup", clock: "1" }), {})],
    ["a", replaceGame(input({ clock: "2" }), {})],
    ["a", patchGame(patch({ clock: "3" }), {})],
    ["a", patchGame(patch({ competition: "cup", clock: "4" }), {})],
  ]);
  assert.deepEqual(outcomes.map((o) => o.kind === "rejected" ? o.rejection.code : o.kind), [
    "competition_fixed",
    "competition_fixed",
    "competition_fixed",
    "saved",
    "saved",
    "saved",
    "saved",
  ]);
  assert.equal(board.get("a")?.competition, "cup", "a PUT without it kept it");
  assert.equal(board.get("a")?.clock, "4");
  // A game without a competition cannot get one either; deleting and creating it again can.
  run(board, [["b", replaceGame(input({}), {})]]);
  const [late] = run(board, [["b", patchGame(patch({ competition: "cup" }), {})]]);
  assert.equal(late?.kind === "rejected" && late.rejection.code, "competition_fixed");
  const moved = run(board, [["b", deleteGame({})], [
    "b",
    replaceGame(input({ competition: "cup" }), {}),
  ]]);
  assert.deepEqual(moved.map((o) => o.kind), ["deleted", "created"]);
});

Deno.test("resume within a competition or a games= list: games in scope only, removals by the competition the game had", () => {
  const board = new Board({ version: 0, horizon: 0 });
  run(board, [
    ["a", replaceGame(input({ competition: "cup" }), {})], // 1
    ["b", replaceGame(input({ competition: "league" }), {})], // 2
    ["c", replaceGame(input({ competition: "cup" }), {})], // 3
    ["d", replaceGame(input({}), {})], // 4
  ]);
  const cup = competitionScope("cup");
  const snapshot = board.resume(null, cup);
  assert.deepEqual(
    snapshot.kind === "snapshot" && snapshot.games.map((g) => g.id),
    ["a", "c"],
  );
  run(board, [
    ["c", patchGame(patch({ clock: "9" }), {})], // 5
    ["a", deleteGame({})], // 6
    ["b", patchGame(patch({ clock: "1" }), {})], // 7
    ["e", replaceGame(input({ competition: "cup" }), {})], // 8
  ]);
  const since = board.resume(4, cup);
  assert.deepEqual(since.kind === "changes" && ids(since.changes), ["c@5", "-a@6", "e@8"]);
  const removal = since.kind === "changes" ? since.changes[1] : undefined;
  assert.equal(removal?.type === "removed" && removal.competition, "cup");
  const list = board.resume(4, gamesScope(["e", "b", "a", "not-yet"]));
  assert.deepEqual(list.kind === "changes" && ids(list.changes), ["-a@6", "b@7", "e@8"]);
  const listed = board.resume(null, gamesScope(["e", "b", "not-yet"]));
  assert.deepEqual(listed.kind === "snapshot" && listed.games.map((g) => g.id), ["b", "e"]);
  const all = board.resume(6, ALL_GAMES);
  assert.deepEqual(all.kind === "changes" && ids(all.changes), ["b@7", "e@8"]);
  const one = board.resume(1, gameScope("a"));
  assert.deepEqual(one.kind === "changes" && ids(one.changes), ["-a@6"]);
});

Deno.test("a game created again in another competition: cursors of its old competition from before the removal get a snapshot, other scopes resume", () => {
  const board = new Board({ version: 0, horizon: 0 });
  run(board, [
    ["a", replaceGame(input({ competition: "cup" }), {})], // 1
    ["x", replaceGame(input({ competition: "cup" }), {})], // 2
    ["a", deleteGame({})], // 3
    ["a", replaceGame(input({ competition: "league" }), {})], // 4
  ]);
  assert.equal(board.competitionHorizon, 3, "the replaced tombstone's version");
  assert.equal(board.horizon, 0, "the all-games horizon did not move");
  assert.equal(board.resume(2, competitionScope("cup")).kind, "snapshot");
  assert.equal(board.resume(3, competitionScope("cup")).kind, "changes", "it saw the removal");
  for (const scope of [ALL_GAMES, gameScope("a"), gamesScope(["a", "x"])]) {
    assert.equal(board.resume(2, scope).kind, "changes", scope.key);
  }
  // Created again in the same competition: nothing to forget.
  run(board, [["x", deleteGame({})], ["x", replaceGame(input({ competition: "cup" }), {})]]);
  assert.equal(board.competitionHorizon, 3);
});

Deno.test("over HTTP a change of competition is 422 /problems/competition-fixed and changes nothing", async () => {
  await using server = await startServer();
  const created = await call(server.url, "/api/games/a", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(0, 0, { competition: "cup-2026", startsAt: "2026-12-07T17:00:00+00:00" }),
  });
  assert.equal(created.status, 201);
  assert.equal(created.json.competition, "cup-2026");
  assert.equal(created.json.startsAt, "2026-12-07T17:00:00.000Z");
  for (
    const [method, body] of [
      ["PUT", gameBody(0, 0, { competition: "league" })],
      ["PATCH", { competition: "league" }],
      ["PATCH", { competition: null }],
    ] as const
  ) {
    const refused = await call(server.url, "/api/games/a", { method, token: TOKEN, body });
    assert.equal(refused.status, 422, `${method} ${JSON.stringify(body)}`);
    assert.equal(refused.headers.get("content-type"), "application/problem+json");
    assert.equal(refused.json.type, "/problems/competition-fixed");
    assert.match(refused.json.detail, /"cup-2026"/);
  }
  const page = await call(server.url, "/problems/competition-fixed");
  assert.equal(page.status, 200);
  // A GET, changed and PUT back without the field keeps it.
  const { competition: _, ...rest } = created.json;
  const kept = await call(server.url, "/api/games/a", {
    method: "PUT",
    token: TOKEN,
    body: { ...rest, clock: "10:00" },
  });
  assert.equal(kept.status, 200);
  assert.equal(kept.json.competition, "cup-2026");
  assert.equal(kept.json.version, created.json.version + 1, "only the one accepted write");
  const bad = await call(server.url, "/api/games/b", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(0, 0, { startsAt: "2026-12-07T17:00" }),
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.errors[0].path, "startsAt");
});
