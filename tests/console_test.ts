/**
 * The scorer console without a browser: the page and its files are served with a policy that
 * allows only this origin's scripts, and the write logic (static/console/writer.js, the module
 * the page uses) keeps a double tap, a retry after a lost answer and two scorers at once safe,
 * against a real server.
 */
import assert from "node:assert/strict";
import { Writer } from "../static/console/writer.js";
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
      ["/console/writer.js", "text/javascript; charset=utf-8"],
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
  assert.match(js.text, /from "\.\/writer\.js"/);
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

async function homeScore(url: string, id = "cup"): Promise<number> {
  const answer = await call(url, `/api/games/${id}`);
  assert.equal(answer.status, 200);
  return answer.json.home.score;
}

const noWait = () => Promise.resolve();

Deno.test("a double tap is one goal: the same intent, the same key, counted once", async () => {
  await using server = await startServer();
  const game = await createGame(server.url);
  const writer = new Writer({ token: TOKEN, base: server.url, wait: noWait });
  const path = `/api/games/cup/score`;
  const first = writer.intent(game, "POST", path, { side: "home", points: 1 });
  const second = writer.intent(game, "POST", path, { side: "home", points: 1 });
  assert.equal(second, first, "a tap on the same button for the same version is the same intent");
  const [a, b] = await Promise.all([writer.send(first), writer.send(second)]);
  assert.equal(a.kind, "ok");
  assert.equal(b, a, "a send while the first is on the wire joins it");
  const late = await writer.send(writer.intent(game, "POST", path, { side: "home", points: 1 }));
  assert.equal(late.kind, "ok");
  assert.equal(late.replayed, true, "a tap after the answer, before the screen moved on");
  assert.equal(late.version, a.version);
  assert.equal(await homeScore(server.url), 1);
  const next = writer.intent(a.game, "POST", path, { side: "home", points: 1 });
  assert.notEqual(next.key, first.key, "a tap on the new score is a new goal");
  assert.equal((await writer.send(next)).kind, "ok");
  assert.equal(await homeScore(server.url), 2);
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
  const writer = new Writer({ token: TOKEN, base: server.url, fetch: flaky, wait: noWait });
  const result = await writer.send(
    writer.intent(game, "POST", "/api/games/cup/score", { side: "home", points: 1 }),
  );
  assert.equal(calls, 2, "retried by itself");
  assert.equal(result.kind, "ok");
  assert.equal(result.replayed, true, "the second answer is the first one, replayed");
  assert.equal(await homeScore(server.url), 1);
});

Deno.test("when the network stays down the writer gives up, and sending the intent later counts once", async () => {
  await using server = await startServer();
  const game = await createGame(server.url);
  let down = true;
  let attempts = 0;
  const sometimes: typeof fetch = (input, init) => {
    attempts++;
    return down ? Promise.reject(new TypeError("offline")) : fetch(input, init);
  };
  const waits: number[] = [];
  const writer = new Writer({
    token: TOKEN,
    base: server.url,
    fetch: sometimes,
    wait: (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  const intent = writer.intent(game, "POST", "/api/games/cup/score", { side: "away", points: 1 });
  const failed = await writer.send(intent);
  assert.equal(failed.kind, "failed");
  assert.equal(attempts, 4, "the first try and three retries");
  assert.deepEqual(waits, [400, 1000, 2500]);
  down = false;
  const sent = await writer.send(intent);
  assert.equal(sent.kind, "ok");
  assert.equal(sent.game.away.score, 1);
  assert.equal((await writer.send(intent)).replayed, true);
  const answer = await call(server.url, "/api/games/cup");
  assert.equal(answer.json.away.score, 1);
});

Deno.test("two scorers record the same goal: the second is refused with 412 and nothing counts twice", async () => {
  await using server = await startServer();
  const game = await createGame(server.url);
  const alice = new Writer({ token: TOKEN, base: server.url, wait: noWait });
  const bob = new Writer({ token: TOKEN, base: server.url, wait: noWait });
  const body = { side: "home", points: 1 };
  const a = await alice.send(alice.intent(game, "POST", "/api/games/cup/score", body));
  const b = await bob.send(bob.intent(game, "POST", "/api/games/cup/score", body));
  assert.equal(a.kind, "ok");
  assert.equal(b.kind, "conflict");
  assert.equal(await homeScore(server.url), 1);
  // Bob's screen now shows the new version; his tap on it goes through.
  const fresh = (await call(server.url, "/api/games/cup")).json;
  const again = await bob.send(bob.intent(fresh, "POST", "/api/games/cup/score", body));
  assert.equal(again.kind, "ok");
  assert.equal(await homeScore(server.url), 2);
});

Deno.test("the writer tells a refused token, a token for other games and a missing game apart", async () => {
  await using server = await startServer();
  const game = await createGame(server.url);
  const body = { side: "home", points: 1 };
  const wrong = new Writer({ token: "not-the-token-0000000", base: server.url, wait: noWait });
  assert.equal(
    (await wrong.send(wrong.intent(game, "POST", "/api/games/cup/score", body))).kind,
    "unauthorized",
  );
  const scoped = new Writer({ token: SCOPED_TOKEN, base: server.url, wait: noWait });
  assert.equal(
    (await scoped.send(scoped.intent(game, "POST", "/api/games/cup/score", body))).kind,
    "forbidden",
  );
  const writer = new Writer({ token: TOKEN, base: server.url, wait: noWait });
  const below = await writer.send(
    writer.intent(game, "POST", "/api/games/cup/score", { side: "away", points: -1 }),
  );
  assert.equal(below.kind, "refused");
  assert.equal(below.status, 422);
  const create = writer.createIntent("cup", gameBody());
  assert.equal((await writer.send(create)).kind, "conflict", "creating never overwrites a game");
  const created = await writer.send(writer.createIntent("final", gameBody()));
  assert.equal(created.kind, "ok");
  assert.equal(created.created, true);
  const ghost = { ...game, id: "ghost" };
  assert.equal(
    (await writer.send(writer.intent(ghost, "POST", "/api/games/ghost/score", body))).kind,
    "conflict",
  );
});
