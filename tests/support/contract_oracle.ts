/**
 * The contract's rules for request bodies, written again from API.md (and the README's choices),
 * without importing core/schema.ts: the hostile-input suite asks this oracle whether a mutated
 * body is still valid, so a mutation that happens to stay valid is never counted as "refused",
 * and a schema that accepted something the contract forbids would show up as a disagreement.
 */

const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const STATUSES = ["scheduled", "live", "break", "final", "postponed", "cancelled"];
/** C0, DEL and C1: refused in every text field (README, "Text"). */
// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
export const MAX_SCORE = 1_000_000;
export const MAX_BODY_BYTES = 16 * 1024;

export type WriteKind = "put" | "patch" | "score";

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

/** A whole game (PUT) or a merge patch of one (PATCH), for the game `pathId`. */
export function gameBodyOk(body: unknown, pathId: string, patch: boolean): boolean {
  const keys = ["id", "version", "updatedAt", "title", "status", "period", "clock", "home", "away"];
  if (!isObject(body) || !onlyKeys(body, keys)) return false;
  if (!patch && !(Object.hasOwn(body, "home") && Object.hasOwn(body, "away"))) return false;
  return optional(body, "id", (v) => typeof v === "string" && ID.test(v) && v === pathId) &&
    optional(body, "version", (v) => integerIn(v, 0, Number.MAX_SAFE_INTEGER)) &&
    optional(body, "updatedAt", (v) => typeof v === "string" && v.length <= 64) &&
    optional(body, "title", (v) => textOk(v, 1, 120), patch) &&
    optional(body, "status", (v) => STATUSES.includes(v as string)) &&
    optional(body, "period", (v) => textOk(v, 0, 32), patch) &&
    optional(body, "clock", (v) => textOk(v, 0, 16), patch) &&
    optional(body, "home", (v) => sideOk(v, patch)) &&
    optional(body, "away", (v) => sideOk(v, patch));
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
  const ok = kind === "score" ? scoreBodyOk(value) : gameBodyOk(value, pathId, kind === "patch");
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
    if (typeof id !== "string" || !ID.test(id) || !gameBodyOk(value, id, false) || seen.has(id)) {
      return bad;
    }
    seen.add(id);
  }
  return null;
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

/** The embed's `theme`. */
export function themeOk(raw: string): boolean {
  return raw === "light" || raw === "dark";
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
