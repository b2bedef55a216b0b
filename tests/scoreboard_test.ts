import assert from "node:assert/strict";
import { gameBody } from "./support/http.ts";
import {
  addPoints,
  Board,
  type Change,
  deleteGame,
  Draft,
  type Mutation,
  patchGame,
  replaceGame,
  seedVersion,
} from "../core/scoreboard.ts";
import {
  type GameInput,
  gameInputSchema,
  type GamePatch,
  gamePatchSchema,
  validate,
} from "../core/schema.ts";
import { ALL_GAMES, competitionScope, gameScope, gamesScope } from "../core/scope.ts";

const NOW = Date.UTC(2026, 10, 21, 18, 4, 5, 123);

function input(value: unknown): GameInput {
  const result = validate(gameInputSchema, value);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value;
}

function patch(value: unknown): GamePatch {
  const result = validate(gamePatchSchema, value);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value;
}

const lionsTigers = input({
  status: "live",
  home: { name: "Lions", score: 2 },
  away: { name: "Tigers", score: 1 },
});

/** Applies writes one by one, as a store would, returning the outcomes. */
function run(board: Board, writes: [string, Mutation][]) {
  const draft = new Draft(board, NOW);
  const outcomes = writes.map(([id, mutate]) => draft.write(id, mutate).outcome);
  board.apply(draft.changes);
  board.raiseCompetitionHorizon(draft.competitionHorizon);
  return outcomes;
}

Deno.test("versions come from one global counter: every change of any game takes the next", () => {
  const board = new Board({ version: 100, horizon: 100 });
  const outcomes = run(board, [
    ["a", replaceGame(lionsTigers, {})],
    ["b", replaceGame(lionsTigers, {})],
    ["a", addPoints({ side: "home", points: 1 }, {})],
    ["b", deleteGame({})],
  ]);
  assert.deepEqual(outcomes.map((o) => o.kind), ["created", "created", "saved", "deleted"]);
  assert.equal(board.version, 104);
  assert.equal(board.get("a")?.version, 103);
  assert.equal(board.get("a")?.home.score, 3);
  assert.equal(board.get("b"), undefined);
  assert.equal(board.latest("b")?.version, 104);
});

Deno.test("a stored game has its fields in contract order and updatedAt in RFC 3339 UTC", () => {
  const board = new Board({ version: 0, horizon: 0 });
  const [outcome] = run(board, [[
    "cup",
    replaceGame(input({ away: { name: "T" }, home: { name: "L" }, clock: "1:00", title: "X" }), {}),
  ]]);
  assert.equal(outcome?.kind, "created");
  const game = board.get("cup")!;
  assert.deepEqual(Object.keys(game), [
    "id",
    "title",
    "status",
    "clock",
    "home",
    "away",
    "version",
    "updatedAt",
  ]);
  assert.equal(game.updatedAt, "2026-11-21T18:04:05.123Z");
});

Deno.test("If-Match holds only at the current version; If-None-Match: * only for a new game", () => {
  const board = new Board({ version: 0, horizon: 0 });
  run(board, [["a", replaceGame(lionsTigers, {})]]);
  const [stale, fresh, exists, missing] = run(board, [
    ["a", addPoints({ side: "home", points: 1 }, { ifMatch: [0] })],
    ["a", addPoints({ side: "home", points: 1 }, { ifMatch: [1] })],
    ["a", replaceGame(lionsTigers, { ifNoneMatch: "*" })],
    ["zz", patchGame(patch({ title: "x" }), { ifMatch: "*" })],
  ]);
  assert.equal(stale?.kind === "rejected" && stale.rejection.code, "precondition_failed");
  assert.equal(fresh?.kind, "saved");
  assert.equal(exists?.kind === "rejected" && exists.rejection.code, "precondition_failed");
  assert.equal(missing?.kind === "rejected" && missing.rejection.code, "precondition_failed");
  assert.equal(board.version, 2);
});

Deno.test("PATCH merges field by field and null removes an optional field", () => {
  const board = new Board({ version: 0, horizon: 0 });
  run(board, [[
    "a",
    replaceGame(
      input({
        title: "T",
        clock: "1:00",
        home: { name: "L", detail: "10 men" },
        away: { name: "A" },
      }),
      {},
    ),
  ]]);
  run(board, [[
    "a",
    patchGame(patch({ clock: null, home: { score: 4, detail: null }, status: "final" }), {}),
  ]]);
  assert.deepEqual(board.get("a"), {
    id: "a",
    title: "T",
    status: "final",
    home: { name: "L", score: 4 },
    away: { name: "A", score: 0 },
    version: 2,
    updatedAt: new Date(NOW).toISOString(),
  });
});

Deno.test("PATCH, score and DELETE of a missing game are not_found and change nothing", () => {
  const board = new Board({ version: 7, horizon: 7 });
  const outcomes = run(board, [
    ["x", patchGame(patch({ title: "t" }), {})],
    ["x", addPoints({ side: "home", points: 1 }, {})],
    ["x", deleteGame({})],
  ]);
  for (const outcome of outcomes) {
    assert.equal(outcome.kind === "rejected" && outcome.rejection.code, "not_found");
  }
  assert.equal(board.version, 7);
});

Deno.test("a score can neither fall below 0 nor rise above 1,000,000", () => {
  const board = new Board({ version: 0, horizon: 0 });
  run(board, [[
    "a",
    replaceGame(input({ home: { name: "L", score: 999_990 }, away: { name: "A", score: 1 } }), {}),
  ]]);
  const [below, above] = run(board, [
    ["a", addPoints({ side: "away", points: -2 }, {})],
    ["a", addPoints({ side: "home", points: 11 }, {})],
  ]);
  assert.equal(below?.kind === "rejected" && below.rejection.code, "score_out_of_range");
  assert.equal(above?.kind === "rejected" && above.rejection.code, "score_out_of_range");
  assert.equal(board.version, 1);
});

Deno.test("resume sends each changed game once at its latest state, tombstones included, in version order", () => {
  const board = new Board({ version: 10, horizon: 10 });
  run(board, [
    ["a", replaceGame(lionsTigers, {})], // 11
    ["b", replaceGame(lionsTigers, {})], // 12
    ["c", replaceGame(lionsTigers, {})], // 13
    ["a", addPoints({ side: "home", points: 1 }, {})], // 14
    ["b", deleteGame({})], // 15
  ]);
  const resume = board.resume(12, ALL_GAMES);
  assert.equal(resume.kind, "changes");
  const changes = resume.kind === "changes" ? resume.changes : [];
  assert.deepEqual(changes.map((c: Change) => [c.type, c.version]), [
    ["update", 13],
    ["update", 14],
    ["removed", 15],
  ]);
  assert.deepEqual(board.resume(15, ALL_GAMES), { kind: "changes", version: 15, changes: [] });
  const one = board.resume(10, gameScope("a"));
  assert.deepEqual(one.kind === "changes" && one.changes.map((c) => c.version), [14]);
});

Deno.test("no cursor, a cursor from the future or one below the horizon gets a snapshot", () => {
  const board = new Board({ version: 10, horizon: 5 });
  run(board, [["b", replaceGame(lionsTigers, {})], ["a", replaceGame(lionsTigers, {})]]);
  for (const cursor of [null, 13, 4]) {
    const resume = board.resume(cursor, ALL_GAMES);
    assert.equal(resume.kind, "snapshot", `cursor ${cursor}`);
    assert.deepEqual(resume.kind === "snapshot" && resume.games.map((g) => g.id), ["a", "b"]);
    assert.equal(resume.version, 12);
  }
  assert.equal(board.resume(5, ALL_GAMES).kind, "changes");
});

Deno.test("forgotten tombstones raise the horizon so a cursor before them gets a snapshot", () => {
  const board = new Board({ version: 0, horizon: 0 });
  run(board, [["a", replaceGame(lionsTigers, {})], ["a", deleteGame({})], [
    "b",
    replaceGame(lionsTigers, {}),
  ]]);
  assert.equal(board.resume(1, ALL_GAMES).kind, "changes");
  const expired = board.expiredTombstones(NOW + 1);
  assert.deepEqual(expired.map((t) => t.version), [2]);
  board.forget(expired);
  assert.equal(board.horizon, 2);
  assert.equal(board.resume(1, ALL_GAMES).kind, "snapshot");
  assert.equal(board.resume(2, ALL_GAMES).kind, "changes");
  assert.equal(board.expiredTombstones(NOW - 1).length, 0);
});

Deno.test("a draft sees its own writes while the board still shows only committed state", () => {
  const board = new Board({ version: 0, horizon: 0 });
  const draft = new Draft(board, NOW);
  draft.write("a", replaceGame(lionsTigers, {}));
  const { outcome } = draft.write("a", addPoints({ side: "away", points: 2 }, {}));
  assert.equal(outcome.kind === "saved" && outcome.game.away.score, 3);
  assert.equal(board.get("a"), undefined);
  assert.equal(board.version, 0);
  board.apply(draft.changes);
  assert.equal(board.get("a")?.away.score, 3);
});

Deno.test("a fresh store's first version comes from the clock, above any earlier run's", () => {
  assert.equal(seedVersion(NOW), NOW * 1000);
  assert.ok(seedVersion(NOW + 1) > seedVersion(NOW) + 999);
  assert.ok(Number.isSafeInteger(seedVersion(Date.UTC(2200, 0, 1))));
});

// ---- Competitions and kick-off times; "since N" within a scope ----

/** A live game with these fields besides its sides. */
const cupInput = (value: Record<string, unknown>) =>
  input({ status: "live", home: { name: "Lions" }, away: { name: "Tigers" }, ...value });

const ids = (changes: Change[]) =>
  changes.map((c) => `${c.type === "update" ? c.game.id : `-${c.id}`}@${c.version}`);

Deno.test("competition and startsAt take their place in the contract's field order, startsAt in UTC", () => {
  const board = new Board({ version: 0, horizon: 0 });
  const [created] = run(board, [[
    "a",
    replaceGame(
      cupInput({
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
  run(board, [["a", replaceGame(cupInput({ competition: "cup" }), {})]]);
  const outcomes = run(board, [
    ["a", replaceGame(cupInput({ competition: "league" }), {})],
    ["a", patchGame(patch({ competition: "league" }), {})],
    ["a", patchGame(patch({ competition: null }), {})],
    ["a", replaceGame(cupInput({ competition: "cup", clock: "1" }), {})],
    ["a", replaceGame(cupInput({ clock: "2" }), {})],
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
  run(board, [["b", replaceGame(cupInput({}), {})]]);
  const [late] = run(board, [["b", patchGame(patch({ competition: "cup" }), {})]]);
  assert.equal(late?.kind === "rejected" && late.rejection.code, "competition_fixed");
  const moved = run(board, [["b", deleteGame({})], [
    "b",
    replaceGame(cupInput({ competition: "cup" }), {}),
  ]]);
  assert.deepEqual(moved.map((o) => o.kind), ["deleted", "created"]);
});

Deno.test("resume within a competition or a games= list: games in scope only, removals by the competition the game had", () => {
  const board = new Board({ version: 0, horizon: 0 });
  run(board, [
    ["a", replaceGame(cupInput({ competition: "cup" }), {})], // 1
    ["b", replaceGame(cupInput({ competition: "league" }), {})], // 2
    ["c", replaceGame(cupInput({ competition: "cup" }), {})], // 3
    ["d", replaceGame(cupInput({}), {})], // 4
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
    ["e", replaceGame(cupInput({ competition: "cup" }), {})], // 8
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
    ["a", replaceGame(cupInput({ competition: "cup" }), {})], // 1
    ["x", replaceGame(cupInput({ competition: "cup" }), {})], // 2
    ["a", deleteGame({})], // 3
    ["a", replaceGame(cupInput({ competition: "league" }), {})], // 4
  ]);
  assert.equal(board.competitionHorizon, 3, "the replaced tombstone's version");
  assert.equal(board.horizon, 0, "the all-games horizon did not move");
  assert.equal(board.resume(2, competitionScope("cup")).kind, "snapshot");
  assert.equal(board.resume(3, competitionScope("cup")).kind, "changes", "it saw the removal");
  for (const scope of [ALL_GAMES, gameScope("a"), gamesScope(["a", "x"])]) {
    assert.equal(board.resume(2, scope).kind, "changes", scope.key);
  }
  // Created again in the same competition: nothing to forget.
  run(board, [["x", deleteGame({})], ["x", replaceGame(cupInput({ competition: "cup" }), {})]]);
  assert.equal(board.competitionHorizon, 3);
});
