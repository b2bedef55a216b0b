/**
 * The raw material of the hostile-input suite: valid bodies to start from, mutations of them
 * (structural, textual and byte-level), and lists of bad ids, cursors and header values. Nothing
 * here decides what a request deserves; `contract_oracle.ts` does.
 */
import { createHmac, type KeyObject, sign } from "node:crypto";
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

/** Competitions the suite's bodies name (the scene's games are in the first or in none). */
export const COMPETITIONS = ["cup", "league-2", "x"];

/** A kick-off time RFC 3339 allows and the service takes: offsets, fractions, leap days. */
export function validStartsAt(random: Random): string {
  const day = random.pick(["2026-12-07", "2028-02-29", "2000-02-29", "1999-12-31", "0001-01-01"]);
  const time = random.pick(["00:00:00", "17:45:00", "23:59:59", "12:00:00.5", "09:30:15.123456"]);
  return `${day}T${time}${random.pick(["Z", "+01:00", "-03:30", "+23:59", "-00:00"])}`;
}

/** A whole game as PUT takes it (valid by the contract: the oracle double-checks). */
export function validGame(random: Random): { [key: string]: Json } {
  const out: { [key: string]: Json } = { home: side(random), away: side(random) };
  if (random.chance(0.6)) out.title = `${random.text(1, "ABC")}${text(random, 0, 100)}`;
  if (random.chance(0.7)) out.status = random.pick(STATUSES);
  if (random.chance(0.4)) out.period = text(random, 0, 32);
  if (random.chance(0.4)) out.clock = random.text(random.int(0, 16), "0123456789:+'");
  if (random.chance(0.3)) out.competition = random.pick(COMPETITIONS);
  if (random.chance(0.3)) out.startsAt = validStartsAt(random);
  if (random.chance(0.3)) out.timer = validTimer(random);
  if (random.chance(0.15)) out.events = [{ id: 1, kind: "goal", version: 1, time: "x" }];
  if (random.chance(0.15)) out.lastEventId = random.int(0, 600);
  return out;
}

/** The longest a timer counts (API.md): 24 hours. */
export const MAX_TIMER_MS = 86_400_000;

/** A timer as PUT and PATCH write it, whole. */
export function validTimer(random: Random): { [key: string]: Json } {
  const elapsedMs = random.int(0, MAX_TIMER_MS);
  const out: { [key: string]: Json } = { running: random.chance(0.5), elapsedMs };
  if (random.chance(0.3)) out.at = new Date(random.int(0, 2e12)).toISOString();
  const down = random.chance(0.3);
  if (down || random.chance(0.3)) out.direction = down ? "down" : "up";
  if (down || random.chance(0.3)) out.limitMs = random.int(Math.max(1, elapsedMs), MAX_TIMER_MS);
  return out;
}

/** A timer action as POST .../timer takes it. */
export function validTimerAction(random: Random): { [key: string]: Json } {
  const action = random.pick(["start", "stop", "set"]);
  return action === "set" ? { action, elapsedMs: random.int(0, MAX_TIMER_MS) } : { action };
}

/** An event as POST .../events takes it. */
export function validEvent(random: Random): { [key: string]: Json } {
  const out: { [key: string]: Json } = {
    kind: `${random.text(1, "abcgz")}${random.text(random.int(0, 23), "abcz09-")}`,
  };
  if (random.chance(0.7)) out.side = random.pick(["home", "away"]);
  if (out.side !== undefined && random.chance(0.6)) {
    out.points = random.int(1, 100) * (random.chance(0.2) ? -1 : 1);
  }
  if (random.chance(0.6)) out.text = `${random.text(1, "ABC")}${text(random, 0, 79)}`;
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
  if (random.chance(0.15)) out.competition = random.chance(0.3) ? null : random.pick(COMPETITIONS);
  if (random.chance(0.2)) out.startsAt = random.chance(0.3) ? null : validStartsAt(random);
  if (random.chance(0.2)) out.timer = random.chance(0.2) ? null : validTimer(random);
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
 * Every place in a value where something could be changed, deleted or added. Walked with an
 * explicit stack, not by recursion: a value 2,000 levels deep (see `deep`) would otherwise run
 * out of call stack on some runs, depending on how V8 happened to compile this function.
 */
function slots(value: Json): Slot[] {
  const out: Slot[] = [];
  const stack: Json[] = [value];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (Array.isArray(item)) {
      item.forEach((child, i) => {
        out.push({ parent: item, key: i });
        stack.push(child);
      });
    } else if (item !== null && typeof item === "object") {
      for (const [key, child] of Object.entries(item)) {
        out.push({ parent: item, key });
        stack.push(child);
      }
    }
  }
  return out;
}

/** Every object in a value, walked with an explicit stack like `slots`. */
function objects(value: Json): { [key: string]: Json }[] {
  const out: { [key: string]: Json }[] = [];
  const stack: Json[] = [value];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (Array.isArray(item)) stack.push(...item);
    else if (item !== null && typeof item === "object") {
      out.push(item);
      stack.push(...Object.values(item));
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

/** Event ids the contract refuses: not positive integers (none "", "." or "..": other routes). */
export function badEventId(random: Random): string {
  return random.pick([
    () => random.pick(["0", "00", "-1", "+1", "1.5", "1e3", "0x1f", " 1", "1 ", "１", "NaN"]),
    () => random.pick(["one", "1,2", "first", "last", "-", "1.", "Infinity", "%", "é"]),
    () => "9".repeat(random.int(17, 300)),
    () => `${random.int(1, 999)}${random.text(1, "abc.-+eE _;")}`,
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

/** `startsAt` values the contract refuses: not RFC 3339, or not a real time. */
export function badStartsAt(random: Random): string {
  return random.pick([
    "2026-12-07",
    "2026-12-07T17:00",
    "2026-12-07T17:00:00",
    "2026-12-07 17:00:00Z",
    "2026-12-07t17:00:00z",
    "2026-02-29T17:00:00Z",
    "2026-13-01T17:00:00Z",
    "2026-12-07T24:00:00Z",
    "2026-12-07T17:00:60Z",
    "2026-12-07T17:00:00+24:00",
    "2026-12-07T17:00:00+0100",
    "0000-01-01T00:00:00+00:30",
    "9999-12-31T23:59:59-00:01",
    "+002026-12-07T17:00:00Z",
    "tomorrow",
    "",
  ]);
}

/** `games=` values the contract refuses: not ids, a duplicate, none, more than 100. */
export function badGames(random: Random): string {
  return random.pick([
    () => "",
    () => ",",
    () => "a,,b",
    () => "a,b,a",
    () => `a,${badId(random)}`,
    () => Array.from({ length: random.int(101, 300) }, (_, i) => `g${i}`).join(","),
    () => "a b",
    () => "a;b",
  ])();
}

/** `competition=` values the contract refuses. */
export function badCompetition(random: Random): string {
  return random.pick(["", "Cup", "-cup", "cup,league", "a".repeat(65), "cup_2026", "é"]);
}

/** `viewers` values a feed refuses: only 1 and 0 are taken. */
export function badViewers(random: Random): string {
  return random.pick(["", "2", "true", "yes", "on", "01", "1 ", "-1", "1.0"]);
}

/** The board's `per` values it refuses (1 to 48 are taken). */
export function badPer(random: Random): string {
  return random.pick(["0", "49", "100", "-1", "1.5", "", "x", " 5", "1e1", "9999999"]);
}

/** The board's `page` values it refuses (1 and up are taken). */
export function badPage(random: Random): string {
  return random.pick(["0", "-1", "1.5", "", "x", "1e3", "9999999", "+1"]);
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

/** `delta` values the contract refuses: it is `1` or `0`, nothing else. */
export function badDelta(random: Random): string {
  return random.pick(["", "true", "false", "yes", "on", "2", "01", "-1", "1.0", " 1", "１", "1,0"]);
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

/** What the suite signs JWTs with: the service's HS256 secret and one RSA key of its key set. */
export interface JwtSigner {
  secret: Uint8Array;
  kid: string;
  privateKey: KeyObject;
  /** The RSA key's public half: an HS256 "secret" for an algorithm-confusion attempt. */
  publicPem: string;
  /** The service's time, in epoch seconds. */
  nowSeconds: number;
}

const b64 = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/**
 * A JWT for a write, valid or not: well signed with every game, some games or a competition in
 * scope, or spoiled in one of the ways an attacker or a broken client spoils one (alg none,
 * another algorithm, an unknown kid, a bad signature, expired, not yet valid, claims missing or
 * malformed, huge, not JSON). Whether it is good is for the oracle to say, not this label.
 */
export function hostileJwt(
  random: Random,
  signer: JwtSigner,
  games: readonly string[],
): { token: string; label: string } {
  const now = signer.nowSeconds;
  const scopes: [string, Json][] = [
    ["*", "*"],
    ["games", { games: [random.pick(games), `new-${random.int(0, 9)}`] }],
    ["competition", { competitions: ["cup-2026"] }],
  ];
  const [scopeLabel, scoreline] = random.pick(scopes);
  let claims: Record<string, Json> = {
    sub: `hostile-${random.int(0, 9)}`,
    exp: now + random.int(60, 86_400),
    scoreline,
  };
  let header: Record<string, Json> = { alg: "HS256" };
  type Key = "secret" | "rsa" | "other" | "public" | "none";
  let key = "secret" as Key; // set by the spoilers below
  let label = `HS256 ${scopeLabel}`;
  const spoilers: [string, () => void][] = [
    ["RS256", () => {
      header = { alg: "RS256", kid: signer.kid };
      key = "rsa";
    }],
    ["RS256 without kid", () => {
      header = { alg: "RS256" };
      key = "rsa";
    }],
    ["RS256 unknown kid", () => {
      header = { alg: "RS256", kid: `kid-${random.int(0, 1e9)}` };
      key = "rsa";
    }],
    ["RS256 header, HMAC signature", () => (header = { alg: "RS256", kid: signer.kid })],
    ["alg none", () => {
      header = { alg: "none" };
      key = "none";
    }],
    ["alg None", () => {
      header = { alg: random.pick(["None", "NONE", "nOnE"]) };
      key = "none";
    }],
    ["HS512", () => (header = { alg: "HS512" })],
    ["HS384", () => (header = { alg: "HS384" })],
    ["ES256 signed with the secret", () => (header = { alg: "ES256", kid: signer.kid })],
    ["signed with another secret", () => (key = "other")],
    ["signed with the public key (alg confusion)", () => (key = "public")],
    ["expired", () => (claims.exp = now - random.int(3_600, 10_000_000))],
    ["not valid yet", () => (claims.nbf = now + random.int(3_600, 10_000_000))],
    ["no exp", () => delete claims.exp],
    ["exp not a number", () => (claims.exp = random.pick(["tomorrow", `${now + 60}`, null]))],
    ["no scoreline", () => delete claims.scoreline],
    ["bad scoreline", () => {
      claims.scoreline = random.pick<Json>([
        "all",
        "",
        7,
        null,
        ["cup"],
        { games: "alpha" },
        { games: ["Alpha"] },
        { games: [1] },
        { competitions: ["cup 2026"] },
        { games: ["alpha"], admin: true },
      ]);
    }],
    [
      "sub not a name",
      () => (claims.sub = random.pick<Json>([42, "", "a\u0000b", "x".repeat(300)])),
    ],
    ["huge", () => (claims.pad = "x".repeat(random.int(9_000, 20_000)))],
    ["claims not an object", () => (claims = random.pick<Json>([[1], "x", 7]) as never)],
  ];
  // Well signed often enough that a good JWT meets the other faults (and its scope) regularly.
  const spoil: [string, () => void] = random.chance(0.4)
    ? ["well signed", () => {}]
    : random.pick(spoilers);
  spoil[1]();
  if (spoil[0] !== "well signed") label += `, ${spoil[0]}`;
  const input = `${b64(header)}.${b64(claims)}`;
  const hmac = (secret: Uint8Array | string, alg = "sha256") =>
    createHmac(alg, secret).update(input).digest("base64url");
  const hmacAlg = header.alg === "HS512" ? "sha512" : header.alg === "HS384" ? "sha384" : "sha256";
  const signature = key === "rsa"
    ? sign("sha256", Buffer.from(input), signer.privateKey).toString("base64url")
    : key === "none"
    ? random.pick(["", "c2ln"])
    : key === "other"
    ? hmac("another-secret-that-nobody-configured")
    : key === "public"
    ? hmac(signer.publicPem)
    : hmac(signer.secret, hmacAlg);
  if (random.chance(0.02)) return { token: `${input}`, label: `${label}, two parts` };
  return { token: `${input}.${signature}`, label };
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

/** A token as `openssl rand -base64 N` would print it (padding included). */
function base64Token(random: Random): string {
  const bytes = new Uint8Array(random.pick([12, 16, 24, 31, 32]));
  for (let i = 0; i < bytes.length; i++) bytes[i] = random.int(0, 255);
  return Buffer.from(bytes).toString("base64");
}

/**
 * A token file with garbage in it: starts as a good file (comments, blank lines, base64 tokens,
 * some scoped to games or competitions) and gets one to three mistakes, from a token too short
 * to bytes that are not text. Whether it is bad is for the oracle to say.
 */
export function garbageTokenFile(random: Random, reserved: readonly string[]): {
  bytes: Uint8Array;
  faults: string[];
} {
  const lines: (string | Uint8Array)[] = [];
  const made: string[] = [];
  for (let n = random.int(1, 8); n > 0; n--) {
    const kind = random.int(0, 5);
    if (kind === 0) lines.push(`# ${random.text(random.int(0, 30), TEXT)}`);
    else if (kind === 1) lines.push(random.pick(["", "   ", "\r"]));
    else {
      const scope = random.pick(["", "=alpha", "=game-a|competition:cup-2026", "=competition:x"]);
      made.push(base64Token(random));
      lines.push(
        `${random.pick(["", "  "])}${made.at(-1)}${scope}${random.pick(["", "\r", " "])}`,
      );
    }
  }
  const faults: string[] = [];
  const at = () => random.int(0, lines.length);
  const insert = (label: string, line: string | Uint8Array) => {
    lines.splice(at(), 0, line);
    faults.push(label);
  };
  for (let n = random.int(1, 3); n > 0; n--) {
    const token = base64Token(random);
    random.pick<() => void>([
      () => insert("a short token", random.text(random.int(1, 15), "abcXYZ019+/=")),
      () => insert("a space in a token", `${token.slice(0, 8)} ${token.slice(8)}`),
      () => insert("a comma in a token", `${token.slice(0, 8)},${token.slice(8)}`),
      () =>
        insert(
          "a control character",
          `${token}${String.fromCharCode(random.pick([0, 1, 8, 9, 27, 127]))}x`,
        ),
      () => insert("a non-ASCII token", `${token}é`),
      () =>
        insert(
          "a bad scope",
          `${token}=${
            random.pick(["Alpha", "cup final", "a||b", "competition:", "team:x", "a|", "*"])
          }`,
        ),
      () => insert("a token listed twice", `${made.length > 0 ? random.pick(made) : token}=alpha`),
      () => insert("a token listed twice", made.length > 0 ? random.pick(made) : token),
      () => insert("a token of SCORELINE_TOKENS", random.pick(reserved)),
      () =>
        insert(
          "bytes that are not UTF-8",
          new Uint8Array([0x61, random.pick([0x80, 0xc3, 0xff, 0xed]), 0x62]),
        ),
      () => {
        const junk = new Uint8Array(random.int(1, 64));
        for (let i = 0; i < junk.length; i++) junk[i] = random.int(0, 255);
        insert("binary junk", junk);
      },
      () => {
        if (random.chance(0.9)) return insert("a token of 15 characters", "x".repeat(15));
        lines.push("#".repeat(1024 * 1024)); // rare: writing a megabyte is slow
        faults.push("over 1 MiB");
      },
    ])();
  }
  const parts = lines.map((line) =>
    typeof line === "string" ? new TextEncoder().encode(line) : line
  );
  const size = parts.reduce((sum, part) => sum + part.byteLength + 1, 0);
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
    bytes[offset++] = 0x0a;
  }
  return { bytes, faults };
}
