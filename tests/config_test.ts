import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../config.ts";
import { ALL_GAMES } from "../core/auth.ts";

Deno.test("defaults follow the contract", () => {
  const config = parseConfig({}, () => "generated-token-for-the-test");
  assert.equal(config.port, 8080);
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.dataPath, "./data/scoreline.db");
  assert.equal(config.heartbeatSeconds, 15);
  assert.equal(config.writeRate, 50);
  assert.equal(config.feedsPerClient, 1_000, "a crowd of 1,000 behind one address is served");
  assert.equal(config.maxFeeds, 15_000);
  assert.equal(config.feedRate, 50);
  assert.equal(config.wsPerClient, 4);
  assert.equal(config.maxWebSockets, 10_000);
  assert.equal(config.trustProxy, false);
  assert.deepEqual(config.trustedProxies, []);
  assert.equal(config.ipv6Prefix, 64);
  assert.equal(config.redisUrl, null);
  assert.deepEqual(config.writeOrigins, []);
});

Deno.test("with no token configured one is generated, so nobody writes without a token", () => {
  const config = parseConfig({ SCORELINE_TOKENS: "" }, () => "generated-token-for-the-test");
  assert.equal(config.generatedToken, "generated-token-for-the-test");
  assert.deepEqual(config.tokens, [{ token: "generated-token-for-the-test", writes: ALL_GAMES }]);
  assert.match(parseConfig({}).generatedToken ?? "", /^[A-Za-z0-9_-]{43}$/);
});

Deno.test("tokens may be scoped to games and competitions with TOKEN=game-a|competition:cup", () => {
  const config = parseConfig({
    SCORELINE_TOKENS: "all-games-token-0000, volunteer-token-0001=game-a|game-b|competition:cup,",
  });
  assert.equal(config.generatedToken, null);
  assert.deepEqual(config.tokens, [
    { token: "all-games-token-0000", writes: ALL_GAMES },
    {
      token: "volunteer-token-0001",
      writes: { games: new Set(["game-a", "game-b"]), competitions: new Set(["cup"]) },
    },
  ]);
});

Deno.test("no token is generated when a token file or a JWT is configured: writes are set up", () => {
  for (
    const env of [
      { SCORELINE_TOKENS_FILE: "/run/secrets/scoreline_tokens" },
      { SCORELINE_JWT_SECRET: "a-secret-of-at-least-32-bytes-000" },
      { SCORELINE_JWKS_URL: "https://id.example/.well-known/jwks.json" },
    ]
  ) {
    const config = parseConfig(env, () => "generated-token-for-the-test");
    assert.equal(config.generatedToken, null, Object.keys(env)[0]);
    assert.deepEqual(config.tokens, []);
  }
});

Deno.test("JWT settings: the secret's UTF-8 bytes, an http(s) key set URL, an audience", () => {
  const config = parseConfig({
    SCORELINE_JWT_SECRET: "ünïcode-secret-of-32-bytes-or-more",
    SCORELINE_JWKS_URL: "http://127.0.0.1:9999/jwks.json",
    SCORELINE_JWT_AUDIENCE: "scoreline",
  });
  assert.deepEqual(
    config.jwt?.secret,
    new TextEncoder().encode("ünïcode-secret-of-32-bytes-or-more"),
  );
  assert.equal(config.jwt?.jwksUrl?.href, "http://127.0.0.1:9999/jwks.json");
  assert.equal(config.jwt?.audience, "scoreline");
  assert.equal(parseConfig({}).jwt, null);
});

Deno.test("bad JWT settings stop start-up, and a secret is never echoed", () => {
  const lines = (env: Record<string, string>) => {
    try {
      parseConfig(env);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.lines;
    }
    assert.fail("expected a ConfigError");
  };
  const short = lines({ SCORELINE_JWT_SECRET: "too-short-secret" });
  assert.match(short[0]!, /^SCORELINE_JWT_SECRET: must be at least 32 bytes/);
  assert.ok(!short[0]!.includes("too-short-secret"));
  const url = lines({ SCORELINE_JWKS_URL: "ftp://user:hunter2@id.example/jwks" });
  assert.match(url[0]!, /^SCORELINE_JWKS_URL: must be an http:\/\/ or https:\/\/ URL$/);
  const redis = lines({ SCORELINE_REDIS_URL: "http://:hunter2@redis:6379" });
  assert.ok(!redis[0]!.includes("hunter2"), "a URL's password is never echoed");
  assert.deepEqual(lines({ SCORELINE_JWT_AUDIENCE: "scoreline" }), [
    "SCORELINE_JWT_AUDIENCE: has no effect without SCORELINE_JWT_SECRET or SCORELINE_JWKS_URL",
  ]);
});

Deno.test("bad configuration stops start-up with one line per variable, naming it", () => {
  const env = {
    PORT: "http",
    SCORELINE_HEARTBEAT: "0",
    SCORELINE_TOKENS: "sh0rt",
    SCORELINE_REDIS_URL: "http://x",
    SCORELINE_WRITE_ORIGINS: "https://ok.example,not a url",
    SCORELINE_TRUST_PROXY: "yes",
  };
  try {
    parseConfig(env);
    assert.fail("expected a ConfigError");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    const names = error.lines.map((line) => line.split(":")[0]).sort();
    assert.deepEqual(names, [
      "PORT",
      "SCORELINE_HEARTBEAT",
      "SCORELINE_REDIS_URL",
      "SCORELINE_TOKENS",
      "SCORELINE_TRUST_PROXY",
      "SCORELINE_WRITE_ORIGINS",
    ]);
    for (const line of error.lines) assert.doesNotMatch(line, /\n/);
    assert.ok(!error.message.includes("sh0rt"), "a token is never echoed");
  }
});

Deno.test("a bad token entry is reported by position and kind, never by its text", () => {
  try {
    parseConfig({ SCORELINE_TOKENS: "volunteer-token-0001=Game A,TOKEN=second-half" });
    assert.fail("expected a ConfigError");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.lines, [
      "SCORELINE_TOKENS: entry 1: the text after its last '=' is not a scope list " +
      "(game ids or competition:ID, separated by |); " +
      "entry 2: the token is shorter than 16 characters",
    ]);
  }
});

Deno.test("SCORELINE_TRUSTED_PROXIES takes addresses and CIDR ranges, and names a bad entry", () => {
  const config = parseConfig({
    SCORELINE_TRUSTED_PROXIES: "127.0.0.1, 10.0.0.0/8 2001:db8::/32,::ffff:192.0.2.0/120",
  });
  assert.deepEqual(config.trustedProxies.map((c) => [c.base.length, c.bits]), [
    [4, 32],
    [4, 8],
    [16, 32],
    [4, 24],
  ]);
  for (const bad of ["10.0.0.0/33", "10.0.0/8", "example.org", "::1/129", "10.0.0.1/-1"]) {
    try {
      parseConfig({ SCORELINE_TRUSTED_PROXIES: `127.0.0.1,${bad}` });
      assert.fail(`expected a ConfigError for ${bad}`);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.lines.length, 1);
      assert.match(error.lines[0]!, /^SCORELINE_TRUSTED_PROXIES: /);
      assert.ok(error.lines[0]!.includes(bad), error.lines[0]);
    }
  }
});

Deno.test("the crowd limits are validated, and 0 turns the feed rate off or WebSockets away", () => {
  const config = parseConfig({
    SCORELINE_FEED_RATE: "0",
    SCORELINE_MAX_WEBSOCKETS: "0",
    SCORELINE_WS_PER_CLIENT: "2",
    SCORELINE_IPV6_PREFIX: "48",
  });
  assert.deepEqual(
    [config.feedRate, config.maxWebSockets, config.wsPerClient, config.ipv6Prefix],
    [0, 0, 2, 48],
  );
  for (
    const [name, value] of [
      ["SCORELINE_FEED_RATE", "-1"],
      ["SCORELINE_WS_PER_CLIENT", "0"],
      ["SCORELINE_IPV6_PREFIX", "129"],
      ["SCORELINE_IPV6_PREFIX", "0"],
    ]
  ) {
    assert.throws(() => parseConfig({ [name!]: value! }), (error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.lines[0]!, new RegExp(`^${name}: `));
      return true;
    });
  }
});
