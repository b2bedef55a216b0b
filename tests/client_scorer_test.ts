/**
 * The client library's Scorer against the real service in-process: what each method resolves
 * to, refusals with their problem documents, and the retry rule that makes a goal count once: a
 * TCP proxy between them forwards requests and cuts connections before the answers come back.
 */
import assert from "node:assert/strict";
import { ScorelineError, Scorer } from "../client/scoreline.js";
import { call } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";
import { startTcpProxy } from "./support/tcp_proxy.ts";

/** A fetch that records the Idempotency-Key of every request it sends, in order. */
function recordingFetch(answer?: (n: number) => Response | null) {
  const keys: string[] = [];
  const send: typeof fetch = (input, init) => {
    keys.push(new Headers(init?.headers).get("idempotency-key") ?? "");
    const instead = answer?.(keys.length);
    return instead ? Promise.resolve(instead) : fetch(input, init);
  };
  return { keys, fetch: send };
}

const teams = { home: { name: "Lions" }, away: { name: "Tigers" } };

/** A Scorer that sends through `recorder` and retries soon (tests need not wait long). */
function recordedScorer(
  server: string,
  recorder: ReturnType<typeof recordingFetch>,
): Scorer {
  return new Scorer({
    server,
    token: TOKEN,
    retryMinMs: 10,
    fetch: recorder.fetch,
  });
}

Deno.test("a scorer whose connection drops between request and answer counts each goal exactly once", async () => {
  await using server = await startServer();
  let posts = 0;
  // Every other goal reaches the service, is counted, and its answer is lost on the way back.
  await using proxy = startTcpProxy(Number(new URL(server.url).port), {
    onRequest: (
      head,
    ) => (/^POST /.test(head) && posts++ % 2 === 0 ? "cut" : "forward"),
  });
  const recorder = recordingFetch();
  const scorer = recordedScorer(proxy.url, recorder);
  await scorer.put("cup", teams);
  const answers = [];
  for (let goal = 1; goal <= 20; goal++) {
    answers.push(await scorer.score("cup", "home", 1));
  }
  assert.deepEqual(
    answers.map((game) => game.home.score),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  assert.ok(proxy.cut >= 10, `answers cut: ${proxy.cut}`);
  // Four scorers at once, each goal also cut half of the time: still each counted once.
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let goal = 0; goal < 10; goal++) {
      await scorer.event("cup", { kind: "goal", side: "away", points: 1 });
    }
  }));
  const game = await call(server.url, "/api/games/cup");
  assert.equal(game.json.home.score, 20);
  assert.equal(game.json.away.score, 40);
  assert.equal(game.json.events.length, 40);
  // No two goals share a key; every answer cut was asked for again (by the Scorer, or by the
  // runtime's own fetch, which resends a request whose connection closed with no answer at all).
  assert.equal(new Set(recorder.keys.slice(1)).size, 60, "one key per goal");
  assert.ok(
    recorder.keys.length > 61,
    "the Scorer itself sent some goals again, same key",
  );
  assert.ok(
    posts >= 60 + proxy.cut,
    `${posts} goals sent, ${proxy.cut} answers cut`,
  );
});

Deno.test("each method resolves to the game as the answer gives it, and remove to undefined", async () => {
  await using server = await startServer();
  const scorer = new Scorer({ server: server.url, token: TOKEN });
  const current = async () => (await call(server.url, "/api/games/g")).json;
  const created = await scorer.put("g", { ...teams, status: "live" }, {
    ifNoneMatch: "*",
  });
  assert.deepEqual(created, await current());
  assert.deepEqual(
    await scorer.patch("g", { period: "2nd half", home: { detail: "10 men" } }),
    await current(),
  );
  assert.deepEqual(
    await scorer.score("g", "away", 2, { ifMatch: (await current()).version }),
    await current(),
  );
  const withEvent = await scorer.event("g", {
    kind: "goal",
    side: "home",
    points: 1,
    text: "Okafor",
  });
  assert.equal(withEvent.events![0]!.text, "Okafor");
  assert.deepEqual(withEvent, await current());
  assert.deepEqual(
    await scorer.timer("g", { action: "start" }),
    await current(),
  );
  assert.deepEqual(
    await scorer.timer("g", { action: "set", elapsedMs: 60_000 }),
    await current(),
  );
  assert.deepEqual(await scorer.removeEvent("g", 1), await current());
  assert.equal((await current()).home.score, 0);
  assert.equal(await scorer.remove("g"), undefined);
  assert.equal((await call(server.url, "/api/games/g")).status, 404);
});

Deno.test("a refusal rejects at once with its status and problem document, is not retried, and changes nothing", async () => {
  await using server = await startServer();
  const recorder = recordingFetch();
  const scorer = new Scorer({
    server: server.url,
    token: TOKEN,
    fetch: recorder.fetch,
  });
  const game = await scorer.put("g", teams);
  const refusals: [() => Promise<unknown>, number, string][] = [
    [
      () => scorer.score("g", "home", 1, { ifMatch: game.version - 1 }),
      412,
      "precondition-failed",
    ],
    [() => scorer.score("g", "home", -1), 422, "score-out-of-range"],
    [() => scorer.score("nope", "home", 1), 404, "not-found"],
    [
      () => scorer.put("g", teams, { ifNoneMatch: "*" }),
      412,
      "precondition-failed",
    ],
    [
      () =>
        new Scorer({ server: server.url, token: "not-a-token-of-this-service" })
          .remove("g"),
      401,
      "unauthorized",
    ],
    // deno-lint-ignore no-explicit-any
    [() => scorer.put("g", { home: { name: "" } } as any), 400, "validation"],
  ];
  for (const [write, status, type] of refusals) {
    const before = recorder.keys.length;
    await assert.rejects(write, (error: ScorelineError) => {
      assert.ok(error instanceof ScorelineError);
      assert.equal(error.status, status);
      assert.equal(error.problem?.type, `/problems/${type}`);
      assert.equal(error.message, error.problem?.detail);
      return true;
    });
    assert.ok(recorder.keys.length - before <= 1, "not retried");
  }
  assert.equal(
    (await call(server.url, "/api/games/g")).json.version,
    game.version,
  );
});

Deno.test("a 503 with Retry-After is waited out and the write sent again with the same key", async () => {
  await using server = await startServer();
  const busy = () =>
    new Response(
      JSON.stringify({
        type: "/problems/unavailable",
        title: "busy",
        status: 503,
        detail: "busy",
      }),
      {
        status: 503,
        headers: {
          "content-type": "application/problem+json",
          "retry-after": "1",
        },
      },
    );
  const recorder = recordingFetch((n) => (n === 2 ? busy() : null));
  const scorer = recordedScorer(server.url, recorder);
  await scorer.put("g", teams);
  const scored = await scorer.score("g", "home", 3);
  assert.equal(scored.home.score, 3);
  assert.equal(recorder.keys.length, 3);
  assert.equal(
    recorder.keys[1],
    recorder.keys[2],
    "the retry repeats the first try's key",
  );
  assert.notEqual(
    recorder.keys[0],
    recorder.keys[1],
    "another call, another key",
  );
  // A Retry-After beyond what a scorer would wait for rejects instead of hanging the tap.
  const patient = new Scorer({
    server: server.url,
    token: TOKEN,
    maxRetryAfterMs: 500,
    fetch: recordingFetch(() => busy()).fetch,
  });
  await assert.rejects(
    () => patient.score("g", "home", 1),
    (error: ScorelineError) => error.status === 503,
  );
});
