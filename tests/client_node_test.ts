/**
 * The client library in Node 20 (the system `node`), which has neither a WebSocket nor an
 * EventSource global: a script imports client/scoreline.js as it would from the npm package and
 * watches a live game until it sees a goal, with `auto` (NDJSON over fetch), `ndjson` and `poll`.
 * Outside CI a missing node skips loudly; in CI it must run.
 */
import assert from "node:assert/strict";
import { findBinary, skipWithout } from "./support/binaries.ts";
import { readLines } from "./support/process.ts";
import { startServer, TOKEN } from "./support/server.ts";
import { call, gameBody } from "./support/http.ts";

const ignore = skipWithout("node", "apt-get install nodejs");
const LIBRARY = new URL("../client/scoreline.js", import.meta.url).href;

/** Prints what it sees, one JSON line each; exits once the game's home score is 1. */
const SCRIPT = `
import { watch } from ${JSON.stringify(LIBRARY)};
const [server, transport] = process.argv.slice(2);
const scores = watch({ server, game: "node-game", transport });
const say = (line) => console.log(JSON.stringify(line));
say({ runtime: process.version, WebSocket: typeof WebSocket, EventSource: typeof EventSource });
scores.addEventListener("status", (event) => say({ status: event.detail }));
scores.addEventListener("change", (event) => {
  const game = event.detail.games.get("node-game");
  say({ score: game ? game.home.score : null });
  if (game?.home.score === 1) scores.close().then(() => say({ closed: true }));
});
`;

for (const transport of ["auto", "ndjson", "poll"]) {
  Deno.test({
    name:
      `in Node 20, a script watches a live game with transport ${transport} until it sees the goal`,
    ignore,
    async fn() {
      await using server = await startServer();
      const dir = await Deno.makeTempDir({ prefix: "scoreline-node-" });
      try {
        await Deno.writeTextFile(`${dir}/watch.mjs`, SCRIPT);
        const child = new Deno.Command(findBinary("node")!, {
          args: [`${dir}/watch.mjs`, server.url, transport],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const lines: string[] = [];
        let scored: Promise<unknown> | undefined;
        const exited = readLines(child, (line) => {
          lines.push(line);
          // Waiting for this game, live: now score, once.
          if (!scored && line === '{"score":null}') {
            scored = call(server.url, "/api/games/node-game", {
              method: "PUT",
              token: TOKEN,
              body: gameBody(1),
            });
          }
        });
        const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
        const status = await exited;
        clearTimeout(guard);
        await scored;
        assert.equal(status.code, 0, lines.join("\n"));
        const seen = lines.map((line) => JSON.parse(line));
        assert.match(seen[0].runtime, /^v(2\d|[3-9]\d)\./, "Node 20 or later");
        assert.equal(seen[0].EventSource, "undefined");
        const used = seen.filter((line) => line.status?.connected).map((line) =>
          line.status.transport
        );
        assert.deepEqual(used, [transport === "auto" ? "ndjson" : transport]);
        assert.deepEqual(seen.filter((line) => "score" in line).map((line) => line.score), [
          null,
          1,
        ]);
        assert.deepEqual(seen.at(-1), { closed: true });
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
