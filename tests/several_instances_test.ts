/**
 * Several instances: two real main.ts processes on one redis-server of the test's own, exactly
 * as behind a load balancer. A write on one reaches viewers of every transport on the other; a
 * cursor from one resumes on the other; concurrent writes split across both end exact; and Redis
 * killed in the middle loses no acknowledged write and leaves no viewer with a gap.
 */
import assert from "node:assert/strict";
import { skipWithout } from "./support/binaries.ts";
import { openNdjson, openSse, openWs } from "./support/feeds.ts";
import { type Answer, call, gameBody } from "./support/http.ts";
import { type Child, spawnMain } from "./support/process.ts";
import { type RedisServer, startRedis } from "./support/redis.ts";

const ignore = skipWithout("redis-server");
const TOKEN = "several-instances-token-0001";

interface Cluster {
  redis: RedisServer;
  a: Child;
  b: Child;
  close(): Promise<void>;
}

async function cluster(): Promise<Cluster> {
  const redis = await startRedis();
  const env = {
    SCORELINE_REDIS_URL: redis.url,
    SCORELINE_TOKENS: TOKEN,
    SCORELINE_WRITE_RATE: "0",
  };
  const started: Child[] = [];
  try {
    started.push(await spawnMain(env));
    started.push(await spawnMain(env));
  } catch (error) {
    await stopAll(started, redis);
    throw error;
  }
  const [a, b] = started as [Child, Child];
  return { redis, a, b, close: () => stopAll(started, redis) };
}

/** A test on two instances and their Redis, all stopped however it ends. */
function clusterTest(name: string, fn: (c: Cluster) => Promise<void>) {
  Deno.test({
    name,
    ignore,
    async fn() {
      const c = await cluster();
      try {
        await fn(c);
      } finally {
        await c.close();
      }
    },
  });
}

async function stopAll(children: Child[], redis: RedisServer) {
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone (a test killed it).
    }
  }
  await Promise.all(children.map((child) => child.exited));
  await redis[Symbol.asyncDispose]();
}

const write = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(url, path, {
    method: path.endsWith("/score") ? "POST" : "PUT",
    token: TOKEN,
    body,
    headers,
  });

clusterTest(
  "a write on instance A reaches SSE, NDJSON, WebSocket and long-poll viewers on instance B",
  async (c) => {
    const { version } = (await call(c.b.url, "/api/games")).json;
    const sse = await openSse(`${c.b.url}/api/games/cup-final/events?since=${version}`);
    const ndjson = await openNdjson(`${c.b.url}/api/stream`);
    const ws = await openWs(`${c.b.url}/api/ws`);
    const poll = call(c.b.url, `/api/poll?since=${version}&timeout=30`);
    try {
      assert.equal(sse.status, 200);
      assert.equal(sse.headers.get("content-type"), "text/event-stream; charset=utf-8");
      assert.equal(ndjson.status, 200);
      assert.equal(ndjson.headers.get("content-type"), "application/x-ndjson");
      assert.equal((await ndjson.inbox.next()).type, "snapshot", "the NDJSON feed is live");
      assert.equal((await ws.inbox.next()).type, "snapshot", "the WebSocket is live");
      assert.equal((await ndjson.inbox.next()).type, "ping", "and its server time follows");
      assert.equal((await ws.inbox.next()).type, "ping");

      const put = await write(c.a.url, "/api/games/cup-final", gameBody(2, 1));
      assert.equal(put.status, 201);
      const game = put.json;

      const update = { type: "update", version: game.version, game };
      const event = await sse.inbox.until((e) => e.event !== undefined && e.event !== "ping");
      assert.deepEqual(event.at(-1), {
        event: "update",
        id: String(game.version),
        data: JSON.stringify(update),
      });
      assert.deepEqual(await ndjson.inbox.next(), update);
      assert.deepEqual(await ws.inbox.next(), update);
      const polled = await poll;
      assert.equal(polled.status, 200);
      assert.equal(polled.headers.get("content-type"), "application/json");
      const { time, ...answer } = polled.json;
      assert.deepEqual(answer, { cursor: game.version, messages: [update] });
      assert.ok(Number.isSafeInteger(time), "with the server's time");
    } finally {
      await sse.close();
      await ndjson.close();
      await ws.close();
    }
  },
);

clusterTest("a cursor or ETag from instance A resumes on instance B", async (c) => {
  const first = await write(c.a.url, "/api/games/first", gameBody());
  const cursor = first.json.version;
  const second = await write(c.a.url, "/api/games/second", gameBody(1));
  const gone = await call(c.a.url, "/api/games/first", { method: "DELETE", token: TOKEN });
  assert.equal(gone.status, 204);
  const removedAt = Number(JSON.parse(gone.headers.get("etag")!));

  const polled = await call(c.b.url, `/api/poll?since=${cursor}&timeout=0`);
  assert.equal(polled.status, 200);
  assert.equal(polled.headers.get("content-type"), "application/json");
  assert.deepEqual(polled.json, {
    cursor: removedAt,
    messages: [
      { type: "update", version: second.json.version, game: second.json },
      { type: "removed", version: removedAt, id: "first" },
    ],
    time: polled.json.time,
  });

  const sse = await openSse(`${c.b.url}/api/events`, { "last-event-id": String(cursor) });
  try {
    assert.equal(sse.status, 200);
    const events = await sse.inbox.until((e) => e.id === String(removedAt));
    assert.deepEqual(
      events.filter((e) => e.event).map((e) => [e.event, e.id]),
      [["update", String(second.json.version)], ["removed", String(removedAt)]],
    );
  } finally {
    await sse.close();
  }

  const etag = second.headers.get("etag")!;
  const unchanged = await call(c.b.url, "/api/games/second", {
    headers: { "if-none-match": etag },
  });
  assert.equal(unchanged.status, 304, "the ETag from A is current on B");
});

clusterTest("concurrent +1 writes split across instances A and B end exact", async (c) => {
  assert.equal((await write(c.a.url, "/api/games/g", gameBody())).status, 201);
  const CLIENTS = 8;
  const EACH = 40;
  const versions: number[] = [];
  await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
    const url = i % 2 ? c.a.url : c.b.url;
    for (let n = 0; n < EACH; n++) {
      const answer = await write(url, "/api/games/g/score", { side: "home", points: 1 });
      assert.equal(answer.status, 200);
      versions.push(answer.json.version);
    }
  }));
  assert.equal(new Set(versions).size, CLIENTS * EACH, "every write has its own version");
  for (const url of [c.a.url, c.b.url]) {
    const game = await call(url, "/api/games/g");
    assert.equal(game.status, 200);
    assert.equal(game.json.home.score, CLIENTS * EACH);
    assert.equal(game.json.version, Math.max(...versions));
  }
});

/** The scores a viewer shows, from the messages it was sent. */
class Screen {
  scores = new Map<string, number>();
  versions: number[] = [];
  // deno-lint-ignore no-explicit-any
  apply(message: any): void {
    if (message.type === "ping") return;
    this.versions.push(message.version);
    if (message.type === "snapshot") {
      this.scores = new Map(message.games.map((g: GameJson) => [g.id, g.home.score]));
    } else if (message.type === "update") {
      this.scores.set(message.game.id, message.game.home.score);
    } else if (message.type === "removed") {
      this.scores.delete(message.id);
    }
  }
  shows(expected: Map<string, number>): boolean {
    return [...expected].every(([id, score]) => this.scores.get(id) === score);
  }
}

interface GameJson {
  id: string;
  home: { score: number };
}

clusterTest(
  "Redis killed and restarted mid-way: no acknowledged write lost, viewers stay connected and end exact",
  async (c) => {
    const GAMES = ["g0", "g1", "g2"];
    const WRITERS = 6;
    const EACH = 30;
    for (const id of GAMES) {
      assert.equal((await write(c.a.url, `/api/games/${id}`, gameBody())).status, 201);
    }
    const sse = await openSse(`${c.b.url}/api/events`);
    const ws = await openWs(`${c.a.url}/api/ws`);
    const sseScreen = new Screen();
    const wsScreen = new Screen();
    const pollScreen = new Screen();
    const snapshot = (await sse.inbox.until((e) => e.event === "snapshot")).at(-1)!;
    sseScreen.apply(JSON.parse(snapshot.data));
    wsScreen.apply(await ws.inbox.next());

    let acked = 0;
    let refused = 0;
    let sawRetryAfter = false;
    let onRefused: () => void = () => {};
    let onAcked: () => void = () => {};
    const deadline = Date.now() + 60_000;
    const writer = async (w: number) => {
      const url = w % 2 ? c.a.url : c.b.url;
      const path = `/api/games/${GAMES[w % GAMES.length]}/score`;
      for (let n = 0; n < EACH; n++) {
        const key = `writer-${w}-goal-${n}`;
        for (;;) {
          assert.ok(Date.now() < deadline, "writes get through once Redis is back");
          let status = 0;
          try {
            const answer = await write(url, path, { side: "home", points: 1 }, {
              "idempotency-key": key,
            });
            status = answer.status;
            if (status === 503 && answer.headers.get("retry-after")) sawRetryAfter = true;
          } catch {
            status = 0; // the connection broke: unknown outcome, so retry with the same key
          }
          if (status === 200) {
            acked++;
            onAcked();
            break;
          }
          assert.ok([0, 409, 503].includes(status), `unexpected status ${status}`);
          refused++;
          onRefused();
          await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30));
        }
      }
    };
    const writing = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    let pollsRefused = 0;
    const expected = new Map(GAMES.map((id) => [id, (WRITERS / GAMES.length) * EACH]));
    // A long-poll viewer on B, polling through the outage with its cursor.
    const polling = (async () => {
      let cursor: number | null = null;
      while (!pollScreen.shows(expected)) {
        assert.ok(Date.now() < deadline, "the long-poll viewer catches up");
        const since: string = cursor === null ? "" : `since=${cursor}&`;
        const answer: Answer | null = await call(c.b.url, `/api/poll?${since}timeout=2`).catch(
          () => null,
        );
        if (answer?.status === 200) {
          for (const message of answer.json.messages) pollScreen.apply(message);
          cursor = answer.json.cursor;
        } else if (answer?.status !== 204) {
          pollsRefused++;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    })();

    await new Promise<void>((resolve) => (onAcked = () => acked >= 40 && resolve()));
    await c.redis.kill();
    await new Promise<void>((resolve) => (onRefused = () => refused >= 3 * WRITERS && resolve()));
    const down = await call(c.a.url, "/readyz");
    assert.equal(down.status, 503, "not ready while Redis is down");
    assert.ok(acked < WRITERS * EACH, "Redis went down in the middle of the writes");
    await c.redis.restart();
    await writing;
    await polling;

    assert.equal(acked, WRITERS * EACH);
    assert.ok(sawRetryAfter, "503s carry Retry-After");
    assert.ok(pollsRefused > 0, "the long poll was refused while Redis was down");
    for (const url of [c.a.url, c.b.url]) {
      const { json } = await call(url, "/api/games");
      assert.deepEqual(
        new Map(json.games.map((g: GameJson) => [g.id, g.home.score])),
        expected,
        "every acknowledged write is there, and none twice",
      );
    }
    await sse.inbox.until((event) => {
      if (event.data) sseScreen.apply(JSON.parse(event.data));
      return sseScreen.shows(expected);
    }, 30_000);
    await ws.inbox.until((message) => {
      wsScreen.apply(message);
      return wsScreen.shows(expected);
    }, 30_000);
    for (const screen of [sseScreen, wsScreen, pollScreen]) {
      assert.deepEqual(
        screen.versions,
        [...screen.versions].sort((p, q) => p - q),
        "versions only go up",
      );
    }
    assert.equal(sse.inbox.ended, false, "the SSE viewer on B stayed connected throughout");
    assert.equal(ws.socket.readyState, WebSocket.OPEN, "the WebSocket on A too");
    assert.equal((await call(c.b.url, "/readyz")).status, 200);
    await sse.close();
    await ws.close();
  },
);

clusterTest(
  "viewer counts are summed over both instances, and one killed with SIGKILL drops out of the sums",
  async (c) => {
    const put = await write(
      c.a.url,
      "/api/games/cup-final",
      gameBody(0, 0, { competition: "cup" }),
    );
    assert.equal(put.status, 201);
    const onA = [
      await openSse(`${c.a.url}/api/events?competition=cup`),
      await openNdjson(`${c.a.url}/api/games/cup-final/stream`),
    ];
    const onB = await openWs(`${c.b.url}/api/ws?games=cup-final&viewers=1`);
    const count = (message: { type: string; games?: Record<string, number> }) =>
      message.type === "viewers" ? message.games?.["cup-final"] : undefined;
    try {
      // Each instance reports every 5 s and reads the sum: B's feed hears of A's viewers too.
      await onB.inbox.until((m) => count(m) === 3, 25_000);
      const summed = await call(c.b.url, "/api/viewers");
      assert.equal(summed.status, 200);
      assert.equal(summed.headers.get("content-type"), "application/json");
      assert.deepEqual(summed.json, { total: 3, games: { "cup-final": 3 } });

      const killed = performance.now();
      c.a.kill("SIGKILL");
      await c.a.exited;
      // A's report expires 10 s after it was made; B's next count (5 s at most) leaves it out.
      await onB.inbox.until((m) => count(m) === 1, 25_000);
      const seconds = (performance.now() - killed) / 1000;
      console.log(`A's viewers left B's sums ${seconds.toFixed(1)} s after A was killed`);
      const alone = await call(c.b.url, "/api/games/cup-final/viewers");
      assert.deepEqual(alone.json, { id: "cup-final", viewers: 1 });
    } finally {
      for (const feed of onA) await feed.close();
      await onB.close();
    }
  },
);
