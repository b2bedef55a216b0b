/**
 * The open-file limit. Past it, accept() fails and Deno's server stops accepting for good, so the
 * real main.ts runs here under `prlimit --nofile=400`: its feed cap must come down to fit (503,
 * not a dead server), and if idle connections, which no cap counts, use up the rest anyway, the
 * process must say so and exit 1 for its supervisor rather than linger, alive and deaf.
 */
import assert from "node:assert/strict";
import { descriptorsNeeded, feedCapWithin } from "../core/capacity.ts";
import { skipWithout } from "./support/binaries.ts";
import { type Child, spawnMain } from "./support/process.ts";

const LIMIT = 400;
const TOKEN = "file-limit-token-0000";

Deno.test("the feed cap keeps a fifth of the free descriptors (at least 128) for everything else", () => {
  assert.equal(feedCapWithin(15_000, null), 15_000, "free descriptors unknown: the cap stands");
  assert.equal(feedCapWithin(15_000, descriptorsNeeded(15_000)), 15_000, "enough: it stands");
  assert.equal(feedCapWithin(15_000, descriptorsNeeded(15_000) - 1), 14_999);
  assert.equal(feedCapWithin(15_000, 1_000), 800);
  assert.equal(feedCapWithin(15_000, 370), 242);
  assert.equal(feedCapWithin(100, 370), 100, "a cap that fits stands");
  assert.equal(feedCapWithin(15_000, 100), 1, "never zero");
});

/**
 * Runs `test` against main.ts under the low limit; then closes the connections it left in `conns`
 * and stops main.ts (if it has not stopped by itself).
 */
async function underLimit(test: (child: Child, conns: Deno.TcpConn[]) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "scoreline-nofile-" });
  const child = await spawnMain({
    SCORELINE_DATA: `${dir}/s.db`,
    SCORELINE_TOKENS: TOKEN,
    SCORELINE_FEEDS_PER_CLIENT: "100000",
    SCORELINE_FEED_RATE: "0",
  }, { wrap: ["prlimit", `--nofile=${LIMIT}`, "--"] });
  const conns: Deno.TcpConn[] = [];
  try {
    await test(child, conns);
  } finally {
    for (const conn of conns) conn.close();
    try {
      child.kill("SIGTERM");
    } catch {
      // It has exited already, as one of the tests wants it to.
    }
    await child.exited;
    await Deno.remove(dir, { recursive: true });
  }
}

/** Opens an SSE feed by hand and returns the connection and the status of its answer. */
async function openFeed(port: number): Promise<{ conn: Deno.TcpConn; status: number }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode("GET /api/events HTTP/1.1\r\nHost: t\r\n\r\n"));
  const buffer = new Uint8Array(4096);
  const n = await conn.read(buffer);
  const head = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
  return { conn, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0) };
}

Deno.test({
  name:
    "under a low open-file limit, viewers past the lowered cap get 503 and the service lives on",
  ignore: skipWithout("prlimit", "apt-get install util-linux"),
  fn: () =>
    underLimit(async (child, conns) => {
      const warning = child.lines.find((line) => line.includes("does not fit the open-file limit"));
      assert.ok(warning, child.lines.join("\n"));
      const { cap, freeDescriptors } = JSON.parse(warning);
      assert.ok(freeDescriptors < LIMIT && freeDescriptors > LIMIT - 100, warning);
      assert.equal(cap, feedCapWithin(15_000, freeDescriptors));
      const port = Number(new URL(child.url).port);
      const statuses = new Map<number, number>();
      for (let i = 0; i < cap + 50; i++) {
        const { conn, status } = await openFeed(port);
        conns.push(conn);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      assert.deepEqual(Object.fromEntries(statuses), { 200: cap, 503: 50 });
      assert.equal(await fetch(`${child.url}/healthz`).then((r) => r.text()), "ok\n");
      for (const conn of conns.splice(0)) conn.close();
      const again = await openFeed(port);
      conns.push(again.conn);
      assert.equal(again.status, 200, "slots come back");
    }),
});

Deno.test({
  name: "when idle connections take every file descriptor, main.ts says so and exits 1",
  ignore: skipWithout("prlimit", "apt-get install util-linux"),
  fn: () =>
    underLimit(async (child, conns) => {
      const port = Number(new URL(child.url).port);
      // Connections that never send a byte: nothing in the app sees them, nothing caps them.
      for (let i = 0; i < LIMIT; i++) {
        try {
          conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
        } catch {
          break; // refused: the server no longer listens
        }
      }
      const status = await child.exited;
      assert.equal(status.code, 1, child.lines.join("\n"));
      assert.ok(
        child.lines.some((line) => line.includes("the HTTP server stopped accepting connections")),
        child.lines.join("\n"),
      );
      assert.ok(child.lines.some((line) => line.includes('"msg":"stopped"')), "store closed first");
    }),
});
