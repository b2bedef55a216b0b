/**
 * The client library through a restart of the real service (main.ts as a child process on one
 * SQLite file, stopped with SIGTERM or SIGKILL in the middle of writes and started again on the
 * same port): a watch on every transport reconnects by itself, resumes from its cursor and ends
 * with exactly the server's state, and a Scorer whose goals were in flight counts each exactly
 * once (it retries with the same Idempotency-Key until the service answers again).
 */
import assert from "node:assert/strict";
import { Scorer, type Transport, watch } from "../client/scoreline.js";
import { freePort, startMain } from "./support/process.ts";
import { live, settles } from "./support/watching.ts";

const TOKEN = "client-restart-token-0001";
const TRANSPORTS: Transport[] = ["websocket", "sse", "ndjson", "poll"];

/** Goals scored by `writers` loops until stopped; each resolved goal is counted per game. */
function startScoring(scorer: Scorer, games: string[]) {
  const acked = new Map(games.map((id) => [id, 0]));
  let total = 0;
  let stop = false;
  const waiting: { count: number; resolve: () => void }[] = [];
  const loop = async (id: string) => {
    while (!stop) {
      await scorer.score(id, "home", 1); // rejects only if the service stays away too long
      acked.set(id, acked.get(id)! + 1);
      total++;
      for (const wait of waiting.filter((w) => total >= w.count)) {
        waiting.splice(waiting.indexOf(wait), 1);
        wait.resolve();
      }
    }
  };
  const done = Promise.all(games.map(loop));
  return {
    acked,
    done,
    /** Resolves once `more` further goals have been acknowledged. */
    after(more: number): Promise<void> {
      return new Promise((resolve) => waiting.push({ count: total + more, resolve }));
    },
    stop: () => (stop = true),
  };
}

for (const signal of ["SIGTERM", "SIGKILL"] as const) {
  Deno.test(`${signal} in the middle of writes: a watch on every transport ends with exactly the server's state, and every goal is counted once`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "scoreline-client-restart-" });
    const env = {
      SCORELINE_DATA: `${dir}/scoreline.db`,
      SCORELINE_TOKENS: TOKEN,
      SCORELINE_WRITE_RATE: "0",
    };
    const port = freePort();
    let child = await startMain(env, port);
    const url = child.url;
    // Enough retries to outlast a restart: about 20 s of tries, 1 s apart at most.
    const scorer = new Scorer({ server: url, token: TOKEN, retries: 30, retryMaxMs: 1_000 });
    const handles = TRANSPORTS.map((transport) =>
      watch({ server: url, transport, retryMaxMs: 2_000 })
    );
    try {
      for (const id of ["a", "b"]) {
        await scorer.put(id, { status: "live", home: { name: "Lions" }, away: { name: "Tigers" } });
      }
      await Promise.all(handles.map((handle) => live(handle)));
      const scoring = startScoring(scorer, ["a", "b"]);
      await scoring.after(40);
      child.kill(signal); // goals are in flight at this moment
      const status = await child.exited;
      if (signal === "SIGTERM") assert.equal(status.code, 0, child.lines.join("\n"));
      child = await startMain(env, port);
      await scoring.after(40);
      scoring.stop();
      await scoring.done;
      await scorer.put("c", { home: { name: "Owls" }, away: { name: "Bears" } });
      for (const [i, handle] of handles.entries()) {
        await settles(handle, url, { all: true }, 30_000).catch((error) => {
          throw new Error(`${TRANSPORTS[i]}: ${error.message}`);
        });
        assert.equal(handle.status.transport, TRANSPORTS[i]);
      }
      const games = await (await fetch(`${url}/api/games`)).json();
      const scores = Object.fromEntries(
        games.games.map((g: { id: string; home: { score: number } }) => [g.id, g.home.score]),
      );
      assert.deepEqual(scores, { a: scoring.acked.get("a"), b: scoring.acked.get("b"), c: 0 });
    } finally {
      await Promise.all(handles.map((handle) => handle.close()));
      child.kill("SIGTERM");
      await child.exited;
      await Deno.remove(dir, { recursive: true });
    }
  });
}
