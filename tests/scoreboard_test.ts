import { ALL_GAMES, gameScope } from "../core/scope.ts";
import assert from "node:assert/strict";
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
