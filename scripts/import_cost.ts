/**
 * What an import costs the SQLite store's event loop, measured in-process:
 *   deno run --allow-read --allow-write --allow-env scripts/import_cost.ts [games]
 * imports that many games (2,000 by default; each with a 120-character title and its history
 * entry) three times into a fresh file, and prints how long each import took and the longest
 * stretch the event loop could not run a 1 ms timer. node:sqlite is synchronous, and an import is
 * one commit, so that stretch is what every viewer and write waits meanwhile. A measurement, not
 * a test: it asserts nothing.
 */
import { systemClock } from "../core/clock.ts";
import { importedGame } from "../core/import.ts";
import { openSqliteStore } from "../store/sqlite.ts";

const count = Number(Deno.args[0] ?? 2000);
const line = importedGame({
  id: "game",
  title: "T".repeat(120),
  status: "live",
  period: "2nd half",
  clock: "67:12",
  home: { name: "Lions", score: 2, detail: "x".repeat(32) },
  away: { name: "Tigers", score: 1 },
}, 0);
if (!line.ok) throw new Error("bad fixture");
const games = Array.from({ length: count }, (_, i) => ({
  id: `game-${i}`,
  body: line.game.body,
  audit: { who: "0123456789ab", method: "POST", path: "/api/import", body: { line: i + 1 } },
}));
const megabytes = games.reduce((n, g) => n + JSON.stringify({ id: g.id, ...g.body }).length, 0) /
  1048576;

const dir = await Deno.makeTempDir({ prefix: "scoreline-import-cost-" });
const store = openSqliteStore(`${dir}/s.db`, systemClock());
let last = performance.now();
let stall = 0;
const timer = setInterval(() => {
  const now = performance.now();
  stall = Math.max(stall, now - last);
  last = now;
}, 1);
try {
  for (let round = 1; round <= 3; round++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    stall = 0;
    const started = performance.now();
    await store.importGames({ games });
    const took = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
    console.log(
      `import ${round}: ${count} games (${megabytes.toFixed(1)} MiB of JSON) in ` +
        `${took.toFixed(0)} ms; longest event-loop stall ${stall.toFixed(0)} ms`,
    );
  }
} finally {
  clearInterval(timer);
  await store.close();
  await Deno.remove(dir, { recursive: true });
}
