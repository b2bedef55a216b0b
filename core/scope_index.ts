/**
 * Feeds grouped by scope: one group per distinct scope (all games, one game, a `games=` list, a
 * competition), found for a change by the game's id and competition. A change then reaches the
 * groups that contain its game (all, the game's own, its competition's, the lists naming it)
 * without a look at any other feed: a change to one competition costs nothing for the feeds of
 * another, however many there are. Viewer counts read the groups' sizes, never the feeds.
 */
import type { Scope } from "./scope.ts";

/** The feeds of one scope. */
export class ScopeGroup<T> {
  /** Every feed of this scope. */
  readonly items = new Set<T>();
  /** Those that asked for viewer counts (`?viewers=1`). */
  readonly counting = new Set<T>();
  /** The `viewers` message JSON they were last sent: a count is sent again only when it changes. */
  lastCounts: string | undefined;

  constructor(readonly scope: Scope) {}
}

export class ScopeIndex<T> {
  /** Every group, by scope key. A group goes once empty: scopes nobody watches are not kept. */
  readonly #groups = new Map<string, ScopeGroup<T>>();
  /** Per game id: its own group and the `games=` groups naming it. */
  readonly #byGame = new Map<string, Set<ScopeGroup<T>>>();
  /** Per competition: its group. */
  readonly #byCompetition = new Map<string, ScopeGroup<T>>();
  #all: ScopeGroup<T> | undefined;

  /** Adds a feed to its scope's group (made on first use) and returns the group. */
  add(scope: Scope, item: T, counting = false): ScopeGroup<T> {
    let group = this.#groups.get(scope.key);
    if (!group) {
      group = new ScopeGroup<T>(scope);
      this.#groups.set(scope.key, group);
      this.#link(group, true);
    }
    group.items.add(item);
    if (counting) group.counting.add(item);
    return group;
  }

  delete(group: ScopeGroup<T>, item: T): void {
    group.items.delete(item);
    group.counting.delete(item);
    if (group.items.size === 0 && this.#groups.get(group.scope.key) === group) {
      this.#groups.delete(group.scope.key);
      this.#link(group, false);
    }
  }

  /**
   * The groups a change of this game reaches: all games, the game's own, its competition's and
   * the lists that name it. Each feed is in one group and these groups are distinct, so a feed
   * is visited once per change, and only if the change is in its scope.
   */
  *groupsOf(gameId: string | null, competition: string | null): IterableIterator<ScopeGroup<T>> {
    if (this.#all) yield this.#all;
    if (gameId === null) return;
    const named = this.#byGame.get(gameId);
    if (named) yield* named;
    if (competition === null) return;
    const group = this.#byCompetition.get(competition);
    if (group) yield group;
  }

  /** Every group: viewer counts read their sizes. */
  groups(): IterableIterator<ScopeGroup<T>> {
    return this.#groups.values();
  }

  /**
   * Every feed, read as it goes: a pass may end the feed it is at (a Set or Map skips what is
   * deleted while iterated), and copies nothing, which suits passes over every viewer.
   */
  *[Symbol.iterator](): IterableIterator<T> {
    for (const group of this.#groups.values()) yield* group.items;
  }

  /**
   * Every feed, copied first: ending a feed deletes it from the index, and a copy keeps ending
   * them all from skipping or revisiting any.
   */
  items(): T[] {
    return [...this.#groups.values()].flatMap((group) => [...group.items]);
  }

  /** Enters a new group in the lookups a change uses, or takes an emptied one out. */
  #link(group: ScopeGroup<T>, add: boolean): void {
    const { scope } = group;
    switch (scope.kind) {
      case "all":
        this.#all = add ? group : undefined;
        return;
      case "competition":
        if (add) this.#byCompetition.set(scope.id, group);
        else this.#byCompetition.delete(scope.id);
        return;
      case "game":
      case "games":
        for (const id of scope.kind === "game" ? [scope.id] : scope.ids) {
          let named = this.#byGame.get(id);
          if (add) {
            if (!named) this.#byGame.set(id, named = new Set());
            named.add(group);
          } else if (named) {
            named.delete(group);
            if (named.size === 0) this.#byGame.delete(id);
          }
        }
    }
  }
}
