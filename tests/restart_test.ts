/**
 * Restart: the real main.ts is stopped (SIGKILL, then SIGTERM) while writes are being
 * acknowledged. Every acknowledged write must be there afterwards, with its version, and
 * versions must continue upward.
 */
import assert from "node:assert/strict";
import { gameBody } from "./support/http.ts";
import { spawnMain } from "./support/process.ts";

const TOKEN = "restart-test-token-0000";
const WRITERS = 4;

interface Acked {
  id: string;
  version: number;
}

/**
 * Writers that PUT a new game each time until the service goes away, recording what was
 * acknowledged. Every write has its own id, so each acknowledgement can be checked exactly.
 */
function startWriters(url: string, stopAfter: number, onEnough: () => void) {
  const acked: Acked[] = [];
  let stop = false;
  const writer = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const id = `w${w}-${i}`;
      try {
        const response = await fetch(`${url}/api/games/${id}`, {
          method: "PUT",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify(gameBody(i)),
        });
        const body = await response.text();
        if (response.status === 201) {
          acked.push({ id, version: JSON.parse(body).version });
          if (acked.length === stopAfter) onEnough();
        } else if (response.status >= 500) {
          return; // shutting down: refused, so not acknowledged
        }
      } catch {
        return; // the connection died: whatever was in flight was not acknowledged
      }
    }
  };
  const done = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  return { acked, done, stop: () => (stop = true) };
}

async function checkAfterRestart(dataPath: string, acked: Acked[]) {
  const child = await spawnMain({
    SCORELINE_DATA: dataPath,
    SCORELINE_TOKENS: TOKEN,
    SCORELINE_WRITE_RATE: "0",
  });
  try {
    const list = await (await fetch(`${child.url}/api/games`)).json();
    const byId = new Map<string, { version: number }>(
      list.games.map((g: { id: string; version: number }) => [g.id, g]),
    );
    const missing = acked.filter((a) => byId.get(a.id)?.version !== a.version);
    assert.deepEqual(missing, [], "every acknowledged write is there with its version");
    const newest = Math.max(...acked.map((a) => a.version));
    const next = await fetch(`${child.url}/api/games/after-restart`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(gameBody()),
    });
    assert.equal(next.status, 201);
    assert.ok(
      (await next.json()).version > Math.max(newest, list.version),
      "versions continue upward",
    );
  } finally {
    child.kill("SIGTERM");
    await child.exited;
  }
}

for (const signal of ["SIGKILL", "SIGTERM"] as const) {
  Deno.test(`${signal} while writes are being acknowledged loses none of them`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "scoreline-restart-" });
    const dataPath = `${dir}/scoreline.db`;
    try {
      const child = await spawnMain({
        SCORELINE_DATA: dataPath,
        SCORELINE_TOKENS: TOKEN,
        SCORELINE_WRITE_RATE: "0",
      });
      let enough!: () => void;
      const reached = new Promise<void>((resolve) => (enough = resolve));
      const writers = startWriters(child.url, 300, enough);
      await reached;
      child.kill(signal); // writes are still in flight at this moment
      const status = await child.exited;
      writers.stop();
      await writers.done;
      if (signal === "SIGTERM") assert.equal(status.code, 0, child.lines.join("\n"));
      assert.ok(writers.acked.length >= 300);
      await checkAfterRestart(dataPath, writers.acked);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
