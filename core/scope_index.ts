/**
 * Feeds by scope: the all-games feeds, and each game's own. A change then reaches the feeds of
 * its game without a scan of every viewer, which is what keeps a fan-out to one busy game cheap
 * while ten thousand others watch other games.
 */
export class ScopeIndex<T> {
  /** The feeds of every game (scope null). */
  readonly all = new Set<T>();
  /** The feeds of one game, by its id. A set goes once empty: ids of games nobody watches any more are not kept. */
  readonly byGame = new Map<string, Set<T>>();

  add(scope: string | null, item: T): void {
    if (scope === null) {
      this.all.add(item);
      return;
    }
    let set = this.byGame.get(scope);
    if (!set) this.byGame.set(scope, set = new Set());
    set.add(item);
  }

  delete(scope: string | null, item: T): void {
    if (scope === null) {
      this.all.delete(item);
      return;
    }
    const set = this.byGame.get(scope);
    if (!set) return;
    set.delete(item);
    if (set.size === 0) this.byGame.delete(scope);
  }

  /**
   * Every feed, read as it goes: a pass may end the feed it is at (a Set or Map skips what is
   * deleted while iterated), and copies nothing, which suits passes over every viewer.
   */
  *[Symbol.iterator](): IterableIterator<T> {
    yield* this.all;
    for (const set of this.byGame.values()) yield* set;
  }

  /**
   * Every feed, copied first: ending a feed deletes it from the index, and a copy keeps ending
   * them all from skipping or revisiting any.
   */
  items(): T[] {
    return [...this.all, ...[...this.byGame.values()].flatMap((set) => [...set])];
  }
}
