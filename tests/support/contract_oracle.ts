/**
 * The contract's rules for request bodies, written again from API.md (and the README's choices),
 * without importing core/schema.ts: the hostile-input suite asks this oracle whether a mutated
 * body is still valid, so a mutation that happens to stay valid is never counted as "refused",
 * and a schema that accepted something the contract forbids would show up as a disagreement.
 */

import { isIP } from "node:net";

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
  let text: string;
  try {
    // The standard decoder, as any server would use: strict, and a leading BOM is dropped.
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { status: 400, because: "body not UTF-8" };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { status: 400, because: "body not JSON" };
  }
  const ok = kind === "score" ? scoreBodyOk(value) : gameBodyOk(value, pathId, kind === "patch");
  return ok ? null : { status: 400, because: "body against the rules" };
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
  if (value === undefined) return false;
  const [type = "", ...params] = value.split(";").map((p) => p.trim().toLowerCase());
  if (type !== "application/json" && type !== "application/merge-patch+json") return false;
  const charset = params.find((p) => p.startsWith("charset="));
  return charset === undefined || charset.slice(8).replace(/"/g, "") === "utf-8";
}
