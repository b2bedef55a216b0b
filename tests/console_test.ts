/**
 * The scorer console without a browser: the page and its files are served with a policy that
 * allows only this origin's scripts, it loads the client library from /client.js, and its
 * intents (static/console/intents.js, on the library's Scorer) keep a double tap, a write whose
 * answer never came and two scorers at once safe, against a real server.
 */
import assert from "node:assert/strict";
import { Scorer } from "../client/scoreline.js";
import { Intents } from "../static/console/intents.js";
import { call, gameBody } from "./support/http.ts";
import { SCOPED_TOKEN, startServer, TOKEN } from "./support/server.ts";

// deno-lint-ignore no-explicit-any
type Game = any;

Deno.test("/console is a page whose only scripts are this origin's files, and it may not be framed", async () => {
  await using server = await startServer();
  const page = await call(server.url, "/console");
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  const csp = page.headers.get("content-security-policy")!;
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /connect-src 'self'(;|$)/);
  assert.equal(page.headers.get("x-frame-options"), "DENY");
  assert.equal(page.headers.get("referrer-policy"), "no-referrer");
  assert.equal(page.headers.get("x-content-type-options"), "nosniff");
  assert.match(page.text, /<meta name="viewport" content="width=device-width/);
  for (const [, attributes, body] of page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(attributes!, / src="\/console\/[a-z]+\.js"/, "no inline script");
    assert.equal(body, "");
  }
  assert.doesNotMatch(page.text, /\son[a-z]+=/i, "no inline event handlers");
  assert.doesNotMatch(page.text, /<form[^>]*method="get"/i, "the token form never submits by GET");
  assert.match(page.text, /<input\s+id="token"[\s\S]*?type="password"/);

  const referenced = [...page.text.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) =>
    m[1]!
  );
  assert.deepEqual(referenced.sort(), ["/console/console.css", "/console/console.js"]);
  for (
    const [path, type] of [
      ["/console/console.js", "text/javascript; charset=utf-8"],
      ["/console/intents.js", "text/javascript; charset=utf-8"],
      ["/console/console.css", "text/css; charset=utf-8"],
    ]
  ) {
    const file = await call(server.url, path!);
    assert.equal(file.status, 200, path);
    assert.equal(file.headers.get("content-type"), type);
    assert.equal(file.headers.get("x-content-type-options"), "nosniff");
    assert.ok(file.text.length > 100);
    const again = await call(server.url, path!, {
      headers: { "if-none-match": file.headers.get("etag")! },
    });
    assert.equal(again.status, 304, `${path} revalidates`);
  }
  const js = await call(server.url, "/console/console.js");
  assert.match(js.text, /from "\.\/intents\.js"/);
  // Reads and writes go through the client library, never a copy of it: the import resolves,
  // from /console/console.js, to the /client.js the service serves.
  // It names the version served with it: the console's files are revalidated on every load
  // (no-cache), and must not run with a /client.js a browser cached from before a deploy.
  const library = /import \{[^}]*\} from "([^"]+)";/.exec(js.text)?.[1];
  assert.match(library ?? "", /^\.\.\/client\.js\?v=[0-9a-f]{16}$/);
  const resolved = new URL(library!, `${server.url}/console/console.js`);
  assert.equal(resolved.pathname, "/client.js");
  const client = await call(server.url, resolved.pathname + resolved.search);
  assert.equal(client.status, 200);
  assert.equal(client.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.equal(client.headers.get("etag"), `"${resolved.searchParams.get("v")}"`);
  assert.equal(client.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.match(client.text, /export function watch\(/);
  assert.match(client.text, /export class Scorer /);
  assert.doesNotMatch(js.text, /EventSource|new WebSocket|fetch\([^)]*method/);
  assert.match(js.text, /sessionStorage/, "the token is kept in sessionStorage");
  assert.doesNotMatch(js.text, /localStorage/, "and never in lasting storage");
});

Deno.test("/console/ redirects, and files that are not the console's are 404 problems", async () => {
  await using server = await startServer();
  const slash = await fetch(`${server.url}/console/`, { redirect: "manual" });
  await slash.body?.cancel();
  assert.equal(slash.status, 301);
  assert.equal(slash.headers.get("location"), "/console");
  for (const path of ["/console/index.html", "/console/..%2Fmain.ts", "/console/x.js"]) {
    const answer = await call(server.url, path);
    assert.equal(answer.status, 404, path);
    assert.equal(answer.headers.get("content-type"), "application/problem+json");
  }
});

async function createGame(url: string, id = "cup"): Promise<Game> {
  const put = await call(url, `/api/games/${id}`, {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
  });
  assert.equal(put.status, 201);
  return put.json;
}

async function gameOf(url: string, id = "cup"): Promise<Game> {
  const answer = await call(url, `/api/games/${id}`);
  assert.equal(answer.status, 200);
  return answer.json;
}

async function homeScore(url: string, id = "cup"): Promise<number> {
  return (await gameOf(url, id)).home.score;
}

/** Intents on a Scorer whose back-off is a millisecond, so a test never waits on it. */
function intentsFor(
  url: string,
  token = TOKEN,
  options: Partial<{ fetch: typeof fetch; retries: number }> = {},
) {
  const scorer = new Scorer({ server: url, token, retryMinMs: 1, retryMaxMs: 1, ...options });
  return new Intents({ scorer });
}

Deno.test("a double tap is one goal: the same intent, the same key, counted once", async () => {
  await using server = await startServer();
  const game = await createGame(server.url);
  const intents = intentsFor(server.url);
  const goal = { kind: "goal", side: "home", points: 1, text: "Okafor" };
  const first = intents.intent(game, "event", [goal]);
  const second = intents.intent(game, "event", [{ ...goal }]);
  assert.equal(second, first, "a tap on the same button for the same version is the same intent");
  const [a, b] = await Promise.all([intents.send(first), intents.send(second)]);
  assert.equal(a.kind, "ok");
  assert.equal(b, a, "a send while the first is on the wire joins it");
  const late = await intents.send(intents.intent(game, "event", [goal]));
  assert.equal(late.kind, "ok");
  assert.equal(late.replayed, true, "a tap after the answer, before the screen moved on");
  assert.equal(late.game.version, a.game.version);
  const after = await gameOf(server.url);
  assert.equal(after.home.score, 1);
  assert.deepEqual(after.events.map((e: Game) => [e.kind, e.side, e.text]), [
    ["goal", "home", "Okafor"],
  ]);
  const next = intents.intent(a.game, "event", [goal]);
  assert.notEqual(next.key, first.key, "a tap on the new score is a new goal");
  assert.equal((await intents.send(next)).kind, "ok");
  assert.equal(await homeScore(server.url), 2);
});

Deno.test("undo removes the last event once, even tapped twice, and takes its point back", async () => {
  await using server = await startServer();
  const game = await createGame(server.url);
  const intents = intentsFor(server.url);
  const added = await intents.send(
    intents.intent(game, "event", [{ kind: "goal", side: "away", points: 1 }]),
  );
  assert.equal(added.kind, "ok");
  const shown = added.game;
  const last = shown.events.at(-1).id;
  const undo = intents.intent(shown, "removeEvent", [last]);
  const [one, two] = await Promise.all([
    intents.send(undo),
    intents.send(intents.intent(shown, "removeEvent", [last])),
  ]);
  assert.equal(one.kind, "ok");
  assert.equal(two, one);
  const after = await gameOf(server.url);
  assert.equal(after.away.score, 0);
  assert.equal(after.events, undefined, "the timeline is empty again");
});

Deno.test("a timer start has no If-Match: a goal recorded meanwhile does not make it fail", async () => {
  await using server = await startServer();
  const game = await createGame(server.url);
  const intents = intentsFor(server.url);
  const other = intentsFor(server.url);
  assert.equal((await other.send(other.intent(game, "score", ["home", 1]))).kind, "ok");
  const started = await intents.send(
    intents.intent(game, "timer", [{ action: "start" }], { ifMatch: false }),
  );
  assert.equal(started.kind, "ok");
  assert.equal(started.game.timer.running, true);
  const goal = await intents.send(intents.intent(game, "score", ["home", 1]));
  assert.equal(goal.kind, "conflict", "a goal tapped on an old score is refused (If-Match)");
  assert.equal(await homeScore(server.url), 1);
});

Deno.test("a retry after the answer was lost reuses the key and counts once", async () => {
  await using server = await startServer();
  const game = await createGame(server.url);
  let calls = 0;
  // The request reaches the server and is applied, then the connection drops before the answer.
  const flaky: typeof fetch = async (input, init) => {
    calls++;
    const response = await fetch(input, init);
    if (calls === 1) {
      await response.body?.cancel();
      throw new TypeError("network connection was lost");
    }
    return response;
  };
  const intents = intentsFor(server.url, TOKEN, { fetch: flaky });
  const result = await intents.send(intents.intent(game, "score", ["home", 1]));
  assert.equal(calls, 2, "retried by the Scorer");
  assert.equal(result.kind, "ok");
  assert.equal(await homeScore(server.url), 1);
  assert.deepEqual(intents.pending, []);
});

Deno.test("when the service stays away past the Scorer's retries the change is pending, and sending it later counts once", async () => {
  await using server = await startServer();
  const game = await createGame(server.url);
  let down = true;
  let attempts = 0;
  const sometimes: typeof fetch = (input, init) => {
    attempts++;
    if (!down) return fetch(input, init);
    // A proxy's answer while the service restarts.
    return Promise.resolve(new Response("bad gateway", { status: 502 }));
  };
  const intents = intentsFor(server.url, TOKEN, { fetch: sometimes, retries: 2 });
  const intent = intents.intent(game, "event", [{ kind: "goal", side: "away", points: 1 }]);
  const failed = await intents.send(intent);
  assert.equal(failed.kind, "failed");
  assert.equal(attempts, 3, "the first try and the Scorer's two retries");
  assert.deepEqual(intents.pending, [intent]);
  down = false;
  const resent = await intents.resendPending();
  assert.equal(resent.length, 1);
  const [again, sent] = resent[0]!;
  assert.equal(again, intent);
  assert.equal(sent!.kind, "ok");
  assert.equal(sent!.game.away.score, 1);
  assert.deepEqual(intents.pending, []);
  const replay = await intents.send(intent);
  assert.equal(replay.kind, "ok");
  assert.equal(replay.replayed, true);
  const after = await gameOf(server.url);
  assert.equal(after.away.score, 1);
  assert.equal(after.events.length, 1);
});

Deno.test("two scorers record the same goal: the second is refused with 412 and nothing counts twice", async () => {
  await using server = await startServer();
  const game = await createGame(server.url);
  const alice = intentsFor(server.url);
  const bob = intentsFor(server.url);
  const a = await alice.send(alice.intent(game, "score", ["home", 1]));
  const b = await bob.send(bob.intent(game, "score", ["home", 1]));
  assert.equal(a.kind, "ok");
  assert.equal(b.kind, "conflict");
  assert.equal(await homeScore(server.url), 1);
  // Bob's screen now shows the new version; his tap on it goes through.
  const fresh = await gameOf(server.url);
  const again = await bob.send(bob.intent(fresh, "score", ["home", 1]));
  assert.equal(again.kind, "ok");
  assert.equal(await homeScore(server.url), 2);
});

Deno.test("intents tell a refused token, a token for other games and a missing game apart", async () => {
  await using server = await startServer();
  const game = await createGame(server.url);
  const wrong = intentsFor(server.url, "not-the-token-0000000");
  assert.equal((await wrong.send(wrong.intent(game, "score", ["home", 1]))).kind, "unauthorized");
  const scoped = intentsFor(server.url, SCOPED_TOKEN);
  assert.equal((await scoped.send(scoped.intent(game, "score", ["home", 1]))).kind, "forbidden");
  const intents = intentsFor(server.url);
  const below = await intents.send(intents.intent(game, "score", ["away", -1]));
  assert.equal(below.kind, "refused");
  assert.equal(below.status, 422);
  const create = intents.createIntent("cup", gameBody());
  assert.equal((await intents.send(create)).kind, "conflict", "creating never overwrites a game");
  const created = await intents.send(intents.createIntent("final", gameBody()));
  assert.equal(created.kind, "ok");
  assert.equal(created.created, true);
  const ghost = { ...game, id: "ghost" };
  assert.equal((await intents.send(intents.intent(ghost, "score", ["home", 1]))).kind, "conflict");
  const noEvent = await intents.send(intents.intent(game, "removeEvent", [9]));
  assert.equal(noEvent.kind, "gone");
});
