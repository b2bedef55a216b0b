import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import type { Change } from "../core/scoreboard.ts";
import { type CommitTimers, groupCommit } from "../store/group_commit.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { WriteRequest } from "../store/store.ts";
import { ManualClock } from "./support/clock.ts";

/** Timers that only record which way was asked for; `run` runs what is waiting. */
function recordingTimers() {
  const asked: string[] = [];
  const waiting: (() => void)[] = [];
  const timers: CommitTimers = {
    thisTurn(run) {
      asked.push("thisTurn");
      waiting.push(run);
      return () => asked.push("cancelled");
    },
    shortly(run) {
      asked.push("shortly");
      waiting.push(run);
      return () => asked.push("cancelled");
    },
  };
  return { timers, asked, run: () => waiting.splice(0).forEach((run) => run()) };
}

Deno.test("group commit: after a lone write, commit this turn; after several together, wait for more", () => {
  const { timers, asked, run } = recordingTimers();
  const schedule = groupCommit(timers);
  let flushed = 0;
  const flush = () => flushed++;
  schedule(flush, 0); // the first write of all
  schedule(flush, 1);
  schedule(flush, 2);
  schedule(flush, 16)();
  run();
  assert.deepEqual(asked, ["thisTurn", "thisTurn", "shortly", "shortly", "cancelled"]);
  assert.equal(flushed, 4, "each flush given is the one run");
});

function put(id: string, score: number): WriteRequest {
  return {
    id,
    mutate: () => ({
      kind: "put",
      body: { status: "live", home: { name: "A", score }, away: { name: "B", score: 0 } },
    }),
  };
}

Deno.test("sqlite store: a lone write is committed in its own turn of the event loop, not after a timer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-group-" });
  const store = openSqliteStore(`${dir}/s.db`, new ManualClock());
  let commits = 0;
  store.onCommit(() => commits++);
  try {
    for (let i = 1; i <= 3; i++) {
      const write = store.write(put("a", i));
      // Queued after the store's own: it runs once the store has had its turn to commit.
      const seen = await new Promise<number>((resolve) => setImmediate(() => resolve(commits)));
      assert.equal(seen, i, `write ${i} was committed before the next callback of the turn`);
      await write;
    }
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: writes arriving together share one commit, and a lone write after them is still committed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-group-" });
  const store = openSqliteStore(`${dir}/s.db`, new ManualClock());
  const batches: Change[][] = [];
  store.onCommit((changes) => batches.push([...changes]));
  try {
    await Promise.all(["a", "b", "c", "d", "e"].map((id) => store.write(put(id, 1))));
    assert.deepEqual(batches.map((b) => b.length), [5], "one commit for the five");
    // Several went together, so this one waits for the shortest timer; it is committed still.
    await store.write(put("a", 2));
    await store.write(put("a", 3));
    assert.deepEqual(batches.map((b) => b.length), [5, 1, 1]);
    assert.equal((await store.get("a"))?.home.score, 3);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
