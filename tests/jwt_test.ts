/**
 * JWT bearers end to end, with real keys generated here and a key set served by the test itself
 * (support/jwks.ts): HS256 with a secret; RS256, ES256 and EdDSA from a JWKS URL; scopes from the
 * `scoreline` claim; every kind of bad JWT refused with 401 `invalid_token` and nothing changed;
 * a key rotation picked up on an unknown kid without letting random kids flood the key set host;
 * a key set that cannot be fetched answered 503, not 401.
 */
import assert from "node:assert/strict";
import { CompactSign, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { createLogger } from "../core/log.ts";
import { ManualClock } from "./support/clock.ts";
import { type Answer, call, gameBody } from "./support/http.ts";
import { serveJwks } from "./support/jwks.ts";
import { startServer, type TestServer, TOKEN } from "./support/server.ts";

const SECRET = "a-test-secret-of-at-least-32-bytes-long";
const secretKey = new TextEncoder().encode(SECRET);

type Claims = Record<string, unknown>;

function base64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Signs claims; the key decides the algorithm unless the header names one. */
function sign(
  claims: Claims,
  key: CryptoKey | Uint8Array = secretKey,
  header: { alg?: string; kid?: string } = {},
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", ...header }).sign(key);
}

/** A correctly signed JWS whose payload is not a JSON object. */
function signBytes(payload: string): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: "HS256" })
    .sign(secretKey);
}

/** Claims that pass, at the time of `clock`: valid for an hour, every game. */
function claimsAt(clock: ManualClock, extra: Claims = {}): Claims {
  return { sub: "alice", exp: Math.floor(clock.now() / 1000) + 3600, scoreline: "*", ...extra };
}

function put(server: TestServer, id: string, token: string, headers = {}): Promise<Answer> {
  return call(server.url, `/api/games/${id}`, {
    method: "PUT",
    token,
    body: gameBody(1, 0),
    headers,
  });
}

function assertRefused(answer: Answer, detail: RegExp, label: string): void {
  assert.equal(answer.status, 401, `${label}: ${answer.text}`);
  assert.equal(answer.headers.get("content-type"), "application/problem+json", label);
  assert.equal(answer.headers.get("www-authenticate"), 'Bearer error="invalid_token"', label);
  assert.equal(answer.json.type, "/problems/unauthorized", label);
  assert.match(answer.json.detail, detail, label);
}

async function keyPair(alg: "RS256" | "ES256" | "EdDSA", kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { privateKey, jwk, sign: (claims: Claims) => sign(claims, privateKey, { alg, kid }) };
}

Deno.test("a JWT signed with the secret writes within its scoreline scope, and is 403 outside it", async () => {
  const clock = new ManualClock();
  const lines: Record<string, unknown>[] = [];
  await using server = await startServer({
    clock,
    env: { SCORELINE_JWT_SECRET: SECRET },
    log: createLogger("info", (line) => lines.push(JSON.parse(line))),
  });
  const everyGame = await sign(claimsAt(clock));
  const created = await put(server, "cup", everyGame);
  assert.equal(created.status, 201);
  assert.equal(created.headers.get("content-type"), "application/json");
  assert.equal(created.json.id, "cup");
  assert.equal(lines.at(-1)!.scorer, "jwt:alice", "the log names the JWT's subject");
  assert.ok(!JSON.stringify(lines).includes(everyGame), "and never the JWT");

  const scoped = await sign(claimsAt(clock, { scoreline: { games: ["game-a"] } }));
  assert.equal((await put(server, "game-a", scoped)).status, 201);
  const other = await put(server, "game-b", scoped);
  assert.equal(other.status, 403);
  assert.equal(other.headers.get("content-type"), "application/problem+json");
  assert.equal(other.json.type, "/problems/forbidden");

  // Games carry no competition yet: a competition-only scope may write none of them.
  const byCompetition = await sign(claimsAt(clock, { scoreline: { competitions: ["cup-2026"] } }));
  const refused = await put(server, "cup", byCompetition);
  assert.equal(refused.status, 403);
  assert.equal(refused.json.type, "/problems/forbidden");
  assert.equal((await call(server.url, "/api/games/cup")).json.version, created.json.version);

  // Static tokens still work beside JWTs.
  assert.equal((await put(server, "cup", TOKEN)).status, 200);
});

Deno.test("malformed, expired, unsigned and foreign JWTs are 401 invalid_token and change nothing", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock, env: { SCORELINE_JWT_SECRET: SECRET } });
  await put(server, "cup", TOKEN);
  const before = await call(server.url, "/api/games");
  const now = Math.floor(clock.now() / 1000);
  const rsa = await keyPair("RS256", "k1");
  const good = claimsAt(clock);
  const other = new TextEncoder().encode("another-secret-of-at-least-32-bytes!");
  const [header, payload] = (await sign(good)).split(".");
  const cases: [string, string, RegExp][] = [
    ["alg none", `${base64url({ alg: "none" })}.${payload}.`, /algorithm/],
    ["alg none, signed", `${base64url({ alg: "none" })}.${payload}.c2ln`, /algorithm/],
    ["HS512", await sign(good, secretKey, { alg: "HS512" }), /algorithm/],
    ["RS256 with no key set", await rsa.sign(good), /algorithm/],
    ["expired", await sign({ ...good, exp: now - 3600 }), /expired/],
    ["not valid before an hour from now", await sign({ ...good, nbf: now + 3600 }), /nbf/],
    ["signed with another secret", await sign(good, other), /signature/],
    [
      "another signature",
      `${header}.${payload}.${(await sign(good, other)).split(".")[2]}`,
      /signature/,
    ],
    ["no exp", await sign({ sub: "alice", scoreline: "*" }), /exp/],
    ["no scoreline claim", await sign({ ...good, scoreline: undefined }), /scoreline/],
    ["scoreline not * or lists", await sign({ ...good, scoreline: "all" }), /scoreline/],
    [
      "scoreline games not a list",
      await sign({ ...good, scoreline: { games: "cup" } }),
      /scoreline/,
    ],
    [
      "scoreline with a bad id",
      await sign({ ...good, scoreline: { games: ["Cup"] } }),
      /scoreline/,
    ],
    ["sub a number", await sign({ ...good, sub: 42 }), /sub/],
    ["exp a string", await sign({ ...good, exp: "tomorrow" }), /exp/],
    ["header not JSON", `${btoa("{alg").replace(/=+$/, "")}.${payload}.c2ln`, /malformed/],
    ["signed payload not JSON", await signBytes("not json"), /malformed/],
    ["huge", await sign({ ...good, pad: "x".repeat(9000) }), /at most 8192/],
  ];
  for (const [label, token, detail] of cases) {
    assertRefused(await put(server, "cup", token), detail, label);
    assertRefused(
      await call(server.url, "/api/games/cup/score", {
        method: "POST",
        token,
        body: { side: "home", points: 1 },
      }),
      detail,
      `${label} (score)`,
    );
  }
  const after = await call(server.url, "/api/games");
  assert.deepEqual(after.json, before.json, "nothing changed");
});

Deno.test("with an audience configured, aud must name it", async () => {
  const clock = new ManualClock();
  await using server = await startServer({
    clock,
    env: { SCORELINE_JWT_SECRET: SECRET, SCORELINE_JWT_AUDIENCE: "scoreline" },
  });
  assertRefused(await put(server, "a", await sign(claimsAt(clock))), /aud/, "no aud");
  assertRefused(
    await put(server, "a", await sign(claimsAt(clock, { aud: "billing" }))),
    /aud/,
    "another aud",
  );
  assert.equal(
    (await put(server, "a", await sign(claimsAt(clock, { aud: "scoreline" })))).status,
    201,
  );
  const listed = await sign(claimsAt(clock, { aud: ["billing", "scoreline"] }));
  assert.equal((await put(server, "a", listed)).status, 200);
});

Deno.test("RS256, ES256 and EdDSA JWTs verify against a key set the test serves", async () => {
  const clock = new ManualClock();
  const keys = [
    await keyPair("RS256", "rsa-1"),
    await keyPair("ES256", "ec-1"),
    await keyPair("EdDSA", "ed-1"),
  ];
  await using jwks = serveJwks(keys.map((k) => k.jwk));
  await using server = await startServer({ clock, env: { SCORELINE_JWKS_URL: jwks.url } });
  for (const [i, key] of keys.entries()) {
    const answer = await put(server, `game-${i}`, await key.sign(claimsAt(clock)));
    assert.equal(answer.status, 201, `${key.jwk.alg}: ${answer.text}`);
    assert.equal(answer.headers.get("content-type"), "application/json");
    assert.equal(answer.json.id, `game-${i}`);
  }
  assert.equal(jwks.fetches, 1, "the key set was fetched once and cached");
  // HS256 is not accepted when no secret is configured, whatever it is signed with.
  assertRefused(await put(server, "game-0", await sign(claimsAt(clock))), /algorithm/, "HS256");
});

Deno.test("a key set's public key is never accepted as an HS256 secret (algorithm confusion)", async () => {
  const clock = new ManualClock();
  const rsa = await keyPair("RS256", "rsa-1");
  await using jwks = serveJwks([rsa.jwk]);
  await using server = await startServer({
    clock,
    env: { SCORELINE_JWT_SECRET: SECRET, SCORELINE_JWKS_URL: jwks.url },
  });
  for (const forged of [JSON.stringify(rsa.jwk), rsa.jwk.n!]) {
    const token = await sign(claimsAt(clock), new TextEncoder().encode(forged), { kid: "rsa-1" });
    assertRefused(await put(server, "cup", token), /signature/, "HS256 with the public key");
  }
  assert.equal((await put(server, "cup", await rsa.sign(claimsAt(clock)))).status, 201);
});

Deno.test("a rotated key is picked up on its unknown kid, and random kids never flood the key set host", async () => {
  const clock = new ManualClock();
  const first = await keyPair("ES256", "2026-01");
  const second = await keyPair("ES256", "2026-02");
  await using jwks = serveJwks([first.jwk]);
  await using server = await startServer({ clock, env: { SCORELINE_JWKS_URL: jwks.url } });
  assert.equal((await put(server, "cup", await first.sign(claimsAt(clock)))).status, 201);
  assert.equal(jwks.fetches, 1);

  // The identity provider rotates. Right after a fetch, an unknown kid does not fetch again.
  jwks.keys = [second.jwk];
  const fresh = await second.sign(claimsAt(clock));
  assertRefused(await put(server, "cup", fresh), /kid/, "within the cooldown");
  for (let i = 0; i < 20; i++) {
    const stranger = await keyPair("ES256", `random-${i}`);
    assertRefused(await put(server, "cup", await stranger.sign(claimsAt(clock))), /kid/, "random");
  }
  assert.equal(jwks.fetches, 1, "twenty-one unknown kids, no fetch");

  // Once the cooldown has passed, an unknown kid fetches the set again, once.
  clock.advance(30_000);
  assert.equal((await put(server, "cup", await second.sign(claimsAt(clock)))).status, 200);
  assert.equal(jwks.fetches, 2);
  assertRefused(await put(server, "cup", await first.sign(claimsAt(clock))), /kid/, "retired key");
  assert.equal(jwks.fetches, 2);
});

Deno.test("a key set that cannot be fetched answers JWT writes 503 with Retry-After, not 401, and recovers", async () => {
  const clock = new ManualClock();
  const key = await keyPair("RS256", "k1");
  await using jwks = serveJwks([key.jwk]);
  jwks.mode = "error";
  const lines: Record<string, unknown>[] = [];
  await using server = await startServer({
    clock,
    env: { SCORELINE_JWKS_URL: jwks.url },
    log: createLogger("info", (line) => lines.push(JSON.parse(line))),
  });
  const token = await key.sign(claimsAt(clock));
  const down = await put(server, "cup", token);
  assert.equal(down.status, 503);
  assert.equal(down.headers.get("content-type"), "application/problem+json");
  assert.equal(down.headers.get("retry-after"), "5");
  assert.equal(down.json.type, "/problems/unavailable");
  assert.ok(
    lines.some((line) => line.msg === "the JWT key set could not be fetched"),
    "the failure is logged",
  );
  // Further JWT writes wait for the retry time instead of fetching again.
  assert.equal((await put(server, "cup", token)).status, 503);
  assert.equal(jwks.fetches, 1);
  assert.equal((await put(server, "cup", TOKEN)).status, 201, "static tokens still write");

  jwks.mode = "ok";
  clock.advance(5_000);
  assert.equal((await put(server, "cup", token)).status, 200);
  assert.equal(jwks.fetches, 2);
});

Deno.test("a key set host that does not answer is a 503 once the fetch times out", async () => {
  const clock = new ManualClock();
  const key = await keyPair("EdDSA", "k1");
  await using jwks = serveJwks([key.jwk]);
  jwks.mode = "hang";
  await using server = await startServer({
    clock,
    env: { SCORELINE_JWKS_URL: jwks.url },
    keySetTiming: { timeoutMs: 100 },
  });
  const answer = await put(server, "cup", await key.sign(claimsAt(clock)));
  assert.equal(answer.status, 503);
  assert.equal(answer.headers.get("content-type"), "application/problem+json");
  assert.match(answer.headers.get("retry-after") ?? "", /^[1-9][0-9]*$/);
});

Deno.test("a retry with a fresh JWT of the same subject gets the first answer again", async () => {
  const clock = new ManualClock();
  await using server = await startServer({ clock, env: { SCORELINE_JWT_SECRET: SECRET } });
  await put(server, "cup", TOKEN);
  const goal = (token: string) =>
    call(server.url, "/api/games/cup/score", {
      method: "POST",
      token,
      body: { side: "home", points: 1 },
      headers: { "idempotency-key": "goal-7" },
    });
  const first = await goal(await sign(claimsAt(clock, { jti: "one" })));
  clock.advance(60_000);
  const retry = await goal(await sign(claimsAt(clock, { jti: "two" })));
  assert.equal(first.status, 200);
  assert.equal(retry.status, 200);
  assert.equal(retry.headers.get("idempotent-replayed"), "true");
  assert.deepEqual(retry.json, first.json);
  const other = await goal(await sign(claimsAt(clock, { sub: "bob" })));
  assert.equal(other.headers.get("idempotent-replayed"), null, "another subject's key is its own");
});
