/** Path and query parameters shared by REST routes and feeds, each a 400 naming itself. */
import { cursorSchema, GAME_ID_PATTERN, gameIdSchema, validate } from "../core/schema.ts";
import { invalid } from "./problem.ts";

/**
 * A game id from the path. The pattern first: zod's validation (its result objects, 1–3 µs a
 * request) is only needed to word the 400, and a feed's hot path takes ids and cursors often.
 */
export function gameId(raw: string): string {
  if (GAME_ID_PATTERN.test(raw)) return raw;
  const result = validate(gameIdSchema, raw);
  if (!result.ok) throw invalid("id", result.errors[0]?.message ?? "is not a valid game id");
  return result.value;
}

/** An event id from the path (`/api/games/{id}/events/{eventId}`): a positive integer. */
export function eventId(raw: string): number {
  const value = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(value) || value < 1) {
    throw invalid("eventId", "must be a positive integer");
  }
  return value;
}

const DIGITS = /^[0-9]+$/;

/** A cursor from `?since=` or `Last-Event-ID`; null when absent. */
export function cursor(raw: string | null | undefined, name: string): number | null {
  if (raw === null || raw === undefined) return null;
  // What the schema accepts, without it (as for gameId); anything else goes to it for the 400.
  if (raw.length <= 16 && DIGITS.test(raw)) {
    const value = Number(raw);
    if (Number.isSafeInteger(value)) return value;
  }
  const result = validate(cursorSchema, raw);
  if (!result.ok) {
    throw invalid(name, result.errors[0]?.message ?? "must be a non-negative integer");
  }
  return result.value;
}

/**
 * `?delta=1` on a feed: patches instead of whole games where the client holds the previous
 * version. `1` or `0` (the default), nothing else: a typo must not silently mean "off".
 */
export function deltaFlag(raw: string | null | undefined): boolean {
  if (raw === null || raw === undefined || raw === "0") return false;
  if (raw === "1") return true;
  throw invalid("delta", "must be 1 or 0");
}

/** A long poll's `timeout` in seconds: how long it may wait, and how long when not said. */
export const POLL_TIMEOUT_SECONDS = { default: 25, max: 60 } as const;

/** `?timeout=` of a long poll: an integer 0–60, 25 when absent. */
export function pollTimeout(raw: string | null | undefined): number {
  return boundedInteger(raw, "timeout", 0, POLL_TIMEOUT_SECONDS.max, POLL_TIMEOUT_SECONDS.default);
}

/** An integer query parameter within bounds, or its default when absent. */
export function boundedInteger(
  raw: string | null | undefined,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (raw === null || raw === undefined) return fallback;
  if (!/^[0-9]{1,6}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw invalid(name, `must be an integer from ${min} to ${max}`);
  }
  return Number(raw);
}
