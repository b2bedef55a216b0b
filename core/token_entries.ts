/**
 * The token entry syntax shared by `SCORELINE_TOKENS` (comma separated) and
 * `SCORELINE_TOKENS_FILE` (one entry a line, `#` comments): `TOKEN` or `TOKEN=SCOPE|SCOPE…`, a
 * scope being a game id or `competition:ID`. An `=` at the end of a token is base64 padding and
 * belongs to the token, so `openssl rand -base64 32` works as it comes: the last `=` followed by a
 * valid scope list is what separates.
 *
 * A bad entry is reported by its position and the kind of mistake, never by its text: an entry
 * is a secret, and half of one in a log (the old `"second-half" is not a valid game id`) is half a
 * secret given away.
 */
import { ALL_GAMES, type TokenGrant, type WriteScope } from "./auth.ts";
import { GAME_ID_PATTERN } from "./schema.ts";

/** Shorter tokens are refused: a guessable token is no token. */
export const MIN_TOKEN_LENGTH = 16;
/** A token file larger than this is refused: it is a list of secrets, not a data set. */
export const MAX_TOKEN_FILE_BYTES = 1024 * 1024;
/** More entries than this are refused: every write compares against every token. */
export const MAX_TOKEN_ENTRIES = 10_000;

const TOKEN_CHARACTERS = /^[\x21-\x2b\x2d-\x7e]+$/; // printable ASCII but space and comma
const COMPETITION_PREFIX = "competition:";

/** A bad entry: where it is (1-based; 0 for the whole file) and what kind, never its text. */
export interface EntryError {
  position: number;
  kind: string;
}

export type EntriesResult =
  | { ok: true; grants: TokenGrant[] }
  | { ok: false; errors: EntryError[] };

/** The scope list after an entry's last `=`, or null when it is not one. */
function scopeList(text: string): WriteScope | null {
  const games = new Set<string>();
  const competitions = new Set<string>();
  for (const raw of text.split("|")) {
    const item = raw.trim();
    if (item.startsWith(COMPETITION_PREFIX)) {
      const id = item.slice(COMPETITION_PREFIX.length);
      if (!GAME_ID_PATTERN.test(id)) return null;
      competitions.add(id);
    } else if (GAME_ID_PATTERN.test(item)) {
      games.add(item);
    } else {
      return null;
    }
  }
  return { games, competitions };
}

/**
 * An entry split into its token and its scope, by the last `=` that is followed by a scope list;
 * null when text follows the last `=` but is not a scope list. The token is not checked here.
 */
export function splitTokenEntry(entry: string): TokenGrant | null {
  const separator = entry.lastIndexOf("=");
  if (separator < 0 || separator === entry.length - 1) return { token: entry, writes: ALL_GAMES };
  const writes = scopeList(entry.slice(separator + 1));
  return writes === null ? null : { token: entry.slice(0, separator), writes };
}

/**
 * One entry (already trimmed) as a grant, or the kind of mistake in it. Text after the last `=`
 * that is neither a scope list nor nothing is refused rather than taken as part of the token: a
 * mistyped scope (`=Game-A`, `=cup final`) must never turn a volunteer's token into one that
 * writes every game.
 */
export function parseTokenEntry(entry: string): { grant: TokenGrant } | { kind: string } {
  const grant = splitTokenEntry(entry);
  if (grant === null) {
    return {
      kind: "the text after its last '=' is not a scope list " +
        "(game ids or competition:ID, separated by |)",
    };
  }
  if (!TOKEN_CHARACTERS.test(grant.token)) {
    return { kind: "the token may hold only printable ASCII, without spaces or commas" };
  }
  if (grant.token.length < MIN_TOKEN_LENGTH) {
    return { kind: `the token is shorter than ${MIN_TOKEN_LENGTH} characters` };
  }
  return { grant };
}

/**
 * Entries with their positions, as a whole: every mistake is reported, and a token listed twice
 * (or already in `reserved`, the tokens of another source) is one, since its scope would be
 * ambiguous.
 */
function parseEntries(
  entries: readonly { position: number; text: string }[],
  reserved: ReadonlySet<string>,
  noun: string,
): EntriesResult {
  const errors: EntryError[] = [];
  const grants: TokenGrant[] = [];
  const seen = new Map<string, number>();
  if (entries.length > MAX_TOKEN_ENTRIES) {
    return {
      ok: false,
      errors: [{
        position: entries[MAX_TOKEN_ENTRIES]!.position,
        kind: `more than ${MAX_TOKEN_ENTRIES} entries`,
      }],
    };
  }
  for (const { position, text } of entries) {
    const parsed = parseTokenEntry(text);
    if ("kind" in parsed) {
      errors.push({ position, kind: parsed.kind });
      continue;
    }
    const { token } = parsed.grant;
    const earlier = seen.get(token);
    if (earlier !== undefined) {
      errors.push({ position, kind: `the same token as ${noun} ${earlier}` });
    } else if (reserved.has(token)) {
      errors.push({ position, kind: "the same token as one in SCORELINE_TOKENS" });
    } else {
      seen.set(token, position);
      grants.push(parsed.grant);
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, grants };
}

/** `SCORELINE_TOKENS`: entries separated by commas; empty entries are skipped. */
export function parseTokenList(value: string): EntriesResult {
  const entries = value.split(",").map((text, i) => ({ position: i + 1, text: text.trim() }))
    .filter((entry) => entry.text !== "");
  return parseEntries(entries, new Set(), "entry");
}

/**
 * `SCORELINE_TOKENS_FILE`'s bytes: UTF-8 text, one entry a line; blank lines and lines whose
 * first non-blank character is `#` are skipped (a `#` later in a line is part of the token).
 * `reserved` holds the tokens of `SCORELINE_TOKENS`, which the file may not repeat.
 */
export function parseTokenFile(bytes: Uint8Array, reserved: ReadonlySet<string>): EntriesResult {
  if (bytes.byteLength > MAX_TOKEN_FILE_BYTES) {
    return { ok: false, errors: [{ position: 0, kind: "the file is larger than 1 MiB" }] };
  }
  // Fatal: a line that is not text is refused, not guessed at. A leading BOM is dropped.
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const entries: { position: number; text: string }[] = [];
  const undecodable: EntryError[] = [];
  let start = 0;
  for (let line = 1; start <= bytes.byteLength; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.byteLength;
    try {
      const text = decoder.decode(bytes.subarray(start, end)).trim();
      if (text !== "" && !text.startsWith("#")) entries.push({ position: line, text });
    } catch {
      undecodable.push({ position: line, kind: "the line is not UTF-8 text" });
    }
    start = end + 1;
  }
  const parsed = parseEntries(entries, reserved, "line");
  if (undecodable.length === 0) return parsed;
  const errors = [...undecodable, ...(parsed.ok ? [] : parsed.errors)];
  return { ok: false, errors: errors.sort((a, b) => a.position - b.position) };
}

/**
 * Errors as one line: `entry 2: the token is shorter than 16 characters; entry 5: …`. Position 0
 * is the whole file (too large), which has no line to name.
 */
export function describeEntryErrors(errors: readonly EntryError[], noun: string): string {
  return errors.map((error) =>
    error.position === 0 ? error.kind : `${noun} ${error.position}: ${error.kind}`
  ).join("; ");
}
