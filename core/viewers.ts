/**
 * Viewer counts. A feed is a viewer of game g when its scope names g (g's own feed, a `games=`
 * list with g, the competition g is in); unfiltered feeds count only in the total. Nothing is
 * counted per delivery or per feed: every 5 s the hub reports how many feeds each scope group
 * holds (a tally, one number per distinct scope), the store turns tallies into counts per game
 * (summed over instances in Redis mode), and feeds that asked for counts get one message per
 * scope group, only when a count in their scope changed.
 */
import { Message } from "./messages.ts";
import { type Scope, scopeOfKey } from "./scope.ts";

/** Seconds between two counts: how often viewers messages may come, at most. */
export const VIEWERS_EVERY_MS = 5_000;

/** Open feeds by scope key ("*", "g:id", "l:a,b", "c:x"): what one instance reports. */
export type ScopeTally = ReadonlyMap<string, number>;

/** The counts every reader sees: the total, and per game the feeds whose scope names it. */
export interface ViewerCounts {
  /** Every open feed, filtered or not. */
  total: number;
  /** Per game, only games with a count above 0. */
  games: ReadonlyMap<string, number>;
  /** The live games of each competition some feed filters on: what a competition scope names. */
  members: ReadonlyMap<string, readonly string[]>;
}

export const NO_VIEWERS: ViewerCounts = { total: 0, games: new Map(), members: new Map() };

/** Where tallies become counts: the store (in Redis mode, the sum over every instance). */
export interface ViewerSource {
  countViewers(tally: ScopeTally): Promise<ViewerCounts>;
}

/**
 * Counts per game from feeds per scope. `members` gives a competition's live games (the store
 * knows them; in Redis mode, Redis does). Work is per scope, and per id a scope names.
 */
export function countViewers(
  tally: Iterable<readonly [string, number]>,
  members: (competition: string) => readonly string[],
): ViewerCounts {
  let total = 0;
  const games = new Map<string, number>();
  const competitions = new Map<string, readonly string[]>();
  const add = (id: string, n: number) => games.set(id, (games.get(id) ?? 0) + n);
  for (const [key, n] of tally) {
    if (n <= 0) continue;
    const scope = scopeOfKey(key);
    if (!scope) continue;
    total += n;
    switch (scope.kind) {
      case "game":
        add(scope.id, n);
        break;
      case "games":
        for (const id of scope.ids) add(id, n);
        break;
      case "competition": {
        let ids = competitions.get(scope.id);
        if (!ids) competitions.set(scope.id, ids = members(scope.id));
        for (const id of ids) add(id, n);
        break;
      }
    }
  }
  return { total, games, members: competitions };
}

/** Adds tallies (this instance's streams and long polls; several instances' reports). */
export function addTallies(...tallies: ScopeTally[]): Map<string, number> {
  const sum = new Map<string, number>();
  for (const tally of tallies) {
    for (const [key, n] of tally) sum.set(key, (sum.get(key) ?? 0) + n);
  }
  return sum;
}

/**
 * The `viewers` message for the feeds of one scope: the count of every game the scope names
 * (for all games, every game with a viewer), ids sorted, so that an unchanged count gives the
 * same text and is not sent again.
 */
export function viewersMessage(scope: Scope, counts: ViewerCounts): Message {
  let ids: readonly string[];
  switch (scope.kind) {
    case "all":
      ids = [...counts.games.keys()].sort();
      break;
    case "game":
      ids = [scope.id];
      break;
    case "games":
      ids = scope.ids;
      break;
    case "competition":
      ids = counts.members.get(scope.id) ?? [];
      break;
  }
  const entries = ids.map((id) => `${JSON.stringify(id)}:${counts.games.get(id) ?? 0}`);
  return new Message("viewers", -1, null, `{"type":"viewers","games":{${entries.join(",")}}}`);
}
