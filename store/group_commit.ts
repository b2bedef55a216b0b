/**
 * When the SQLite store commits what is queued (BoardStore's `schedule`). A commit costs an fsync,
 * so writes that arrive together should share one; a write that arrives alone should not wait for
 * company that is not coming.
 *
 * - After a commit that took one write, the next is committed in the same turn of the event loop,
 *   once the turn's I/O has been read (`setImmediate`: the check phase, after every request whose
 *   body arrived in this turn has queued its write). In Deno 2.9.6 a zero `setTimeout` fires about
 *   2 ms later and costs about 85 µs of CPU, against 5 µs for `setImmediate`: a lone write waited
 *   2 ms, and its CPU fell by about a quarter without the timer (README, "The bare floor").
 * - After a commit that took several, writes are arriving together (many scorers, an import
 *   beside them, a load test): the commit waits for the shortest timer, so the writes that arrive
 *   meanwhile share its fsync, as PostgreSQL's commit_delay does when other transactions are
 *   active. The first batch of a burst is committed at once, and shows that the burst is one.
 */
import { clearImmediate, setImmediate } from "node:timers";

/**
 * BoardStore's schedule: runs `flush` later and returns a cancel; `lastBatch` is how many writes
 * the last commit took (the memory store's schedule, a microtask, has no use for it).
 */
export type CommitSchedule = (flush: () => void, lastBatch: number) => () => void;

/** The two ways of waiting, injectable for tests. */
export interface CommitTimers {
  /** After this turn's I/O (setImmediate). */
  thisTurn(run: () => void): () => void;
  /** After the shortest timer (setTimeout 0: about 2 ms in Deno 2.9.6). */
  shortly(run: () => void): () => void;
}

export const systemCommitTimers: CommitTimers = {
  thisTurn(run) {
    const id = setImmediate(run);
    return () => clearImmediate(id);
  },
  shortly(run) {
    const id = setTimeout(run, 0);
    return () => clearTimeout(id);
  },
};

export function groupCommit(timers: CommitTimers = systemCommitTimers): CommitSchedule {
  return (flush, lastBatch) => lastBatch > 1 ? timers.shortly(flush) : timers.thisTurn(flush);
}
