import assert from "node:assert/strict";
import {
  characterCount,
  cursorSchema,
  gameInputSchema,
  gamePatchSchema,
  scoreDeltaSchema,
  validate,
} from "../core/schema.ts";

const valid = { home: { name: "Lions" }, away: { name: "Tigers" } };

function errorsOf(schema: Parameters<typeof validate>[0], value: unknown) {
  const result = validate(schema, value);
  assert.equal(result.ok, false, "expected a validation failure");
  return result.ok ? [] : result.errors;
}

Deno.test("a minimal game gets status scheduled and scores of 0", () => {
  const result = validate(gameInputSchema, valid);
  assert.ok(result.ok);
  assert.deepEqual(result.value, {
    status: "scheduled",
    home: { name: "Lions", score: 0 },
    away: { name: "Tigers", score: 0 },
  });
});

Deno.test("team names are stored trimmed and must not be blank", () => {
  const result = validate(gameInputSchema, { home: { name: "  Lions \n" }, away: { name: "B" } });
  assert.ok(result.ok);
  assert.equal(result.value.home.name, "Lions");
  assert.deepEqual(errorsOf(gameInputSchema, { home: { name: "   " }, away: { name: "B" } }), [
    { path: "home.name", message: "must not be empty" },
  ]);
});

Deno.test("unknown fields are refused with their full path, __proto__ included", () => {
  const body = JSON.parse(
    '{"home":{"name":"A","colour":"red"},"away":{"name":"B"},"__proto__":{"x":1}}',
  );
  const errors = errorsOf(gameInputSchema, body).sort((a, b) => a.path.localeCompare(b.path));
  assert.deepEqual(errors, [
    { path: "__proto__", message: "unknown field" },
    { path: "home.colour", message: "unknown field" },
  ]);
});

Deno.test("every rule of the contract names its field", () => {
  const errors = errorsOf(gameInputSchema, {
    title: "x".repeat(121),
    status: "halftime",
    period: "p".repeat(33),
    clock: "c".repeat(17),
    home: { name: "n".repeat(65), score: -1, detail: "d".repeat(33) },
    away: { name: "B", score: 1_000_001 },
  });
  assert.deepEqual(errors.map((e) => e.path).sort(), [
    "away.score",
    "clock",
    "home.detail",
    "home.name",
    "home.score",
    "period",
    "status",
    "title",
  ]);
});

Deno.test("lengths count characters, not UTF-16 units", () => {
  assert.equal(characterCount("🦁🐯"), 2);
  const result = validate(gameInputSchema, {
    home: { name: "🦁".repeat(64) },
    away: { name: "B" },
  });
  assert.ok(result.ok);
  assert.equal(
    errorsOf(gameInputSchema, { home: { name: "🦁".repeat(65) }, away: { name: "B" } })[0]?.path,
    "home.name",
  );
});

Deno.test("control characters and lone surrogates are refused", () => {
  assert.equal(
    errorsOf(gameInputSchema, { ...valid, title: "a\u0007b" })[0]?.message,
    "must not contain control characters",
  );
  assert.equal(
    errorsOf(gameInputSchema, { ...valid, title: "\ud800" })[0]?.message,
    "must be valid Unicode text",
  );
});

Deno.test("scores must be integers; null on a required field says it cannot be null", () => {
  assert.deepEqual(errorsOf(gameInputSchema, { home: { name: "A", score: 1.5 }, away: null }), [
    { path: "home.score", message: "must be an integer" },
    { path: "away", message: "cannot be null: the field is required" },
  ]);
});

Deno.test("a body that is not an object is refused as a whole", () => {
  assert.deepEqual(errorsOf(gameInputSchema, [1, 2]), [
    { path: "", message: "request body must be a JSON object" },
  ]);
});

Deno.test("a merge patch may remove optional fields but not required ones", () => {
  assert.ok(validate(gamePatchSchema, { title: null, clock: null, home: { detail: null } }).ok);
  assert.deepEqual(errorsOf(gamePatchSchema, { status: null, home: { score: null } }), [
    { path: "status", message: "cannot be null: the field is required" },
    { path: "home.score", message: "cannot be null: the field is required" },
  ]);
});

Deno.test("points are a non-zero integer from -100 to 100 for home or away", () => {
  assert.ok(validate(scoreDeltaSchema, { side: "away", points: -100 }).ok);
  assert.deepEqual(errorsOf(scoreDeltaSchema, { side: "left", points: 0 }), [
    { path: "side", message: "must be home or away" },
    { path: "points", message: "must not be zero" },
  ]);
  assert.equal(errorsOf(scoreDeltaSchema, { side: "home", points: 101 })[0]?.path, "points");
  assert.equal(errorsOf(scoreDeltaSchema, { side: "home", points: 2.5 })[0]?.path, "points");
});

Deno.test("a cursor is decimal digits only", () => {
  assert.deepEqual(validate(cursorSchema, "0"), { ok: true, value: 0 });
  assert.deepEqual(validate(cursorSchema, "0042"), { ok: true, value: 42 });
  for (const bad of ["", "-1", "+1", "1.5", "1e3", " 1", "0x10", "abc"]) {
    assert.equal(validate(cursorSchema, bad).ok, false, `cursor ${JSON.stringify(bad)}`);
  }
  assert.equal(validate(cursorSchema, "99999999999999999999").ok, false);
});
