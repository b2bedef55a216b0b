/**
 * The audit history of each game: who changed it, with what request, when, and the version the
 * change got. An entry is written in the same commit as the change it describes, so there is
 * never an entry for a change that did not commit, nor a committed change without its entry.
 * Refused writes (404, 412, 422) changed nothing and leave no entry.
 */

/** How long entries are kept: at least this long, unless the per-game cap drops them first. */
export const AUDIT_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** Entries kept per game, at most; the oldest go first. */
export const AUDIT_MAX_PER_GAME = 1_000;

/**
 * What a write route says about a write, passed to the store with it (WriteRequest.audit):
 * who (a JWT `sub` or a short digest of a static token, never the token), the method, the path
 * and the body as JSON (null without one).
 */
export interface AuditNote {
  who: string;
  method: string;
  path: string;
  body: unknown;
}

/** One history entry: the note, stamped with the change's version and commit time. */
export interface AuditEntry extends AuditNote {
  version: number;
  /** RFC 3339 UTC: the change's `updatedAt` (for a deletion, its commit time). */
  at: string;
}

export function auditEntry(note: AuditNote, version: number, atMs: number): AuditEntry {
  return {
    version,
    at: new Date(atMs).toISOString(),
    who: note.who,
    method: note.method,
    path: note.path,
    body: note.body,
  };
}

/**
 * What every store answers for a game's history, from the entries it holds in any order: kept
 * within AUDIT_TTL_MS of `nowMs`, newest first, at most AUDIT_MAX_PER_GAME. Stores drop old
 * entries lazily; this makes what a reader sees the same on every store.
 */
export function visibleHistory(entries: Iterable<AuditEntry>, nowMs: number): AuditEntry[] {
  const oldest = nowMs - AUDIT_TTL_MS;
  return [...entries]
    .filter((entry) => Date.parse(entry.at) >= oldest)
    .sort((a, b) => b.version - a.version)
    .slice(0, AUDIT_MAX_PER_GAME);
}
