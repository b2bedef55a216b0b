/**
 * The contract's rules for request bodies, written again from API.md (and the README's choices),
 * without importing core/schema.ts: the hostile-input suite asks this oracle whether a mutated
 * body is still valid, so a mutation that happens to stay valid is never counted as "refused",
 * and a schema that accepted something the contract forbids would show up as a disagreement.
 */
import { createHmac, type KeyObject, timingSafeEqual, verify } from "node:crypto";

import { isIP } from "node:net";

const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const STATUSES = ["scheduled", "live", "break", "final", "postponed", "cancelled"];
/** C0, DEL and C1: refused in every text field (README, "Text"). */
// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
export const MAX_SCORE = 1_000_000;
export const MAX_BODY_BYTES = 16 * 1024;
/** The match (v2): a timer counts at most 24 hours; a timeline holds at most 500 events. */
export const MAX_TIMER_MS = 86_400_000;
export const MAX_EVENTS = 500;
const EVENT_KIND = /^[a-z][a-z0-9-]{0,23}$/;

export type WriteKind = "put" | "patch" | "score" | "timer" | "event";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Own keys only (JSON.parse makes `__proto__` an own key), all from `allowed`. */
function onlyKeys(value: Record<string, unknown>, allowed: readonly string[]): boolean {
  return Object.keys(value).every((key) => allowed.includes(key));
}

/** A display string: `min`–`max` code points, no control characters, well-formed Unicode. */
export function textOk(value: unknown, min: number, max: number, trim = false): boolean {
  if (typeof value !== "string") return false;
  const text = trim ? value.trim() : value;
  if (CONTROL.test(text) || !text.isWellFormed()) return false;
  const length = [...text].length;
  return length >= min && length <= max;
}

function integerIn(value: unknown, min: number, max: number): boolean {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

function optional(
  body: Record<string, unknown>,
  key: string,
  ok: (value: unknown) => boolean,
  nullable = false,
): boolean {
  if (!Object.hasOwn(body, key)) return true;
  const value = body[key];
  return (nullable && value === null) || ok(value);
}

function sideOk(side: unknown, patch: boolean): boolean {
  if (!isObject(side) || !onlyKeys(side, ["name", "score", "detail"])) return false;
  if (!patch && !Object.hasOwn(side, "name")) return false;
  return optional(side, "name", (v) => textOk(v, 1, 64, true)) &&
    optional(side, "score", (v) => integerIn(v, 0, MAX_SCORE)) &&
    optional(side, "detail", (v) => textOk(v, 0, 32), patch);
}

/** Days in a month of the proleptic Gregorian calendar. */
function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * `startsAt`: an RFC 3339 date-time with its offset (API.md), as the README's choices narrow it:
 * `T` and `Z` upper-case, seconds given (no leap second), a real calendar date, and a UTC year
 * from 0000 to 9999.
 */
export function dateTimeOk(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|([+-])(\d\d):(\d\d))$/.exec(
    value,
  );
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysIn(year!, month!)) return false;
  if (hour! > 23 || minute! > 59 || second! > 59) return false;
  let offset = 0;
  if (m[8] !== "Z") {
    if (Number(m[10]) > 23 || Number(m[11]) > 59) return false;
    offset = (m[9] === "-" ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year!, month! - 1, day!);
  utc.setUTCHours(hour!, minute! - offset, second!);
  return utc.getUTCFullYear() >= 0 && utc.getUTCFullYear() <= 9999;
}

/** What the game `pathId` is now, for the rules that depend on it: its competition. */
export interface Existing {
  competition?: string;
}

/**
 * Whether a valid body would change an existing game's competition (422: fixed once created).
 * A body that leaves it out keeps it (PUT and PATCH alike); naming another value, or null in a
 * PATCH, changes it.
 */
export function changesCompetition(body: unknown, existing: Existing): boolean {
  if (!isObject(body) || !Object.hasOwn(body, "competition")) return false;
  const next = body.competition === null ? undefined : body.competition;
  return next !== existing.competition;
}

/**
 * A timer as PUT and PATCH write it, whole: running and elapsedMs required; `at` accepted back
 * (a string, as the server sent it) and ignored; a down timer needs limitMs, and a limit is never
 * below elapsedMs.
 */
export function timerOk(timer: unknown): boolean {
  const keys = ["running", "elapsedMs", "at", "direction", "limitMs"];
  if (!isObject(timer) || !onlyKeys(timer, keys)) return false;
  if (typeof timer.running !== "boolean" || !integerIn(timer.elapsedMs, 0, MAX_TIMER_MS)) {
    return false;
  }
  if (
    !optional(timer, "at", (v) => typeof v === "string" && v.length <= 64) ||
    !optional(timer, "direction", (v) => v === "up" || v === "down") ||
    !optional(timer, "limitMs", (v) => integerIn(v, 1, MAX_TIMER_MS))
  ) {
    return false;
  }
  if (timer.direction === "down" && !Object.hasOwn(timer, "limitMs")) return false;
  return !Object.hasOwn(timer, "limitMs") ||
    (timer.limitMs as number) >= (timer.elapsedMs as number);
}

/** A whole game (PUT) or a merge patch of one (PATCH), for the game `pathId`. */
export function gameBodyOk(body: unknown, pathId: string, patch: boolean): boolean {
  const keys = [
    "id",
    "version",
    "updatedAt",
    "title",
    "status",
    "period",
    "clock",
    "competition",
    "startsAt",
    "timer",
    "home",
    "away",
    "events",
    "lastEventId",
  ];
  if (!isObject(body) || !onlyKeys(body, keys)) return false;
  if (!patch && !(Object.hasOwn(body, "home") && Object.hasOwn(body, "away"))) return false;
  return optional(body, "id", (v) => typeof v === "string" && ID.test(v) && v === pathId) &&
    optional(body, "version", (v) => integerIn(v, 0, Number.MAX_SAFE_INTEGER)) &&
    optional(body, "updatedAt", (v) => typeof v === "string" && v.length <= 64) &&
    optional(body, "title", (v) => textOk(v, 1, 120), patch) &&
    optional(body, "status", (v) => STATUSES.includes(v as string)) &&
    optional(body, "period", (v) => textOk(v, 0, 32), patch) &&
    optional(body, "clock", (v) => textOk(v, 0, 16), patch) &&
    optional(body, "competition", (v) => typeof v === "string" && ID.test(v), patch) &&
    optional(body, "startsAt", dateTimeOk, patch) &&
    optional(body, "home", (v) => sideOk(v, patch)) &&
    optional(body, "away", (v) => sideOk(v, patch)) &&
    // The match: a timer written whole (null removes it in a patch); the timeline and its
    // counter sent back as read are accepted and ignored, so any array and any count will do.
    optional(body, "timer", timerOk, patch) &&
    optional(body, "events", Array.isArray) &&
    optional(body, "lastEventId", (v) => integerIn(v, 0, Number.MAX_SAFE_INTEGER));
}

/** `{"action": "start"|"stop"}` or `{"action": "set", "elapsedMs": n}`, n 0–86,400,000. */
export function timerActionOk(body: unknown): boolean {
  if (!isObject(body) || !onlyKeys(body, ["action", "elapsedMs"])) return false;
  if (body.action === "set") return integerIn(body.elapsedMs, 0, MAX_TIMER_MS);
  return (body.action === "start" || body.action === "stop") && !Object.hasOwn(body, "elapsedMs");
}

/** An event: a kind, an optional side (required with points), points, text and clock. */
export function eventBodyOk(body: unknown): boolean {
  if (!isObject(body) || !onlyKeys(body, ["kind", "side", "points", "text", "clock"])) return false;
  if (typeof body.kind !== "string" || !EVENT_KIND.test(body.kind)) return false;
  if (Object.hasOwn(body, "points") && !Object.hasOwn(body, "side")) return false;
  return optional(body, "side", (v) => v === "home" || v === "away") &&
    optional(body, "points", (v) => integerIn(v, -100, 100) && v !== 0) &&
    optional(body, "text", (v) => textOk(v, 1, 80)) &&
    optional(body, "clock", (v) => textOk(v, 0, 16));
}

/** Whether a path segment is an event id the contract accepts: a positive integer. */
export function eventIdOk(raw: string): boolean {
  return /^[0-9]+$/.test(raw) && Number.isSafeInteger(Number(raw)) && Number(raw) >= 1;
}

/** `{"side": "home"|"away", "points": n}`, n a non-zero integer in −100..100. */
export function scoreBodyOk(body: unknown): boolean {
  return isObject(body) && onlyKeys(body, ["side", "points"]) &&
    (body.side === "home" || body.side === "away") &&
    integerIn(body.points, -100, 100) && body.points !== 0;
}

/** Why the contract refuses a request: the status, and the rule that decided it. */
export interface Refusal {
  status: number;
  because: string;
}

/**
 * What the service must answer to these body bytes for a write, before any game is looked at:
 * 413 when over 16 KiB, 400 when not UTF-8, not JSON or against the rules; null when valid.
 */
export function bodyVerdict(kind: WriteKind, bytes: Uint8Array, pathId: string): Refusal | null {
  if (bytes.byteLength > MAX_BODY_BYTES) return { status: 413, because: "body size" };
  const text = utf8(bytes);
  if (text === null) return { status: 400, because: "body not UTF-8" };
  const value = json(text);
  if (value === NOT_JSON) return { status: 400, because: "body not JSON" };
  const ok = kind === "score"
    ? scoreBodyOk(value)
    : kind === "timer"
    ? timerActionOk(value)
    : kind === "event"
    ? eventBodyOk(value)
    : gameBodyOk(value, pathId, kind === "patch");
  return ok ? null : { status: 400, because: "body against the rules" };
}

/** The standard decoder, as any server would use: strict, and a leading BOM is dropped. */
function utf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

const NOT_JSON = Symbol("not JSON");

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

/** An import's bounds (README, "Backup, export and import"): 32 MiB in all, 1 MiB a line. */
export const MAX_IMPORT_BYTES = 32 * 1024 * 1024;
export const MAX_IMPORT_LINE_BYTES = 1024 * 1024;

/**
 * What the service must answer to these bytes as an import body (API.md: one bad line is 400
 * naming it; nothing is changed): 413 over 32 MiB; 400 when the body is not UTF-8, or a line is
 * over 1 MiB, not JSON, not a game with its id, or names a game an earlier line named; null when
 * every line is good. Blank lines are allowed; `\r\n` ends a line as `\n` does.
 */
export function importVerdict(bytes: Uint8Array): Refusal | null {
  if (bytes.byteLength > MAX_IMPORT_BYTES) return { status: 413, because: "body size" };
  const bad = { status: 400, because: "import line" };
  const text = utf8(bytes);
  if (text === null) return bad;
  const seen = new Set<string>();
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (new TextEncoder().encode(line).byteLength > MAX_IMPORT_LINE_BYTES) return bad;
    if (line.trim() === "") continue;
    const value = json(line);
    const id = isObject(value) ? value.id : undefined;
    if (typeof id !== "string" || !importLineOk(value, id) || seen.has(id)) return bad;
    seen.add(id);
  }
  return null;
}

/**
 * A game as an export wrote it (README, "Backup, export and import"): the PUT rules, and then
 * what a PUT ignores but an import keeps: the timer's `at`, a date-time; the timeline, at most
 * 500 events, each a valid event with its own id (distinct, from 1), a date-time `time`, maybe
 * a version and what the timer showed; and a `lastEventId` not below any event's id.
 */
function importLineOk(value: unknown, id: string): boolean {
  if (!isObject(value) || !gameBodyOk(value, id, false)) return false;
  const timer = value.timer;
  if (isObject(timer) && !optional(timer, "at", dateTimeOk)) return false;
  const events = value.events ?? [];
  if (!Array.isArray(events) || events.length > 500) return false;
  const ids = new Set<number>();
  for (const event of events) {
    if (!isObject(event)) return false;
    const { id: eventId, version, time, elapsedMs, ...input } = event;
    if (!integerIn(eventId, 1, Number.MAX_SAFE_INTEGER) || ids.has(eventId as number)) return false;
    ids.add(eventId as number);
    if (version !== undefined && !integerIn(version, 0, Number.MAX_SAFE_INTEGER)) return false;
    if (!dateTimeOk(time)) return false;
    if (elapsedMs !== undefined && !integerIn(elapsedMs, 0, MAX_TIMER_MS)) return false;
    if (!eventBodyOk(input)) return false;
  }
  const last = value.lastEventId;
  return last === undefined || (last as number) >= Math.max(0, ...ids);
}

/** `application/x-ndjson`, with no charset but UTF-8. */
export function ndjsonContentTypeOk(value: string | undefined): boolean {
  return mediaTypeOk(value, ["application/x-ndjson"]);
}

/** Whether a path segment is a game id the contract accepts. */
export function idOk(id: string): boolean {
  return ID.test(id);
}

/** A cursor: decimal digits only (and small enough to be exact in JSON). */
export function cursorOk(raw: string): boolean {
  return /^[0-9]+$/.test(raw) && Number.isSafeInteger(Number(raw));
}

/** A page's `refresh`: any integer, clamped (API.md: out-of-range values are not refused). */
export function refreshOk(raw: string): boolean {
  return /^[+-]?[0-9]+$/.test(raw);
}

/** A page's `tz`: an IANA time zone name the platform knows. */
export function zoneOk(raw: string): boolean {
  if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(raw)) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: raw });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether an X-Forwarded-For header, from a peer that is a trusted proxy, names a client: read
 * from the right (API.md: the client is the rightmost address not in the trusted list), every
 * entry read must be an IP address. Plain addresses only (node:net's isIP), so the suite never
 * sends the port or zone forms the service also accepts.
 */
export function forwardedForOk(header: string, trusted: readonly string[]): boolean {
  if (header.trim() === "") return true; // says nothing, like no header
  const entries = header.split(",").map((entry) => entry.trim());
  for (let i = entries.length - 1; i >= 0; i--) {
    if (isIP(entries[i]!) === 0) return false;
    if (!trusted.includes(entries[i]!)) return true;
  }
  return true;
}

/** The embed's `theme`. */
export function themeOk(raw: string): boolean {
  return raw === "light" || raw === "dark";
}

/**
 * The one filter of an all-games read (API.md): `games=` 1–100 distinct valid ids, comma
 * separated, or `competition=` a valid id, never both; each given once (README, Choices). Values
 * as the query has them: every value of each name, in order. Returns the rule that refuses them.
 */
export function filterVerdict(games: string[], competitions: string[]): string | null {
  if (games.length > 0 && competitions.length > 0) return "both filters";
  if (competitions.length > 1 || (competitions.length === 1 && !ID.test(competitions[0]!))) {
    return "competition filter";
  }
  if (games.length === 0) return null;
  if (games.length > 1) return "games filter";
  const ids = games[0]!.split(",");
  const ok = ids.length <= 100 && ids.every((id) => ID.test(id)) &&
    new Set(ids).size === ids.length;
  return ok ? null : "games filter";
}

/** `viewers`: 1 or 0. */
export function viewersOk(raw: string): boolean {
  return raw === "1" || raw === "0";
}

/** The board's `per` (1–48) and `page` (1–999999): decimal digits. */
export function perOk(raw: string): boolean {
  return /^[0-9]{1,6}$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 48;
}

export function pageOk(raw: string): boolean {
  return /^[0-9]{1,6}$/.test(raw) && Number(raw) >= 1;
}

/** `?delta=` on a feed: `1` or `0` (API.md, Deltas; README: anything else is refused). */
export function deltaOk(raw: string): boolean {
  return raw === "1" || raw === "0";
}

/** A long-poll timeout: an integer 0–60. */

export function timeoutOk(raw: string): boolean {
  return /^[0-9]+$/.test(raw) && Number(raw) <= 60;
}

/** `Idempotency-Key`: 1–128 printable characters. */
export function idempotencyKeyOk(value: string): boolean {
  return /^[\x20-\x7e]{1,128}$/.test(value);
}

const TAG = String.raw`(?:W/)?"[\x21\x23-\x7e]*"`;
const TAGS = new RegExp(String.raw`^\s*(?:\*|${TAG}(?:\s*,\s*${TAG})*)\s*$`);

/** RFC 9110 `If-Match` / `If-None-Match`: `*` or a list of entity tags. */
export function entityTagsOk(value: string): boolean {
  return TAGS.test(value);
}

/** The versions a well-formed value names; `*` for any. Weak tags count only if `weak`. */
export function taggedVersions(value: string, weak: boolean): "*" | number[] {
  if (value.trim() === "*") return "*";
  const versions: number[] = [];
  for (const [, w, opaque] of value.matchAll(/(W\/)?"([^"]*)"/g)) {
    if (/^[0-9]+$/.test(opaque!) && (weak || !w)) versions.push(Number(opaque));
  }
  return versions;
}

/** `application/json` or `application/merge-patch+json`, with no charset but UTF-8. */
export function jsonContentTypeOk(value: string | undefined): boolean {
  return mediaTypeOk(value, ["application/json", "application/merge-patch+json"]);
}

/** One of `types` (case-insensitive), with no charset but UTF-8. */
function mediaTypeOk(value: string | undefined, types: readonly string[]): boolean {
  if (value === undefined) return false;
  const [type = "", ...params] = value.split(";").map((p) => p.trim().toLowerCase());
  if (!types.includes(type)) return false;
  const charset = params.find((p) => p.startsWith("charset="));
  return charset === undefined || charset.slice(8).replace(/"/g, "") === "utf-8";
}

/** What a bearer may write: every game, or these games and the games of these competitions. */
export type Grant = "*" | { games: readonly string[]; competitions: readonly string[] };

/** What the service trusts for JWTs: its HS256 secret and the RSA keys of its key set, by kid. */
export interface JwtTrust {
  secret: Uint8Array;
  keys: ReadonlyMap<string, KeyObject>;
  /** The service's time, in epoch seconds. */
  nowSeconds: number;
}

/** README, Trust: bearer tokens longer than this are refused unread. */
const MAX_BEARER = 8192;
/** README, Trust: the clock skew allowed on `exp` and `nbf`. */
const LEEWAY_SECONDS = 30;

function jsonPart(part: string): unknown {
  try {
    return JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(part, "base64url")),
    );
  } catch {
    return undefined;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** `sub` and `iss` (README, Trust): absent, or 1–256 characters without control characters. */
function nameClaimOk(value: unknown): boolean {
  return value === undefined ||
    (typeof value === "string" && value.length >= 1 && value.length <= 256 &&
      !/\p{Cc}/u.test(value));
}

/** The `scoreline` claim (API.md): `"*"` or `{"games": [...], "competitions": [...]}`. */
function scorelineGrant(claim: unknown): Grant | null {
  if (claim === "*") return "*";
  if (!isObject(claim) || !onlyKeys(claim, ["games", "competitions"])) return null;
  const list = (value: unknown) =>
    value === undefined ? [] : Array.isArray(value) && value.length <= 1000 &&
        value.every((v) => typeof v === "string" && ID.test(v))
      ? value as string[]
      : null;
  const games = list(claim.games);
  const competitions = list(claim.competitions);
  return games && competitions ? { games, competitions } : null;
}

/**
 * What a JWT grants by the contract (API.md, Trust and operations; the README's choices), or
 * null for a 401: compact form; `alg` HS256 with the secret or RS256 with a key of the set (by
 * `kid`, or any when it names none); the signature; `exp` required and in the future, `nbf` not
 * in the future (30 s of leeway each); `sub` and `iss` names; the `scoreline` claim.
 */
export function jwtGrant(token: string, trust: JwtTrust): Grant | null {
  if (token.length > MAX_BEARER) return null;
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((part) => /^[A-Za-z0-9_-]*$/.test(part))) return null;
  const [head = "", body = "", signature = ""] = parts;
  const header = jsonPart(head);
  const claims = jsonPart(body);
  if (!isObject(header) || !isObject(claims)) return null;
  const input = `${head}.${body}`;
  const presented = Buffer.from(signature, "base64url");
  if (header.alg === "HS256") {
    const expected = createHmac("sha256", trust.secret).update(input).digest();
    if (!sameBytes(expected, presented)) return null;
  } else if (header.alg === "RS256") {
    const keys = header.kid === undefined
      ? [...trust.keys.values()]
      : [trust.keys.get(String(header.kid))].filter((k) => k !== undefined);
    if (!keys.some((key) => verify("sha256", Buffer.from(input), key, presented))) return null;
  } else {
    return null;
  }
  const now = trust.nowSeconds;
  if (typeof claims.exp !== "number" || claims.exp <= now - LEEWAY_SECONDS) return null;
  if (
    claims.nbf !== undefined &&
    (typeof claims.nbf !== "number" || claims.nbf > now + LEEWAY_SECONDS)
  ) {
    return null;
  }
  if (!nameClaimOk(claims.sub) || !nameClaimOk(claims.iss)) return null;
  return scorelineGrant(claims.scoreline);
}

/** README, Trust: tokens are at least 16 printable ASCII characters, without spaces or commas. */
function tokenOk(token: string): boolean {
  return token.length >= 16 && [...token].every((c) => c > " " && c <= "~" && c !== ",");
}

/** API.md: a scope list is game ids or `competition:ID`, separated by `|`. */
function scopeListOk(text: string): boolean {
  return text.split("|").every((item) => {
    const trimmed = item.trim();
    return ID.test(trimmed.startsWith("competition:") ? trimmed.slice(12) : trimmed);
  });
}

/**
 * What the contract makes of a token file (API.md, "Token entries"; README, Trust): one entry a
 * line, `#` comments, UTF-8, at most 1 MiB and 10,000 entries; an entry is a token, or a token,
 * `=` and a scope list (the last `=` that is followed by one separates: padding stays in the
 * token); other text after the last `=` is a mistake; no token twice, and none of `reserved`
 * (SCORELINE_TOKENS). The answer: the tokens it puts in force, or the first bad line (0: the
 * whole file).
 */
export function tokenFileVerdict(
  bytes: Uint8Array,
  reserved: ReadonlySet<string>,
): { ok: true; tokens: string[] } | { ok: false; line: number } {
  if (bytes.byteLength > 1024 * 1024) return { ok: false, line: 0 };
  const lines: (string | null)[] = [];
  let start = 0;
  while (start <= bytes.byteLength) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.byteLength;
    try {
      lines.push(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(start, end)));
    } catch {
      lines.push(null);
    }
    start = end + 1;
  }
  const tokens: string[] = [];
  let entries = 0;
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    if (raw === null) return { ok: false, line };
    const text = raw.trim();
    if (text === "" || text.startsWith("#")) continue;
    if (++entries > 10_000) return { ok: false, line };
    const at = text.lastIndexOf("=");
    let token = text;
    if (at >= 0 && at < text.length - 1) {
      if (!scopeListOk(text.slice(at + 1))) return { ok: false, line };
      token = text.slice(0, at);
    }
    if (!tokenOk(token) || tokens.includes(token) || reserved.has(token)) {
      return { ok: false, line };
    }
    tokens.push(token);
  }
  return { ok: true, tokens };
}
