/**
 * Waiting on the client library's handles in tests: for a status, for the picture a handle holds
 * to be exactly the server's. Every wait is on the handle's own events, bounded in time so a
 * broken client fails its test instead of hanging the run.
 */
import type { Game, ScorelineWatch, WatchStatus } from "../../client/scoreline.js";
import { canonical } from "./delta_client.ts";

/** What a scope asks of GET /api/games (or of one game). */
export type ScopeQuery = { game: string } | { games: string[] } | { competition: string } | {
  all: true;
};

/** The games a handle holds, as canonical JSON sorted by id. */
export function held(handle: ScorelineWatch): string {
  return canonical([...handle.games.values()].sort(byId));
}

function byId(a: Game, b: Game): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The server's games in a scope, as canonical JSON sorted by id (short polling, no feed). */
export async function serverPicture(url: string, scope: ScopeQuery): Promise<string> {
  if ("game" in scope) {
    const response = await fetch(`${url}/api/games/${scope.game}`);
    if (response.status === 404) {
      await response.body?.cancel();
      return canonical([]);
    }
    return canonical([await response.json()]);
  }
  const query = "games" in scope
    ? `?games=${scope.games.join(",")}`
    : "competition" in scope
    ? `?competition=${scope.competition}`
    : "";
  const list = await (await fetch(`${url}/api/games${query}`)).json();
  return canonical([...list.games].sort(byId));
}

/** Resolves once `test` holds for the handle, checked now and at each of its `events`. */
export function until(
  handle: ScorelineWatch,
  test: () => boolean,
  what: string,
  { events = ["change", "status"], withinMs = 15_000 } = {},
): Promise<void> {
  if (test()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!test()) return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(
        new Error(`${what}: not within ${withinMs} ms (status ${JSON.stringify(handle.status)})`),
      );
    }, withinMs);
    const done = () => {
      clearTimeout(timer);
      for (const type of events) handle.removeEventListener(type, check);
    };
    for (const type of events) handle.addEventListener(type, check);
  });
}

/** Resolves once the handle is live (its connection delivered), on `transport` if given. */
export function live(handle: ScorelineWatch, transport?: WatchStatus["transport"]): Promise<void> {
  return until(
    handle,
    () => handle.status.connected && (!transport || handle.status.transport === transport),
    `live${transport ? ` on ${transport}` : ""}`,
    { events: ["status"] },
  );
}

/** Resolves once the handle holds exactly the server's games of `scope` (writes are over). */
export async function settles(
  handle: ScorelineWatch,
  url: string,
  scope: ScopeQuery,
  withinMs?: number,
): Promise<void> {
  const expected = await serverPicture(url, scope);
  await until(handle, () => held(handle) === expected, `holds ${expected.slice(0, 300)}`, {
    events: ["change"],
    withinMs,
  }).catch((error) => {
    throw new Error(`${error.message}\nbut holds ${held(handle).slice(0, 300)}`);
  });
}

/** Every status a handle reports from now on, in order. */
export function statuses(handle: ScorelineWatch): WatchStatus[] {
  const seen: WatchStatus[] = [];
  handle.addEventListener("status", (event) => seen.push(event.detail));
  return seen;
}
