/**
 * The seam between the hub and where changes come from: every Store satisfies it (the hub never
 * writes), and tests hand the hub sources that answer late or lose their history on purpose. The
 * hub's guarantees to viewers (nothing lost, nothing sent twice, versions only go up) hold only as
 * long as a source keeps the contract written here.
 */
import type { Change, Resume } from "./scoreboard.ts";
import type { Scope } from "./scope.ts";

export interface ChangeSource {
  /**
   * What a subscriber missed, by the resume rule of the contract (API.md, "Resume: one rule for
   * every transport") within a scope (all games, one game, a `games=` list, a competition): every
   * game in scope whose latest change is after `cursor` (for a removal: whose tombstone is, and
   * the competition is the one the game had), once, at its latest state, in ascending version
   * order; or a snapshot of the games in scope when the cursor is null, above the current version
   * (a source that was reset) or older than what the tombstones remember. `version` is the
   * version the answer is consistent with: everything up to it is in the answer, so the hub drops
   * live changes at or below it instead of sending them twice.
   *
   * The answer reflects at least every commit already announced through `onCommit` when `resume`
   * was called; commits announced later may or may not be in it. The hub registers a subscriber
   * before it asks, holds back what is announced while the answer is on its way, and then drops
   * what the answer already covered: a late answer loses nothing and sends nothing twice, but one
   * older than an announced commit would leave a hole. A rejection ends that one stream with
   * `error` (a long poll rejects with it); the hub and every other feed go on.
   */
  resume(cursor: number | null, scope: Scope): Promise<Resume>;

  /**
   * `resume`, answered at once, by a source that holds its state in this process (the memory and
   * SQLite stores): the same answer and the same errors, thrown. A long poll is a request per
   * answer, and the promise, its reactions and the turn of the event loop it waits for were a
   * sizeable part of what one costs. Absent where the answer must be fetched (Redis).
   */
  resumeNow?(cursor: number | null, scope: Scope): Resume;

  /**
   * Calls `listener` with every committed batch of changes, in ascending version order, once per
   * commit. The hub drops any version at or below what a subscriber already has, so a change
   * announced out of order would never reach it, and one announced twice would be sent once. In a
   * source shared by several instances (Redis) that includes commits made by the others. Returns
   * an unsubscribe: once it has been called, `listener` is not called again, so a closed hub is
   * never told of a commit.
   */
  onCommit(listener: (changes: readonly Change[]) => void): () => void;

  /**
   * Only a source that can lose history (Redis that came back without its data) has this. It
   * calls `listener` when changes may have been missed that no "since N" can replay to the
   * subscribers already served. The hub must then end every stream with `reset`, answer every
   * waiting long poll empty and forget every message it cached, so each client comes back with
   * its cursor and is answered from the source as it is now (a fresh snapshot), not from what the
   * hub remembers of a history that is gone.
   * Returns an unsubscribe: once it has been called, `listener` is not called again.
   */
  onReset?(listener: () => void): () => void;
}
