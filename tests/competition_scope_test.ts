/**
 * Scopes by competition end to end: a `competition:` token entry and a JWT whose `scoreline` claim
 * names competitions write the games of those competitions, create games in them, and nothing
 * else. The decisions themselves are unit-tested in auth_test.ts.
 */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { ManualClock } from "./support/clock.ts";
import { call, gameBody } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

const CUP_TOKEN = "test-token-cup-scorer-0003";
const SECRET = "a-test-secret-of-at-least-32-bytes-long";

Deno.test("a competition-scoped token writes that competition's games and creates games in it, nothing else", async () => {
  await using server = await startServer({
    env: { SCORELINE_TOKENS: `${TOKEN},${CUP_TOKEN}=competition:cup` },
  });
  const put = (id: string, token: string, competition?: string) =>
    call(server.url, `/api/games/${id}`, {
      method: "PUT",
      token,
      body: gameBody(0, 0, competition ? { competition } : {}),
    });
  assert.equal((await put("final", TOKEN, "cup")).status, 201);
  assert.equal((await put("derby", TOKEN, "league")).status, 201);
  assert.equal((await put("friendly", TOKEN)).status, 201);

  const goal = (id: string) =>
    call(server.url, `/api/games/${id}/score`, {
      method: "POST",
      token: CUP_TOKEN,
      body: { side: "home", points: 1 },
    });
  const inCup = await goal("final");
  assert.equal(inCup.status, 200);
  assert.equal(inCup.json.home.score, 1);
  for (const id of ["derby", "friendly"]) {
    const refused = await goal(id);
    assert.equal(refused.status, 403, id);
    assert.equal(refused.headers.get("content-type"), "application/problem+json");
    assert.equal(refused.json.type, "/problems/forbidden");
  }

  assert.equal((await put("semi", CUP_TOKEN, "cup")).status, 201, "created in its competition");
  assert.equal((await put("other", CUP_TOKEN, "league")).status, 403, "not in another");
  assert.equal((await put("loose", CUP_TOKEN)).status, 403, "nor in none");
  assert.equal((await call(server.url, "/api/games/other")).status, 404, "nothing was created");
  assert.equal((await call(server.url, "/api/games/derby")).json.home.score, 0, "nothing changed");
});

Deno.test("a JWT scoped to competitions writes their games and is refused elsewhere with 403", async () => {
  const clock = new ManualClock(Date.UTC(2026, 11, 7, 18));
  await using server = await startServer({ clock, env: { SCORELINE_JWT_SECRET: SECRET } });
  for (const [id, competition] of [["final", "cup"], ["derby", "league"]]) {
    const created = await call(server.url, `/api/games/${id}`, {
      method: "PUT",
      token: TOKEN,
      body: gameBody(0, 0, { competition }),
    });
    assert.equal(created.status, 201);
  }
  const jwt = await new SignJWT({ sub: "cup-scorer", scoreline: { competitions: ["cup"] } })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(Math.floor(clock.now() / 1000) + 600)
    .sign(new TextEncoder().encode(SECRET));
  const patch = (id: string) =>
    call(server.url, `/api/games/${id}`, { method: "PATCH", token: jwt, body: { period: "2nd" } });
  const allowed = await patch("final");
  assert.equal(allowed.status, 200);
  assert.equal(allowed.json.period, "2nd");
  const refused = await patch("derby");
  assert.equal(refused.status, 403);
  assert.equal(refused.headers.get("content-type"), "application/problem+json");
  assert.equal((await call(server.url, "/api/games/derby")).json.period, undefined);
});
