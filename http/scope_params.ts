/**
 * The filters of every all-games read (`GET /api/games`, the feeds, the kiosk board) and the
 * `viewers` switch of the feeds, each a 400 naming the parameter. A filter is a scope: a list of
 * games (`games=a,b`, 1–100 distinct ids, games that do not exist yet included) or a competition.
 */
import { GAME_ID_PATTERN } from "../core/schema.ts";
import {
  ALL_GAMES,
  competitionScope,
  gamesScope,
  MAX_SCOPE_GAMES,
  type Scope,
} from "../core/scope.ts";
import { HttpProblem, invalid } from "./problem.ts";

/** How a route reads a repeatable query parameter (Hono's `c.req.queries`). */
export type QueryValues = (name: string) => string[] | undefined;

const ID_RULE = "1 to 64 characters of a-z, 0-9 and '-', starting with a letter or digit";

/** The scope of an all-games read: every game, or the games one filter names. */
export function filterScope(queries: QueryValues): Scope {
  const games = queries("games");
  const competition = queries("competition");
  if (games && competition) {
    const message = "give one filter, games= or competition=, not both";
    throw new HttpProblem("validation", `games, competition: ${message}`, {
      errors: [{ path: "games", message }, { path: "competition", message }],
    });
  }
  if (competition) return competitionScope(single(competition, "competition"));
  if (games) return gamesScope(gameList(single(games, "games")));
  return ALL_GAMES;
}

/** `?viewers=`: `1` asks for viewer counts, `0` (or nothing) does not. */
export function viewersParam(raw: string | undefined): boolean {
  if (raw === undefined || raw === "0") return false;
  if (raw === "1") return true;
  throw invalid("viewers", "must be 1 or 0");
}

/** One value: a list given twice (`games=a&games=b`) would be two answers to one question. */
function single(values: string[], name: string): string {
  if (values.length > 1) {
    throw invalid(name, `must be given once${name === "games" ? ", as one list: games=a,b" : ""}`);
  }
  const value = values[0]!;
  if (name === "competition" && !GAME_ID_PATTERN.test(value)) {
    throw invalid(name, `must be ${ID_RULE}`);
  }
  return value;
}

function gameList(raw: string): string[] {
  const ids = raw.split(",");
  if (raw === "") {
    throw invalid("games", `must list 1 to ${MAX_SCOPE_GAMES} game ids, comma separated`);
  }
  if (ids.length > MAX_SCOPE_GAMES) {
    throw invalid("games", `must list at most ${MAX_SCOPE_GAMES} game ids (${ids.length} given)`);
  }
  const seen = new Set<string>();
  for (const id of ids) {
    if (!GAME_ID_PATTERN.test(id)) {
      throw invalid("games", `${JSON.stringify(id.slice(0, 80))} is not a game id: ${ID_RULE}`);
    }
    if (seen.has(id)) throw invalid("games", `${JSON.stringify(id)} is listed twice`);
    seen.add(id);
  }
  return ids;
}
