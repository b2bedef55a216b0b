/**
 * Conditional request headers. The ETag of a game (and of the games list) is its version in
 * quotes, so `If-Match` and `If-None-Match` reduce to comparing version numbers.
 */
import type { Conditions, EntityTags } from "../core/scoreboard.ts";
import { invalid } from "./problem.ts";

/** The ETag for a version. */
export function etag(version: number): string {
  return `"${version}"`;
}

const TAG = /^\s*(W\/)?"([\x21\x23-\x7e]*)"\s*(?:,|$)/;

/**
 * Parses `*` or a list of entity tags into versions. Weak tags count only where the comparison
 * is weak (If-None-Match on reads); tags that are not our versions can never match. Anything
 * that is not entity-tag syntax is a 400 naming the header, rather than a silent mismatch.
 */
export function parseEntityTags(value: string, header: string, weak: boolean): EntityTags {
  if (value.trim() === "*") return "*";
  const versions: number[] = [];
  let rest = value;
  while (rest.trim() !== "") {
    const match = TAG.exec(rest);
    if (!match) throw invalid(header, 'must be "*" or quoted versions, like "42"');
    const [whole, weakPrefix, opaque = ""] = match;
    if (/^[0-9]{1,16}$/.test(opaque) && (weak || !weakPrefix)) versions.push(Number(opaque));
    rest = rest.slice(whole.length);
  }
  return versions;
}

/** If-Match and If-None-Match of a write. */
export function writeConditions(headers: Headers): Conditions {
  const conditions: Conditions = {};
  const ifMatch = headers.get("if-match");
  const ifNoneMatch = headers.get("if-none-match");
  if (ifMatch !== null) conditions.ifMatch = parseEntityTags(ifMatch, "If-Match", false);
  if (ifNoneMatch !== null) {
    conditions.ifNoneMatch = parseEntityTags(ifNoneMatch, "If-None-Match", false);
  }
  return conditions;
}

/** Whether a read's If-None-Match matches the current version (answer 304). */
export function notModified(headers: Headers, version: number): boolean {
  const value = headers.get("if-none-match");
  if (value === null) return false;
  let tags: EntityTags;
  try {
    tags = parseEntityTags(value, "If-None-Match", true);
  } catch {
    return false; // A cache's odd tag must not break a read: answer in full.
  }
  return tags === "*" || tags.includes(version);
}

/**
 * Whether a read's If-None-Match names `tag` (a quoted entity tag of any content, like a page's
 * or an asset's), compared weakly as RFC 9110 says for If-None-Match. A malformed header is a
 * miss: a cache's odd tag must not break a read.
 */
export function ifNoneMatchHits(headers: Headers, tag: string): boolean {
  const value = headers.get("if-none-match");
  if (value === null) return false;
  if (value.trim() === "*") return true;
  let rest = value;
  while (rest.trim() !== "") {
    const match = TAG.exec(rest);
    if (!match) return false;
    if (`"${match[2]}"` === tag) return true;
    rest = rest.slice(match[0].length);
  }
  return false;
}
