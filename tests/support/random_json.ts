/**
 * Random JSON values shaped like games, and values near them: what the patch tests (the
 * service's diff, the client library's applyPatch) are run on, from a seeded Random.
 */
import type { Json } from "../../core/json_patch.ts";
import type { Random } from "./random.ts";

/** A random JSON value shaped like a game: small objects, arrays of records, scalars. */
export function randomValue(random: Random, depth: number): Json {
  const kind = depth > 2 ? random.int(0, 3) : random.int(0, 5);
  switch (kind) {
    case 0:
      return random.int(-3, 3);
    case 1:
      return random.text(random.int(0, 3), "ab/~");
    case 2:
      return random.pick([null, true, false]);
    case 3:
      return random.int(0, 1);
    case 4: {
      const out: { [key: string]: Json } = {};
      for (let n = random.int(0, 4); n > 0; n--) {
        out[random.pick(["a", "b", "c", "d/e", "f~g"])] = randomValue(random, depth + 1);
      }
      return out;
    }
    default:
      return Array.from({ length: random.int(0, 5) }, () => randomValue(random, depth + 1));
  }
}

/** A value near `base`: most of it kept, some members changed, arrays grown or shrunk. */
export function mutate(random: Random, base: Json, depth: number): Json {
  if (random.chance(0.1)) return randomValue(random, depth);
  if (Array.isArray(base)) {
    const out = base.map((v) => (random.chance(0.2) ? mutate(random, v, depth + 1) : v));
    if (random.chance(0.3)) out.splice(random.int(0, out.length), 0, randomValue(random, depth));
    if (random.chance(0.3) && out.length > 0) out.splice(random.int(0, out.length - 1), 1);
    if (random.chance(0.3)) out.push(randomValue(random, depth));
    return out;
  }
  if (base !== null && typeof base === "object") {
    const out: { [key: string]: Json } = {};
    for (const [key, value] of Object.entries(base)) {
      if (random.chance(0.1)) continue;
      out[key] = random.chance(0.3) ? mutate(random, value, depth + 1) : value;
    }
    if (random.chance(0.2)) out[random.pick(["a", "x", "y/z"])] = randomValue(random, depth + 1);
    return out;
  }
  return random.chance(0.5) ? base : randomValue(random, depth);
}
