import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../config.ts";

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
  assert.deepEqual(config.tokens, [{ token: "generated-token-for-the-test", games: null }]);
  assert.match(parseConfig({}).generatedToken ?? "", /^[A-Za-z0-9_-]{43}$/);
});

Deno.test("tokens may be scoped to games with TOKEN=game-a|game-b", () => {
  const config = parseConfig({
    SCORELINE_TOKENS: "all-games-token-0000, volunteer-token-0001=game-a|game-b,",
  });
  assert.equal(config.generatedToken, null);
  assert.deepEqual(config.tokens, [
    { token: "all-games-token-0000", games: null },
    { token: "volunteer-token-0001", games: new Set(["game-a", "game-b"]) },
  ]);
});

Deno.test("bad configuration stops start-up with one line per variable, naming it", () => {
  const env = {
    PORT: "http",
    SCORELINE_HEARTBEAT: "0",
    SCORELINE_TOKENS: "short",
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
    assert.ok(!error.message.includes("short"), "a token is never echoed");
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

Deno.test("a scoped token naming an invalid game id is refused", () => {
  assert.throws(
    () => parseConfig({ SCORELINE_TOKENS: "volunteer-token-0001=Game A" }),
    ConfigError,
  );
});
