/**
 * What a read or a feed is about: every game, one game, a list of games (`?games=a,b`) or the
 * games of one competition (`?competition=x`). A scope has a key, the same for every feed that
 * asks for the same games (a list is sorted), so the hub groups feeds by it and does the work of
 * a change once per group, not once per feed; the snapshot cache and the page cache key on it.
 */

/** At most this many ids in a `games=` list. */
export const MAX_SCOPE_GAMES = 100;

export type Scope =
  | { readonly kind: "all"; readonly key: "*" }
  | { readonly kind: "game"; readonly key: string; readonly id: string }
  | { readonly kind: "games"; readonly key: string; readonly ids: readonly string[] }
  | { readonly kind: "competition"; readonly key: string; readonly id: string };

/** Every game: the v1 all-games feed. */
export const ALL_GAMES: Scope = Object.freeze({ kind: "all", key: "*" });

/** One game's own feed (`/api/games/{id}/...`). */
export function gameScope(id: string): Scope {
  return { kind: "game", key: `g:${id}`, id };
}

/** A `games=` list of valid, distinct ids (the caller checks), sorted: equal lists share a key. */
export function gamesScope(ids: Iterable<string>): Scope {
  const sorted = [...ids].sort();
  return { kind: "games", key: `l:${sorted.join(",")}`, ids: sorted };
}

/** The games of one competition (`competition=`). */
export function competitionScope(id: string): Scope {
  return { kind: "competition", key: `c:${id}`, id };
}

/** The scope a key stands for: how viewer counts summed over instances (by key) are read back. */
export function scopeOfKey(key: string): Scope | null {
  if (key === "*") return ALL_GAMES;
  const rest = key.slice(2);
  if (rest === "") return null;
  switch (key.slice(0, 2)) {
    case "g:":
      return gameScope(rest);
    case "l:":
      return gamesScope(rest.split(","));
    case "c:":
      return competitionScope(rest);
    default:
      return null;
  }
}

/**
 * Whether a game belongs to a scope, given its id and competition (for a removal, the competition
 * the game had). Used where a change is checked against one scope (resume); the hub's fan-out
 * never asks it per feed: it looks the groups of a change up by id and competition.
 */
export function inScope(scope: Scope, id: string, competition: string | undefined): boolean {
  switch (scope.kind) {
    case "all":
      return true;
    case "game":
      return scope.id === id;
    case "games":
      return scope.ids.includes(id);
    case "competition":
      return scope.id === competition;
  }
}
