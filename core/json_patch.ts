/**
 * A small RFC 6902 diff: the JSON Patch that turns one JSON value into another, for the `patch`
 * messages of `?delta=1` feeds. It is computed once per change (core/messages.ts) and shared by
 * every delta subscriber, so it favours a short, obvious patch over a clever minimal one.
 *
 * What it produces, and so what a client applies:
 * - equal values: no operation (values are compared as JSON, deeply);
 * - two objects: `remove` for each key only `from` has, the diff of each key both have,
 *   `add` for each key only `to` has. Key order is not carried (JSON objects have none);
 * - two arrays, by a prefix/suffix rule: the elements equal at the start and at the end are left
 *   alone; of what is left in between, elements at the same index are diffed in place, the extra
 *   ones in `to` are `add`ed (at `-` when they come last, so one appended event is one
 *   `add` to `/events/-`), and the extra ones in `from` are `remove`d. When those operations would
 *   take more bytes than the new array itself, the array is `replace`d whole instead;
 * - anything else that differs (a number, a string, a type change): one `replace`.
 * Only `add`, `remove` and `replace` are used; no `move`, `copy` or `test`.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type PatchOp =
  | { op: "add"; path: string; value: Json }
  | { op: "remove"; path: string }
  | { op: "replace"; path: string; value: Json };

/** The operations that turn `from` into `to` (an empty list when they are equal). */
export function diff(from: Json, to: Json): PatchOp[] {
  const ops: PatchOp[] = [];
  diffInto(ops, "", from, to);
  return ops;
}

/** Deep equality of two JSON values; `undefined` members count as absent, as in JSON text. */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const array = Array.isArray(a);
  if (array !== Array.isArray(b)) return false;
  if (array) {
    const other = b as Json[];
    if (a.length !== other.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], other[i])) return false;
    return true;
  }
  // Counted, not listed: this runs for every element of a long timeline on every change.
  const x = a as { [key: string]: Json };
  const y = b as { [key: string]: Json };
  let members = 0;
  for (const key in x) {
    const value = x[key];
    if (value === undefined) continue;
    if (!Object.hasOwn(y, key) || !jsonEqual(value, y[key])) return false;
    members++;
  }
  for (const key in y) if (y[key] !== undefined) members--;
  return members === 0;
}

/** A member name as a JSON Pointer token (RFC 6901): `~` and `/` escaped. */
function token(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function presentKeys(value: { [key: string]: Json }): string[] {
  return Object.keys(value).filter((key) => value[key] !== undefined);
}

function diffInto(ops: PatchOp[], path: string, from: Json, to: Json): void {
  if (from === to) return;
  if (isObject(from) && isObject(to)) return diffObjects(ops, path, from, to);
  if (Array.isArray(from) && Array.isArray(to)) return diffArrays(ops, path, from, to);
  if (!jsonEqual(from, to)) ops.push({ op: "replace", path, value: to });
}

function diffObjects(
  ops: PatchOp[],
  path: string,
  from: { [key: string]: Json },
  to: { [key: string]: Json },
): void {
  for (const key of presentKeys(from)) {
    const next = to[key];
    if (next === undefined) ops.push({ op: "remove", path: `${path}/${token(key)}` });
    else diffInto(ops, `${path}/${token(key)}`, from[key]!, next);
  }
  for (const key of presentKeys(to)) {
    if (from[key] === undefined) {
      ops.push({ op: "add", path: `${path}/${token(key)}`, value: to[key]! });
    }
  }
}

function diffArrays(ops: PatchOp[], path: string, from: Json[], to: Json[]): void {
  const shorter = Math.min(from.length, to.length);
  let prefix = 0;
  while (prefix < shorter && jsonEqual(from[prefix], to[prefix])) prefix++;
  let suffix = 0;
  while (
    suffix < shorter - prefix &&
    jsonEqual(from[from.length - 1 - suffix], to[to.length - 1 - suffix])
  ) suffix++;
  const fromMiddle = from.length - prefix - suffix;
  const toMiddle = to.length - prefix - suffix;
  const both = Math.min(fromMiddle, toMiddle);
  const own: PatchOp[] = [];
  // In place first: indices before the first insertion or removal do not move.
  for (let i = 0; i < both; i++) {
    diffInto(own, `${path}/${prefix + i}`, from[prefix + i]!, to[prefix + i]!);
  }
  const at = prefix + both;
  for (let i = both; i < toMiddle; i++) {
    own.push({
      op: "add",
      path: `${path}/${suffix === 0 ? "-" : prefix + i}`,
      value: to[prefix + i]!,
    });
  }
  // Each removal shifts what follows down by one, so every one of them removes at `at`.
  for (let i = both; i < fromMiddle; i++) own.push({ op: "remove", path: `${path}/${at}` });
  if (own.length > 1 && JSON.stringify(own).length > JSON.stringify(to).length + path.length + 32) {
    ops.push({ op: "replace", path, value: to });
  } else {
    ops.push(...own);
  }
}
