/**
 * The contract floor (`bench/peers/bare_deno.ts` with BARE_CONTRACT=1, the benchmark's
 * `bare-contract` peer) must send the headers Scoreline's feed answers send, or the README's
 * "ratio to the contract floor" compares unlike answers. Each feed's answer head from both
 * servers, header by header: a header added to or dropped from Scoreline's feeds fails here until
 * the floor follows.
 */
import assert from "node:assert/strict";
import { readLines } from "./support/process.ts";
import { openRawFeed } from "./support/raw_http.ts";
import { WS_HANDSHAKE } from "./support/raw_ws.ts";
import { startServer, TOKEN } from "./support/server.ts";

const FLOOR = new URL("../bench/peers/bare_deno.ts", import.meta.url).pathname;
const GAME = {
  title: "Floor",
  status: "live",
  home: { name: "Home", score: 0 },
  away: { name: "Away", score: 0 },
};
/** What differs per answer or is Deno's own on both: left out of the comparison. */
const PER_ANSWER = new Set(["date", "content-length", "transfer-encoding"]);
/** Sent with every feed request: both servers echo a request id of this shape. */
const REQUEST_ID = "floor-check.1";

/** The answer's header names (lower case) and values. */
function headersOf(head: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    found.set(name, PER_ANSWER.has(name) ? "" : line.slice(colon + 1).trim());
  }
  return found;
}

async function startFloor(): Promise<{ port: number; stop(): Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", FLOOR],
    env: { PORT: "0", BARE_CONTRACT: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let listening!: (port: number) => void;
  const port = new Promise<number>((resolve) => (listening = resolve));
  const exited = readLines(child, (line) => {
    const match = /listening on (\d+)/.exec(line);
    if (match) listening(Number(match[1]));
  });
  return {
    port: await Promise.race([port, exited.then(() => Promise.reject(new Error("floor exited")))]),
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

Deno.test("the contract floor's feed answers carry Scoreline's headers, and only those", async () => {
  await using scoreline = await startServer();
  const floor = await startFloor();
  try {
    const port = Number(new URL(scoreline.url).port);
    const bases: [string, string][] = [
      [scoreline.url, `Bearer ${TOKEN}`],
      [`http://127.0.0.1:${floor.port}`, ""],
    ];
    for (const [base, auth] of bases) {
      const put = await fetch(`${base}/api/games/g1`, {
        method: "PUT",
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify(GAME),
      });
      await put.body?.cancel();
      assert.ok(put.ok, `PUT on ${base}: ${put.status}`);
    }
    const feeds: [string, Record<string, string>][] = [
      ["/api/games/g1/events", { "X-Request-Id": REQUEST_ID }],
      ["/api/games/g1/poll", { "X-Request-Id": REQUEST_ID }],
      ["/api/games/g1/ws", { ...WS_HANDSHAKE, "X-Request-Id": REQUEST_ID }],
    ];
    for (const [path, headers] of feeds) {
      const heads = [];
      for (const at of [port, floor.port]) {
        const feed = await openRawFeed(at, path, headers);
        feed.conn.close();
        heads.push(headersOf(feed.head));
      }
      const [mine, theirs] = heads as [Map<string, string>, Map<string, string>];
      assert.deepEqual(
        Object.fromEntries([...theirs].sort()),
        Object.fromEntries([...mine].sort()),
        `${path}: the contract floor's headers`,
      );
      assert.ok(mine.has("x-request-id"), `${path}: Scoreline sends a request id`);
      assert.equal(mine.get("x-request-id"), REQUEST_ID, `${path}: echoed by both`);
    }
  } finally {
    await floor.stop();
  }
});
