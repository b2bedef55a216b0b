/**
 * core/json_patch.ts: the diff behind `patch` messages produces what its comment promises, and
 * what it produces is applied by an independent RFC 6902 implementation (fast-json-patch) to
 * exactly the target, for hand-picked cases and for thousands of seeded random pairs.
 */
import assert from "node:assert/strict";
import jsonpatch from "fast-json-patch";
import { diff, type Json, jsonEqual } from "../core/json_patch.ts";
import { Random, runSeed } from "./support/random.ts";
import { mutate, randomValue } from "./support/random_json.ts";

function applied(from: Json, ops: ReturnType<typeof diff>): Json {
  return jsonpatch.applyPatch(structuredClone(from), ops, true, false).newDocument as Json;
}

const event = (id: number) => ({ id, kind: "goal", side: "home", points: 1, version: 100 + id });

Deno.test("equal values give no operation, however deep", () => {
  assert.deepEqual(diff({ a: [1, { b: null }], c: "x" }, { c: "x", a: [1, { b: null }] }), []);
  assert.deepEqual(diff([], []), []);
  assert.deepEqual(diff(3, 3), []);
});

Deno.test("objects are diffed key by key: remove, recurse, add", () => {
  const ops = diff(
    { title: "Cup", home: { name: "Lions", score: 1, detail: "10 men" }, clock: "1'" },
    { title: "Cup", home: { name: "Lions", score: 2 }, period: "2nd half", clock: "1'" },
  );
  assert.deepEqual(ops, [
    { op: "replace", path: "/home/score", value: 2 },
    { op: "remove", path: "/home/detail" },
    { op: "add", path: "/period", value: "2nd half" },
  ]);
});

Deno.test("an appended element is one add to /-, not a new array", () => {
  const before = { events: Array.from({ length: 40 }, (_, i) => event(i + 1)) };
  const after = { events: [...before.events, event(41)] };
  assert.deepEqual(diff(before, after), [{ op: "add", path: "/events/-", value: event(41) }]);
});

Deno.test("an element removed or inserted in the middle is one operation at its index", () => {
  const events = Array.from({ length: 10 }, (_, i) => event(i + 1));
  const without = events.filter((e) => e.id !== 4);
  assert.deepEqual(diff({ events }, { events: without }), [{ op: "remove", path: "/events/3" }]);
  assert.deepEqual(diff({ events: without }, { events }), [
    { op: "add", path: "/events/3", value: event(4) },
  ]);
  const changed = events.map((e) => (e.id === 5 ? { ...e, points: 2 } : e));
  assert.deepEqual(diff({ events }, { events: changed }), [
    { op: "replace", path: "/events/4/points", value: 2 },
  ]);
});

Deno.test("member names are escaped as JSON Pointer tokens", () => {
  assert.deepEqual(diff({ "a/b": 1, "m~n": 1 }, { "a/b": 2, "m~n": 2 }), [
    { op: "replace", path: "/a~1b", value: 2 },
    { op: "replace", path: "/m~0n", value: 2 },
  ]);
});

Deno.test("an array whose operations would outweigh it is replaced whole; a type change is a replace", () => {
  const ops = diff({ list: [1, 2, 3, 4, 5, 6] }, { list: [9, 8, 7, 6, 5] });
  assert.deepEqual(ops, [{ op: "replace", path: "/list", value: [9, 8, 7, 6, 5] }]);
  assert.deepEqual(diff({ a: [1] }, { a: { 0: 1 } }), [
    { op: "replace", path: "/a", value: { 0: 1 } },
  ]);
  assert.deepEqual(diff({ a: 1 }, [1]), [{ op: "replace", path: "", value: [1] }]);
});

Deno.test("jsonEqual compares as JSON: undefined members are absent, order of keys does not count", () => {
  assert.ok(jsonEqual({ a: 1, b: undefined } as unknown as Json, { a: 1 }));
  assert.ok(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 }));
  assert.ok(!jsonEqual({ a: [1, 2] }, { a: [2, 1] }));
  assert.ok(!jsonEqual({ a: null }, {}));
  assert.ok(!jsonEqual([], {}));
});

Deno.test("for 5,000 seeded random pairs, the diff applied by fast-json-patch gives exactly the target", () => {
  const random = new Random(runSeed("JSON_PATCH_SEED"));
  for (let i = 0; i < 5_000; i++) {
    const from = randomValue(random, 0);
    const to = mutate(random, from, 0);
    const ops = diff(from, to);
    assert.deepEqual(applied(from, ops), to, `case ${i}: ${JSON.stringify({ from, to, ops })}`);
    if (jsonEqual(from, to)) assert.deepEqual(ops, [], `case ${i}: equal values, no operation`);
  }
});
