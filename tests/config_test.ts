import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../config.ts";

Deno.test("defaults follow the contract", () => {
  const config = parseConfig({}, () => "generated-token-for-the-test");
  assert.equal(config.port, 8080);
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.dataPath, "./data/scoreline.db");
  assert.equal(config.heartbeatSeconds, 15);
  assert.equal(config.writeRate, 50);
  assert.equal(config.feedsPerClient, 200);
  assert.equal(config.maxFeeds, 15_000);
  assert.equal(config.trustProxy, false);
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

Deno.test("a scoped token naming an invalid game id is refused", () => {
  assert.throws(
    () => parseConfig({ SCORELINE_TOKENS: "volunteer-token-0001=Game A" }),
    ConfigError,
  );
});
