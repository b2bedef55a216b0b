import assert from "node:assert/strict";
import { Lru } from "../core/lru.ts";

Deno.test("the LRU keeps what it holds within its budget, dropping the least recently used", () => {
  const cache = new Lru<string>(10, (value) => value.length);
  cache.set("a", "aaaa");
  cache.set("b", "bbbb");
  assert.equal(cache.get("a"), "aaaa"); // a is now the most recently used
  cache.set("c", "cccc");
  assert.equal(cache.get("b"), undefined, "b was the coldest");
  assert.deepEqual([cache.get("a"), cache.get("c")], ["aaaa", "cccc"]);
  assert.equal(cache.used, 8);
  cache.set("a", "aa");
  assert.equal(cache.used, 6, "a replaced entry costs what it costs now");
  cache.set("huge", "x".repeat(11));
  assert.equal(cache.get("huge"), undefined, "an entry over the whole budget is not kept");
  assert.equal(cache.used, 6);
  cache.set("d", "dddddddd");
  assert.deepEqual([cache.get("a"), cache.get("c"), cache.get("d")], ["aa", undefined, "dddddddd"]);
  assert.ok(cache.used <= 10);
});

Deno.test("without a size function the budget is a number of entries", () => {
  const cache = new Lru<number>(3);
  for (let i = 0; i < 100; i++) cache.set(String(i), i);
  assert.equal(cache.size, 3);
  assert.deepEqual(["97", "98", "99"].map((k) => cache.get(k)), [97, 98, 99]);
});
