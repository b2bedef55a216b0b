/**
 * `deno task demo`: the simulated matches are repeatable, and the real task, run against a
 * server, creates the games and moves every feed, then stops by itself.
 */
import assert from "node:assert/strict";
import { DemoError, demoOptions } from "../scripts/demo.ts";
import { DEMO_MATCHES, type DemoWrite, Match, seededRandom } from "../scripts/demo_match.ts";
import { openNdjson, openSse, openWs } from "./support/feeds.ts";
import { call } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** Runs `deno task demo` as an operator would, with these flags and environment. */
async function demoTask(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--config", CONFIG, "demo", ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

function play(seed: number, ticks: number): DemoWrite[] {
  const random = seededRandom(seed);
  const match = new Match(DEMO_MATCHES[0]!, random);
  const writes = match.create();
  for (let i = 0; i < ticks; i++) writes.push(...match.tick());
  return writes;
}

Deno.test("a seed always plays the same match, through both halves to full time, then again", () => {
  const writes = play(7, 100);
  assert.deepEqual(play(7, 100), writes);
  assert.notDeepEqual(play(8, 100), writes);
  const statuses = writes.flatMap((w) =>
    w.kind === "put" || w.kind === "patch" ? [w.body.status] : []
  )
    .filter(Boolean);
  assert.deepEqual(statuses, ["scheduled", "live", "break", "live", "final", "scheduled", "live"]);
  const periods = writes.flatMap((w) => w.kind === "patch" && w.body.period ? [w.body.period] : []);
  assert.deepEqual(periods, ["1st half", "End of 1st half", "2nd half", "Full time", "1st half"]);
  // The timer: stopped at each minute played, 45:00 at half time, 90:00 at full time.
  const timers = writes.flatMap((w) =>
    w.kind === "patch" && w.body.timer ? [(w.body.timer as { elapsedMs: number }).elapsedMs] : []
  );
  assert.equal(timers[0], 0);
  assert.ok(timers.includes(45 * 60_000) && timers.includes(90 * 60_000));
  // A new match starts without the last one's timeline: removed, then created.
  assert.deepEqual(
    writes.filter((w) => w.kind === "remove" || w.kind === "put").map((w) => w.kind),
    ["remove", "put", "remove", "put"],
  );
  // Goals are timeline events with a scorer and the minute.
  const goals = writes.flatMap((w) => w.kind === "event" ? [w.body] : []);
  assert.ok(goals.length > 0);
  for (const goal of goals) {
    assert.equal(goal.kind, "goal");
    assert.match(goal.clock!, /^\d+'$/);
    assert.ok(DEMO_MATCHES[0]!.players[goal.side].includes(goal.text));
  }
});

Deno.test("basketball scores often, in ones, twos and threes", () => {
  const random = seededRandom(3);
  const match = new Match(DEMO_MATCHES.find((m) => m.sport === "basketball")!, random);
  const scores = Array.from({ length: 30 }, () => match.tick()).flat()
    .flatMap((w) => w.kind === "event" ? [w.body.points] : []);
  assert.ok(scores.length > 20);
  assert.ok(scores.every((p) => p === 1 || p === 2 || p === 3));
  assert.equal(match.score.home + match.score.away, scores.reduce((a, b) => a + b, 0));
});

Deno.test("demo options come from flags, then the environment, and bad ones are named", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  const fromFlags = demoOptions(
    ["--url", "http://x:9/", "--token", "t", "--interval", "0.5"],
    env({}),
  );
  assert.equal(fromFlags.url, "http://x:9");
  assert.equal(fromFlags.token, "t");
  assert.equal(fromFlags.intervalMs, 500);
  const fromEnv = demoOptions([], env({ SCORELINE_TOKENS: "abc=game-a|game-b,def", PORT: "9000" }));
  assert.equal(fromEnv.token, "abc");
  assert.equal(fromEnv.url, "http://localhost:9000");
  assert.throws(
    () => demoOptions([], env({})),
    (e) => e instanceof DemoError && /--token/.test(e.message),
  );
  assert.throws(
    () => demoOptions(["--token", "t", "--games", "9"], env({})),
    (e) => e instanceof DemoError && /--games/.test(e.message),
  );
});

Deno.test("deno task demo creates the games, every feed sees them move, and it stops by itself", async () => {
  await using server = await startServer();
  const sse = await openSse(`${server.url}/api/events`);
  const ndjson = await openNdjson(`${server.url}/api/stream`);
  const ws = await openWs(`${server.url}/api/ws`);
  await server.opened("sse");
  await server.opened("ndjson");
  await server.opened("ws");
  const before = await call(server.url, "/api/games");
  const poll = call(server.url, `/api/poll?since=${before.json.version}&timeout=30`);
  await server.opened("long_poll");

  const { code, stdout, stderr } = await demoTask(
    ["--url", server.url, "--ticks", "40", "--interval", "0", "--seed", "1"],
    { SCORELINE_TOKEN: TOKEN },
  );
  assert.equal(code, 0, stderr);
  assert.match(stdout, new RegExp(`kiosk, one game +${server.url}/games/demo-cup-final`));
  assert.match(stdout, new RegExp(`scorer console +${server.url}/console#demo-cup-final`));
  assert.match(stdout, /demo finished: \d+ writes/);

  const list = await call(server.url, "/api/games");
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.json.games.map((g: { id: string }) => g.id),
    ["demo-cup-final", "demo-derby", "demo-hoops", "demo-ice"],
  );
  const hoops = list.json.games.find((g: { id: string }) => g.id === "demo-hoops");
  assert.ok(["live", "break"].includes(hoops.status), `the basketball is on (${hoops.status})`);
  assert.ok(hoops.home.score + hoops.away.score > 0, "forty minutes of basketball score points");
  // The v2 match: a down timer per quarter, and every point on the timeline with its scorer.
  assert.equal(hoops.competition, "demo");
  assert.equal(hoops.timer.direction, "down");
  assert.equal(hoops.timer.limitMs, 12 * 60_000);
  const points = hoops.events.reduce((n: number, e: { points: number }) => n + e.points, 0);
  assert.equal(points, hoops.home.score + hoops.away.score, "the timeline adds up to the score");
  assert.ok(hoops.events.every((e: { text?: string }) => e.text));

  const last = list.json.version;
  await sse.inbox.until((e) => e.id === String(last));
  await ndjson.inbox.until((m) => m.version === last);
  await ws.inbox.until((m) => m.version === last);
  const polled = await poll;
  assert.equal(polled.status, 200);
  assert.equal(
    polled.json.messages[0].type,
    "update",
    "the waiting long poll woke on the first write",
  );
  await sse.close();
  await ndjson.close();
  await ws.close();
});

Deno.test("deno task demo against nothing explains how to start the service, and exits 2", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const { code, stderr } = await demoTask(["--url", `http://127.0.0.1:${port}`, "--token", TOKEN]);
  assert.equal(code, 2);
  assert.match(stderr, /cannot reach Scoreline .*deno task start/);
});
