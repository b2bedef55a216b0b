import assert from "node:assert/strict";
import {
  ALL_GAMES,
  bearerOf,
  competitionOf,
  jwtPrincipal,
  looksLikeJwt,
  MAX_BEARER_LENGTH,
  mayWrite,
  type Principal,
  scopeOfClaim,
  TokenVerifier,
  withinScope,
  writeAccess,
  type WriteScope,
} from "../core/auth.ts";
import { RateLimiter } from "../core/rate_limit.ts";
import type { Decision, Mutation } from "../core/scoreboard.ts";
import type { Game, GameBody } from "../core/schema.ts";
import { ManualClock } from "./support/clock.ts";

const scope = (games: string[], competitions: string[] = []): WriteScope => ({
  games: new Set(games),
  competitions: new Set(competitions),
});

const verifier = new TokenVerifier([
  { token: "all-games-token-0000", writes: ALL_GAMES },
  { token: "volunteer-token-0001", writes: scope(["game-a"]) },
]);

/** A principal with this scope, as any source (token or JWT) would make it. */
function principal(writes: WriteScope): Principal {
  return jwtPrincipal({ sub: "tester" }, "x.y.z", writes);
}

Deno.test("a static token is recognised, and its principal never contains the token", () => {
  const found = verifier.verify("all-games-token-0000");
  assert.ok(found);
  assert.match(found.scope, /^[0-9a-f]{64}$/);
  assert.equal(found.who, `token:${found.scope.slice(0, 12)}`);
  assert.equal(found.unscoped, true);
  assert.ok(!JSON.stringify(found).includes("all-games"));
  const volunteer = verifier.verify("volunteer-token-0001");
  assert.equal(volunteer?.unscoped, false);
});

Deno.test("anything but a configured token grants nothing", () => {
  for (
    const token of ["", "all-games-token-000", "all-games-token-00000", "ALL-GAMES-TOKEN-0000"]
  ) {
    assert.equal(verifier.verify(token), null, token);
  }
});

Deno.test("the bearer is read from Authorization: Bearer only, and bounded in size", () => {
  assert.deepEqual(bearerOf(undefined), { kind: "none" });
  assert.deepEqual(bearerOf("bearer  tok-en "), { kind: "token", value: "tok-en" });
  for (
    const header of [
      "",
      "Bearer",
      "Basic dGVzdDp0ZXN0",
      "Bearer a b",
      "Bearer é",
      `Bearer ${"x".repeat(MAX_BEARER_LENGTH + 1)}`,
      `Bearer ${"x".repeat(1_000_000)}`,
    ]
  ) {
    assert.deepEqual(bearerOf(header), { kind: "malformed" }, header.slice(0, 20));
  }
  assert.equal(bearerOf(`Bearer ${"x".repeat(MAX_BEARER_LENGTH)}`).kind, "token");
});

Deno.test("only a three-part base64url token is taken for a JWT", () => {
  assert.equal(looksLikeJwt("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln"), true);
  assert.equal(looksLikeJwt("eyJhbGciOiJub25lIn0.eyJleHAiOjF9."), true, "alg none still parses");
  for (const token of ["abc", "a.b", "a.b.c.d", "a+b.c.d", "Zm9vYmFy=.a.b", ".a.b"]) {
    assert.equal(looksLikeJwt(token), false, token);
  }
});

Deno.test("a scope decides on the id alone when it can: every game, a listed game, or no way in", () => {
  assert.equal(writeAccess(principal(ALL_GAMES), "any"), "granted");
  assert.equal(writeAccess(principal(scope(["game-a"])), "game-a"), "granted");
  assert.equal(writeAccess(principal(scope(["game-a"])), "game-b"), "denied");
  assert.equal(writeAccess(principal(scope([], ["cup"])), "game-b"), "by-competition");
  assert.equal(writeAccess(principal(scope(["game-a"], ["cup"])), "game-a"), "granted");
});

Deno.test("a competition scope grants the games of that competition and nothing else", () => {
  const cupScorer = principal(scope(["friendly"], ["cup", "shield"]));
  const cases: [string, string | undefined, boolean][] = [
    ["final", "cup", true],
    ["semi", "shield", true],
    ["final", "league", false],
    ["final", undefined, false], // a game in no competition (or one not known): no
    ["friendly", undefined, true], // listed by id: its competition does not matter
    ["friendly", "league", true],
  ];
  for (const [id, competition, allowed] of cases) {
    assert.equal(mayWrite(cupScorer, id, competition), allowed, `${id} in ${competition}`);
  }
  assert.equal(mayWrite(principal(ALL_GAMES), "x", undefined), true);
  assert.equal(mayWrite(principal(scope(["a"])), "b", "cup"), false);
  assert.equal(mayWrite(principal(scope([], [])), "a", "cup"), false, "an empty scope grants none");
});

Deno.test("a game's competition is read defensively: no string, no competition", () => {
  assert.equal(competitionOf(undefined), undefined);
  assert.equal(competitionOf({ competition: "cup" } as unknown as Game), "cup");
  assert.equal(competitionOf({ competition: 7 } as unknown as Game), undefined);
  assert.equal(competitionOf({ status: "live" } as unknown as GameBody), undefined);
});

const game = (competition?: string) => ({ id: "final", competition }) as unknown as Game;
const put = (competition?: string): Decision => ({
  kind: "put",
  body: { competition } as unknown as GameBody,
});

Deno.test("a competition scope is decided inside the commit, against the game as it is then", () => {
  const cupScorer = principal(scope([], ["cup"]));
  let calls = 0;
  const counting = (decision: Decision): Mutation => () => (calls++, decision);
  const forbidden = (d: Decision) => d.kind === "reject" && d.rejection.code === "forbidden";

  // Created in the scorer's competition: allowed; in another, or in none: refused.
  assert.deepEqual(withinScope(cupScorer, "final", counting(put("cup")))(undefined, 0), put("cup"));
  assert.ok(forbidden(withinScope(cupScorer, "final", counting(put("league")))(undefined, 0)));
  assert.ok(forbidden(withinScope(cupScorer, "final", counting(put(undefined)))(undefined, 0)));

  // An existing game of another competition is refused before the write is even decided.
  calls = 0;
  assert.ok(forbidden(withinScope(cupScorer, "final", counting(put("cup")))(game("league"), 0)));
  assert.equal(calls, 0);
  assert.deepEqual(
    withinScope(cupScorer, "final", counting(put("cup")))(game("cup"), 0),
    put("cup"),
  );

  // Allowed as it is but not as it would be stored (a move to another competition): refused.
  assert.ok(forbidden(withinScope(cupScorer, "final", counting(put("league")))(game("cup"), 0)));

  // A write that stores nothing needs no scope: its own answer (404, 412) stands.
  const notFound: Decision = { kind: "reject", rejection: { code: "not_found", detail: "no" } };
  assert.deepEqual(withinScope(cupScorer, "final", counting(notFound))(undefined, 0), notFound);
  const remove: Decision = { kind: "delete" };
  assert.deepEqual(withinScope(cupScorer, "final", counting(remove))(game("cup"), 0), remove);
  assert.ok(forbidden(withinScope(cupScorer, "final", counting(remove))(game("league"), 0)));
});

Deno.test("a delete and re-create in another competition between check and commit cannot slip a write through", () => {
  // The request was checked while the game was in "cup"; by the commit it was deleted and made
  // again in "league". The mutation runs against the game at the commit, and refuses.
  const cupScorer = principal(scope([], ["cup"]));
  const score: Mutation = (current) =>
    current ? { kind: "put", body: { ...current } as unknown as GameBody } : {
      kind: "reject",
      rejection: { code: "not_found", detail: "no such game" },
    };
  const mutate = withinScope(cupScorer, "final", score);
  assert.equal(mutate(game("cup"), 0).kind, "put");
  const later = mutate(game("league"), 0);
  assert.equal(later.kind === "reject" && later.rejection.code, "forbidden");
});

Deno.test("unscoped and game-listed principals get their mutation unchanged", () => {
  const mutate: Mutation = () => put("anything");
  assert.equal(withinScope(principal(ALL_GAMES), "final", mutate), mutate);
  assert.equal(withinScope(principal(scope(["final"])), "final", mutate), mutate);
});

Deno.test("the scoreline claim is * or lists of games and competitions; anything else is no scope", () => {
  assert.equal(scopeOfClaim("*"), ALL_GAMES);
  assert.deepEqual(scopeOfClaim({ games: ["a", "b"] }), scope(["a", "b"]));
  assert.deepEqual(scopeOfClaim({ competitions: ["cup"] }), scope([], ["cup"]));
  assert.deepEqual(scopeOfClaim({ games: ["a"], competitions: ["cup"] }), scope(["a"], ["cup"]));
  assert.deepEqual(scopeOfClaim({}), scope([]));
  for (
    const bad of [
      undefined,
      null,
      "",
      "all",
      ["a"],
      7,
      { games: "a" },
      { games: ["Bad Id"] },
      { games: [1] },
      { competitions: ["cup final"] },
      { games: ["a"], admin: true },
      { games: Array.from({ length: 1001 }, (_, i) => `g${i}`) },
    ]
  ) {
    assert.equal(scopeOfClaim(bad), null, JSON.stringify(bad)?.slice(0, 40));
  }
});

Deno.test("a JWT principal is its subject: who is jwt:<sub>, and its retries share one scope", () => {
  const first = jwtPrincipal({ sub: "alice", iss: "https://id.example" }, "t1.a.b", ALL_GAMES);
  const refreshed = jwtPrincipal({ sub: "alice", iss: "https://id.example" }, "t2.c.d", ALL_GAMES);
  assert.equal(first.who, "jwt:alice");
  assert.equal(first.scope, refreshed.scope, "a fresh JWT of the same subject replays");
  assert.notEqual(first.scope, jwtPrincipal({ sub: "bob" }, "t1.a.b", ALL_GAMES).scope);
  const anonymous = jwtPrincipal({}, "t3.e.f", scope(["a"]));
  assert.match(anonymous.who, /^jwt:#[0-9a-f]{12}$/);
  assert.equal(anonymous.unscoped, false);
  assert.ok(!anonymous.who.includes("t3"));
});

Deno.test("the write rate allows bursts of twice the rate, then one write per 1/rate seconds", () => {
  const clock = new ManualClock();
  const limiter = new RateLimiter(5, 10, clock);
  for (let i = 0; i < 10; i++) assert.deepEqual(limiter.take("t"), { ok: true });
  assert.deepEqual(limiter.take("t"), { ok: false, retryAfter: 1 });
  assert.deepEqual(limiter.take("other"), { ok: true }, "buckets are per key");
  clock.advance(200);
  assert.deepEqual(limiter.take("t"), { ok: true });
  assert.equal(limiter.take("t").ok, false);
  assert.deepEqual(new RateLimiter(0, 0, clock).take("t"), { ok: true }, "0 turns it off");
});

Deno.test("a rate limiter remembers only keys used within the time a bucket takes to refill", () => {
  const clock = new ManualClock();
  const limiter = new RateLimiter(50, 100, clock);
  // A client cycling through addresses (an IPv6 /64 has 2^64 of them), one new feed each.
  for (let i = 0; i < 5000; i++) {
    limiter.take(`address-${i}`);
    clock.advance(1);
  }
  assert.ok(limiter.size <= 2001, `${limiter.size} buckets kept: those of the last 2 s`);
  for (let i = 0; i < 100; i++) limiter.take("busy");
  assert.equal(limiter.take("busy").ok, false, "an empty bucket is not forgotten early");
  clock.advance(2000);
  assert.deepEqual(limiter.take("busy"), { ok: true });
});
