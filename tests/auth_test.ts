import assert from "node:assert/strict";
import { mayWrite, TokenVerifier } from "../core/auth.ts";
import { RateLimiter } from "../core/rate_limit.ts";
import { ManualClock } from "./support/clock.ts";

const verifier = new TokenVerifier([
  { token: "all-games-token-0000", games: null },
  { token: "volunteer-token-0001", games: new Set(["game-a"]) },
]);

Deno.test("a bearer token is recognised, and its scope never contains the token", () => {
  const principal = verifier.verify("Bearer all-games-token-0000");
  assert.ok(principal);
  assert.match(principal.scope, /^[0-9a-f]{64}$/);
  assert.ok(!principal.scope.includes("all-games"));
  assert.equal(verifier.verify("bearer  volunteer-token-0001 ")?.games?.has("game-a"), true);
});

Deno.test("anything but a configured bearer token grants nothing", () => {
  for (
    const header of [
      undefined,
      "",
      "Bearer",
      "Basic all-games-token-0000",
      "Bearer all-games-token-000",
      "Bearer all-games-token-00000",
    ]
  ) {
    assert.equal(verifier.verify(header), null, String(header));
  }
});

Deno.test("a scoped token may write only its games", () => {
  const scoped = verifier.verify("Bearer volunteer-token-0001")!;
  assert.equal(mayWrite(scoped, "game-a"), true);
  assert.equal(mayWrite(scoped, "game-b"), false);
  assert.equal(mayWrite(verifier.verify("Bearer all-games-token-0000")!, "game-b"), true);
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
