/**
 * The raw material of the hostile-input suite: valid bodies to start from, mutations of them
 * (structural, textual and byte-level), and lists of bad ids, cursors and header values. Nothing
 * here decides what a request deserves; `contract_oracle.ts` does.
 */
import type { Random } from "./random.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Printable text with what tends to break renderers and parsers, but no control characters. */
const TEXT = "abcXYZ 0189 -_.:/<>&\"'`\\ éß漢字😀🏆\u202e\u200b\u00a0";
const STATUSES = ["scheduled", "live", "break", "final", "postponed", "cancelled"];

function text(random: Random, min: number, max: number): string {
  return random.text(random.int(min, max), TEXT);
}

function side(random: Random): Json {
  const out: { [key: string]: Json } = {
    name: `${random.text(1, "abcdefgh")}${text(random, 0, 40)}`,
  };
  if (random.chance(0.8)) out.score = random.int(0, 1_000_000);
  if (random.chance(0.3)) out.detail = text(random, 0, 32);
  return out;
}

/** A whole game as PUT takes it (valid by the contract: the oracle double-checks). */
export function validGame(random: Random): { [key: string]: Json } {
  const out: { [key: string]: Json } = { home: side(random), away: side(random) };
  if (random.chance(0.6)) out.title = `${random.text(1, "ABC")}${text(random, 0, 100)}`;
  if (random.chance(0.7)) out.status = random.pick(STATUSES);
  if (random.chance(0.4)) out.period = text(random, 0, 32);
  if (random.chance(0.4)) out.clock = random.text(random.int(0, 16), "0123456789:+'");
  return out;
}

/** A merge patch as PATCH takes it. */
export function validPatch(random: Random): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  if (random.chance(0.5)) out.status = random.pick(STATUSES);
  if (random.chance(0.4)) out.clock = random.chance(0.2) ? null : random.text(5, "0123456789:");
  if (random.chance(0.3)) out.title = random.chance(0.2) ? null : `T${text(random, 0, 50)}`;
  if (random.chance(0.5)) out.home = { score: random.int(0, 1_000_000) };
  if (random.chance(0.3)) out.away = { detail: random.chance(0.5) ? null : text(random, 0, 32) };
  return out;
}

/** A score delta as POST .../score takes it. */
export function validDelta(random: Random): { [key: string]: Json } {
  const points = random.int(1, 100) * (random.chance(0.2) ? -1 : 1);
  return { side: random.pick(["home", "away"]), points };
}

/** Makes `key` an own property even when it is `__proto__`, as JSON.parse would. */
function define(object: { [key: string]: Json }, key: string, value: Json): void {
  Object.defineProperty(object, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function deep(random: Random, depth: number): Json {
  let value: Json = random.chance(0.5) ? 1 : "x";
  for (let i = 0; i < depth; i++) {
    if (random.chance(0.5)) value = [value];
    else {
      const wrapper: { [key: string]: Json } = {};
      define(wrapper, random.pick(["a", "home", "__proto__"]), value);
      value = wrapper;
    }
  }
  return value;
}

/** A value that is wrong almost anywhere in a body: wrong type, too long, too big, too deep. */
export function hostileValue(random: Random): Json {
  switch (random.int(0, 9)) {
    case 0:
      return random.pick<Json>([null, true, false, [], {}, [1, 2], { a: 1 }]);
    case 1:
      return random.pick([
        -1,
        0.5,
        -0.5,
        1e21,
        -1e21,
        2 ** 53,
        2 ** 53 + 2,
        Number.MAX_VALUE,
        Number.MIN_VALUE,
        1_000_001,
        101,
        -101,
      ]);
    case 2: // overlong
      return random.text(random.int(17, 6000), TEXT);
    case 3: { // a control character somewhere
      const base = text(random, 0, 20);
      const at = random.int(0, base.length);
      const control = String.fromCharCode(
        random.pick([0, 1, 7, 8, 9, 10, 13, 27, 127, 0x85, 0x9f]),
      );
      return `x${base.slice(0, at)}${control}${base.slice(at)}`;
    }
    case 4: // half a surrogate pair
      return `a${random.pick(["\ud800", "\udfff", "\ud83d"])}b`;
    case 5:
      return deep(random, random.int(20, 2000));
    case 6:
      return random.pick(["", " ", "   ", "LIVE", "Live", "half-time", "home ", "HOME", "both"]);
    case 7:
      return JSON.parse(
        random.pick([
          '{"__proto__":{"polluted":true}}',
          '{"constructor":{"prototype":{"polluted":true}}}',
          '{"name":"x","__proto__":{"score":5}}',
        ]),
      );
    case 8:
      return String(random.int(0, 100)); // a number as a string
    default:
      return random.text(random.int(1, 10), "0123456789") + random.pick(["", ".0", "e2"]);
  }
}

const HOSTILE_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "",
  " ",
  "Home",
  "HOME",
  "score ",
  "colour",
  "\u0000",
  "🏆",
  "x".repeat(500),
];

type Slot = { parent: { [key: string]: Json } | Json[]; key: string | number };

/**
 * Every place in a value where something could be changed, deleted or added. Walked with a stack
 * of its own, not by recursion: a mutation may nest a 2,000-deep value inside another.
 */
function slots(value: Json): Slot[] {
  const out: Slot[] = [];
  const todo: Json[] = [value];
  while (todo.length > 0) {
    const next = todo.pop()!;
    if (Array.isArray(next)) {
      next.forEach((item, i) => {
        out.push({ parent: next, key: i });
        todo.push(item);
      });
    } else if (next !== null && typeof next === "object") {
      for (const [key, item] of Object.entries(next)) {
        out.push({ parent: next, key });
        todo.push(item);
      }
    }
  }
  return out;
}

function objects(value: Json): { [key: string]: Json }[] {
  const out: { [key: string]: Json }[] = [];
  const todo: Json[] = [value];
  while (todo.length > 0) {
    const next = todo.pop()!;
    if (Array.isArray(next)) todo.push(...next);
    else if (next !== null && typeof next === "object") {
      out.push(next);
      todo.push(...Object.values(next));
    }
  }
  return out;
}

/**
 * One to three structural mutations of a body (changed in place: every body is made fresh for its
 * case), and what changed, as labels.
 */
export function mutateValue(random: Random, body: Json): { value: Json; labels: string[] } {
  let value = body;
  const labels: string[] = [];
  for (let n = random.int(1, 3); n > 0; n--) {
    const places = slots(value);
    const op = random.int(0, 9);
    if (op <= 4 && places.length > 0) {
      const { parent, key } = random.pick(places);
      const replacement = hostileValue(random);
      if (Array.isArray(parent)) parent[key as number] = replacement;
      else define(parent, key as string, replacement);
      labels.push(`set ${String(key)}`);
    } else if (op <= 6 && places.length > 0) {
      const { parent, key } = random.pick(places);
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      labels.push(`delete ${String(key)}`);
    } else if (op <= 8 && objects(value).length > 0) {
      const key = random.pick(HOSTILE_KEYS);
      define(random.pick(objects(value)), key, hostileValue(random));
      labels.push(`add key ${JSON.stringify(key.slice(0, 20))}`);
    } else {
      value = hostileValue(random);
      labels.push("replace the whole body");
    }
  }
  return { value, labels };
}

/** JSON text that is broken, or almost: the oracle tells which. */
export function mutateText(random: Random, text: string): { text: string; label: string } {
  const at = random.int(0, Math.max(0, text.length - 1));
  switch (random.int(0, 5)) {
    case 0:
      return { text: text.slice(0, at), label: "truncated" };
    case 1: {
      const junk = random.pick([..."{}[]:,\"'\\ tnfu0-.eE/*"]);
      return { text: text.slice(0, at) + junk + text.slice(at), label: `inserted ${junk}` };
    }
    case 2:
      return { text: text.slice(0, at) + text.slice(at + 1), label: "dropped a character" };
    case 3:
      return {
        text: random.pick([
          "{'side':'home','points':1}",
          '{"side":"home","points":1,}',
          '{"points":NaN}',
          '{"points":Infinity}',
          '{"points":1}//c',
          '/*c*/{"points":1}',
          '{"points":01}',
          '{"side":"\\x"}',
          '{"side":"ho\nme"}',
          '{"points":1e400}',
          "[".repeat(16000),
          "[".repeat(8000) + "]".repeat(8000),
          "",
          "   ",
          "null",
          "\ufeff",
          "\u0000",
        ]),
        label: "known bad JSON",
      };
    case 4:
      return {
        text: `${text}${random.pick(["}", "x", ",", "{}", "\u0000"])}`,
        label: "trailing junk",
      };
    default:
      return {
        text: `${random.pick(["x", ",", "\u0000", "]", "\u2028"])}${text}`,
        label: "leading junk",
      };
  }
}

/** UTF-8 bytes with an invalid sequence in them (or, once in a while, a harmless BOM). */
export function mutateBytes(
  random: Random,
  bytes: Uint8Array,
): { bytes: Uint8Array<ArrayBuffer>; label: string } {
  const sequences = [
    [0xff],
    [0xfe],
    [0xc0, 0x80],
    [0x80],
    [0xe2, 0x82],
    [0xed, 0xa0, 0x80],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xef, 0xbb, 0xbf],
  ];
  const inserted = random.pick(sequences);
  const at = random.chance(0.2) ? 0 : random.int(0, bytes.length);
  const out = new Uint8Array(bytes.length + inserted.length);
  out.set(bytes.subarray(0, at));
  out.set(inserted, at);
  out.set(bytes.subarray(at), at + inserted.length);
  return { bytes: out, label: `bytes ${inserted.map((b) => b.toString(16)).join(" ")} at ${at}` };
}

/** Path segments that are not game ids (none of them "", "." or "..": those change the route). */
export function badId(random: Random): string {
  return random.pick([
    () => random.pick(["Cup", "-cup", "cup_final", "a b", "a/b", "a.b", "a;b", "%", "A", "é"]),
    () => "a".repeat(random.int(65, 400)),
    () =>
      `${random.text(random.int(1, 20), "abc-019")}${random.text(1, "ABZ_ .~!$'()*+,;=@é😀<>\"")}`,
    () =>
      random.pick(["\u0000", "a\n", "<script>alert(1)</script>", "__proto__", "${7*7}", "../x"]),
  ])();
}

/** Cursor values the contract refuses (`since`, `Last-Event-ID`). */
export function badCursor(random: Random): string {
  return random.pick([
    () => random.pick(["", "-1", "+1", "1.5", "1e3", "0x1f", " 1", "1 ", "１", "١", "NaN", "1,2"]),
    () => "9".repeat(random.int(17, 400)),
    () => `${random.int(0, 999)}${random.text(1, "abc.-+eE _")}`,
  ])();
}

/** `refresh` values a page refuses: not integers (out-of-range integers are clamped, not refused). */
export function badRefresh(random: Random): string {
  return random.pick(["", "1.5", "abc", " 5", "5s", "0x10", "1e3", "++1", "５", "NaN", "5,6", "-"]);
}

/** `tz` values a page refuses. */
export function badZone(random: Random): string {
  return random.pick([
    "",
    "Mars/Olympus_Mons",
    "Europe/Lond",
    "../../etc/passwd",
    "Europe/London\u0000",
    "UTC 1",
    "x".repeat(65),
    "<script>",
    "🕐",
  ]);
}

/**
 * X-Forwarded-For values with an entry that is not an address where the service reads it (from
 * the right, past trusted proxies: 127.0.0.1 in the suite); some are fine and get redrawn.
 */
export function badForwardedFor(random: Random): string {
  const garbage = random.pick([
    "garbage",
    "unknown",
    "1.2.3",
    "256.1.1.1",
    "1.2.3.4.5",
    "::g",
    "<script>",
    "1.2.3.4;5.6.7.8",
    "1.2.3.4 5.6.7.8",
    "_hidden",
    "é",
  ]);
  return random.pick([
    garbage,
    `198.51.100.7, ${garbage}`,
    `${garbage}, 127.0.0.1`,
    `${garbage},127.0.0.1, 127.0.0.1`,
    `${garbage}, 198.51.100.7`, // the client's own junk, never read: valid
  ]);
}

/** `theme` values the embed refuses. */
export function badTheme(random: Random): string {
  return random.pick(["", "blue", "DARK", "Light", "dark ", "<b>", "light;dark"]);
}

/** `timeout` values the contract refuses. */

export function badTimeout(random: Random): string {
  return random.pick(["-1", "61", "100", "1.5", "", "abc", "1e1", " 5", "0x10", "9999999", "60s"]);
}

/** `Authorization` values that grant nothing (undefined: no header at all). */
export function badAuthorization(random: Random, token: string): string | undefined {
  return random.pick([
    undefined,
    "",
    "Bearer",
    "Basic dGVzdDp0ZXN0",
    `Token ${token}`,
    token,
    `Bearer ${token}x`,
    `Bearer ${token.slice(1)}`,
    `Bearer ${token.toUpperCase()}`,
    `Bearer ${token},${token}`,
    `Bearer ${token} ${token}`,
    `Bearer é${token}`,
    `Bearer ${"x".repeat(random.int(1, 6000))}`,
  ]);
}

/** `Idempotency-Key` values the contract refuses. */
export function badIdempotencyKey(random: Random): string {
  return random.pick([
    () => "",
    () => "k".repeat(random.int(129, 2000)),
    () => `key-${random.text(2, "éÿ")}`,
    () => "a\tb",
  ])();
}

/** `If-Match` / `If-None-Match` values that are not entity-tag syntax. */
export function badEntityTags(random: Random): string {
  return random.pick([
    () => String(random.int(0, 1e9)),
    () => `"${random.int(0, 1e9)}`,
    () => `${random.int(0, 1e9)}"`,
    () => `'${random.int(0, 1e9)}'`,
    () => `W/${random.int(0, 1e9)}`,
    () => random.pick(['"a b"', "**", '*, "1"', '"1" "2"', '"1";"2"', "W/", "abc"]),
  ])();
}

/** Content types a write must refuse with 415 (undefined: none sent). */
export function badContentType(random: Random): string | undefined {
  return random.pick([
    undefined,
    "",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonp",
    "application/json-patch+json",
    "application/json; charset=latin1",
    "application/json; charset=utf-16",
    "json",
    "application/*",
    "*/*",
    "text/json",
    "application/ld+json",
    "text/html",
  ]);
}

/** Content types a write accepts. */
export function goodContentType(random: Random): string {
  return random.pick([
    "application/json",
    "Application/JSON",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    'application/json; charset="utf-8"',
    "application/merge-patch+json",
  ]);
}

/** Origins from which no browser may write (the listed one and the service's own are fine). */
export function foreignOrigin(random: Random): string {
  return random.pick([
    "https://evil.example",
    "null",
    "http://127.0.0.1:1",
    "https://scorer.example.evil.example",
    "https://scorer.example:8443",
    "file://",
  ]);
}

/** Headers that change nothing, sent along to make sure they really change nothing. */
export function noiseHeaders(random: Random): Record<string, string> {
  const out: Record<string, string> = {};
  for (let n = random.int(0, 3); n > 0; n--) {
    const [name, value] = random.pick<[string, () => string]>([
      [`x-junk-${random.int(0, 99)}`, () => random.text(random.int(0, 200), "abc <>&\"'%é")],
      ["accept", () => random.pick(["*/*", "text/html", "application/xml", "é/ÿ"])],
      ["x-forwarded-for", () => random.pick(["1.2.3.4", "garbage", "::1, 10.0.0.1", ""])],
      ["cookie", () => `session=${random.text(10, "abc123")}`],
      ["cache-control", () => random.pick(["no-cache", "max-age=0", "x"])],
      ["accept-encoding", () => random.pick(["gzip", "br", "identity", "*"])],
    ]);
    out[name] = value();
  }
  return out;
}
