/**
 * The naive peer: a live scoreboard written the way Hono's documentation shows SSE, for the
 * benchmark to compare against. `streamSSE` per connection, a Set of subscribers, and every
 * change written to each one with `writeSSE` (so each message is framed and encoded per viewer).
 * Same write route, token check and message shape as Scoreline; no durability, no resume, no
 * conflation, no caps. Deliberately not improved: it is the baseline a newcomer would write.
 *
 *   PORT=0 NAIVE_TOKEN=... deno run --allow-net --allow-env bench/peers/naive_hono.ts
 */
import { Hono } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";

interface Side {
  name: string;
  score: number;
}

interface Game {
  id: string;
  title: string;
  status: string;
  period: string;
  clock: string;
  home: Side;
  away: Side;
  version: number;
  updatedAt: string;
}

const token = Deno.env.get("NAIVE_TOKEN") ?? "";
const games = new Map<string, Game>();
const subscribers = new Map<string, Set<SSEStreamingApi>>();
// Microseconds, like Scoreline's versions, so messages have the same size.
let version = Date.now() * 1000;

const app = new Hono();

app.put("/api/games/:id", async (c) => {
  if (c.req.header("authorization") !== `Bearer ${token}`) return c.text("unauthorized", 401);
  const id = c.req.param("id");
  const body = await c.req.json();
  const game: Game = {
    id,
    ...body,
    version: ++version,
    updatedAt: new Date().toISOString(),
  };
  const created = !games.has(id);
  games.set(id, game);
  broadcast(id, "update", game);
  c.header("etag", `"${game.version}"`);
  return c.json(game, created ? 201 : 200);
});

app.post("/api/games/:id/score", async (c) => {
  if (c.req.header("authorization") !== `Bearer ${token}`) return c.text("unauthorized", 401);
  const game = games.get(c.req.param("id"));
  if (!game) return c.text("not found", 404);
  const { side, points } = await c.req.json();
  const team = side === "away" ? game.away : game.home;
  team.score += points;
  game.version = ++version;
  game.updatedAt = new Date().toISOString();
  broadcast(game.id, "update", game);
  c.header("etag", `"${game.version}"`);
  return c.json(game);
});

app.get("/api/games/:id/events", (c) => {
  const id = c.req.param("id");
  return streamSSE(c, async (stream) => {
    let set = subscribers.get(id);
    if (!set) subscribers.set(id, set = new Set());
    set.add(stream);
    stream.onAbort(() => {
      set.delete(stream);
    });
    const game = games.get(id);
    if (game) {
      await stream.writeSSE({
        event: "snapshot",
        id: String(game.version),
        data: JSON.stringify({ type: "snapshot", version: game.version, game }),
      });
    }
    while (!stream.aborted) {
      await stream.sleep(15_000);
      await stream.write(": ping\n\n");
    }
  });
});

function broadcast(id: string, type: string, game: Game): void {
  // Stringified once per change (not a strawman), then formatted and encoded per viewer by
  // writeSSE, which is what the documented API does.
  const data = JSON.stringify({ type, version: game.version, game });
  for (const stream of subscribers.get(id) ?? []) {
    stream.writeSSE({ event: type, id: String(game.version), data });
  }
}

Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.env.get("PORT") ?? 0),
  onListen: ({ port }) => console.log(`listening on ${port}`),
}, app.fetch);
