/**
 * docs/API.md is the HTTP contract as the code keeps it. These tests hold it to the code, so it
 * cannot drift silently: every mounted route, problem type, configuration variable (with its
 * default), game field (in the order the service sends them) and limit is checked against the
 * code that defines it, and the page links nowhere outside the repository.
 */
import assert from "node:assert/strict";
import { type Config, ENV_NAMES, parseConfig } from "../config.ts";
import { AUDIT_MAX_PER_GAME, AUDIT_TTL_MS } from "../core/audit.ts";
import { MAX_BEARER_LENGTH } from "../core/auth.ts";
import { IDEMPOTENCY_TTL_MS } from "../core/idempotency.ts";
import {
  eventSchema,
  gameSchema,
  MAX_EVENTS,
  MAX_POINTS,
  MAX_SCORE,
  MAX_TIMER_MS,
  sideOutputSchema,
  timerSchema,
} from "../core/schema.ts";
import { MAX_SCOPE_GAMES } from "../core/scope.ts";
import { TOMBSTONE_TTL_MS } from "../core/scoreboard.ts";
import { MIN_TOKEN_LENGTH } from "../core/token_entries.ts";
import { VERSION } from "../core/version.ts";
import { VIEWERS_EVERY_MS } from "../core/viewers.ts";
import { STREAM_HIGH_WATER } from "../feeds/stream.ts";
import { WS_HIGH_WATER, WS_MAX_FRAMES, WS_MAX_RECEIVED } from "../feeds/ws.ts";
import { BODY_TIMEOUT_MS, MAX_BODY_BYTES } from "../http/body.ts";
import { POLL_TIMEOUT_SECONDS } from "../http/params.ts";
import { PROBLEMS } from "../http/problem.ts";
import { MAX_PER_PAGE } from "../pages/page_params.ts";
import { IMPORT_LIMITS } from "../routes/transfer.ts";
import { call } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

const DOC_URL = new URL("../docs/API.md", import.meta.url);
const doc = await Deno.readTextFile(DOC_URL);

/** The text under a heading (`## Name` or `### Name`), up to the next heading of its level or higher. */
function section(heading: string): string {
  const lines = doc.split("\n");
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `docs/API.md has the heading "${heading}"`);
  const level = heading.indexOf(" ");
  const end = lines.findIndex((line, i) =>
    i > start && /^#{1,6} /.test(line) && line.indexOf(" ") <= level
  );
  return lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
}

/** The cells of a table row, split on `|` but not on `\|` (a pipe inside a cell). */
function cells(row: string): string[] {
  return row.trim().replace(/^\|/, "").replace(/\|$/, "").split(/(?<!\\)\|/).map((cell) =>
    cell.trim()
  );
}

/** The body rows of the first table under a heading (header and separator left out). */
function table(heading: string): string[][] {
  const lines = section(heading).split("\n");
  const first = lines.findIndex((line) => line.startsWith("|"));
  assert.ok(first >= 0, `there is a table under "${heading}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(cells(line));
  }
  assert.ok(rows.length > 0, `the table under "${heading}" has rows`);
  return rows;
}

/** What a cell holds in its first code span (`...`), or null. */
function code(cell: string | undefined): string | null {
  return /`([^`]+)`/.exec(cell ?? "")?.[1] ?? null;
}

/** The first code span of each row's first cell. */
function firstColumn(heading: string): string[] {
  return table(heading).map((row) => {
    const value = code(row[0]);
    assert.ok(value, `the row "${row.join(" | ")}" under "${heading}" starts with a code span`);
    return value;
  });
}

Deno.test("the route index of docs/API.md lists exactly the routes the app mounts", async () => {
  await using server = await startServer();
  const mounted = new Set(
    server.app.routes.filter((route) => route.method !== "ALL").map((route) =>
      `${route.method} ${route.path.replace(/:([a-zA-Z]+)/g, "{$1}")}`
    ),
  );
  assert.ok(mounted.size > 30);
  const listed = firstColumn("## Route index");
  assert.equal(new Set(listed).size, listed.length, "no route is listed twice");
  for (const route of mounted) {
    assert.ok(listed.includes(route), `${route} is mounted but not in docs/API.md's route index`);
  }
  for (const route of listed) {
    assert.ok(mounted.has(route), `${route} is in docs/API.md's route index but not mounted`);
  }
});

Deno.test("every problem type of http/problem.ts is in docs/API.md with its status and title", () => {
  const rows = table("### Problem types");
  const documented = new Map(rows.map((row) => [code(row[0]), row]));
  for (const [name, [status, title]] of Object.entries(PROBLEMS)) {
    const row = documented.get(`/problems/${name}`);
    assert.ok(row, `/problems/${name} is in the problem table`);
    assert.equal(row[1], String(status), `the status of /problems/${name}`);
    assert.equal(row[2], title, `the title of /problems/${name}`);
  }
  assert.equal(rows.length, Object.keys(PROBLEMS).length, "the table lists no other problem");
});

/**
 * What docs/API.md's configuration table says each variable defaults to, read from the
 * configuration an empty environment gives. A new variable fails here until it is documented
 * and given its expected default below.
 */
const DEFAULTS: Record<string, (config: Config) => string> = {
  PORT: (c) => `\`${c.port}\``,
  HOST: (c) => `\`${c.host}\``,
  SCORELINE_TOKENS: (c) => (c.generatedToken === null ? "?" : "generated"),
  SCORELINE_TOKENS_FILE: (c) => (c.tokensFile === null ? "unset" : "?"),
  SCORELINE_JWT_SECRET: (c) => (c.jwt === null ? "unset" : "?"),
  SCORELINE_JWKS_URL: (c) => (c.jwt === null ? "unset" : "?"),
  SCORELINE_JWT_AUDIENCE: (c) => (c.jwt === null ? "unset" : "?"),
  SCORELINE_DATA: (c) => `\`${c.dataPath}\``,
  SCORELINE_REDIS_URL: (c) => (c.redisUrl === null ? "unset" : "?"),
  SCORELINE_HEARTBEAT: (c) => `\`${c.heartbeatSeconds}\``,
  SCORELINE_WRITE_ORIGINS: (c) => (c.writeOrigins.length === 0 ? "unset" : "?"),
  SCORELINE_WRITE_RATE: (c) => `\`${c.writeRate}\``,
  SCORELINE_FEEDS_PER_CLIENT: (c) => `\`${c.feedsPerClient}\``,
  SCORELINE_MAX_FEEDS: (c) => `\`${c.maxFeeds}\``,
  SCORELINE_FEED_RATE: (c) => `\`${c.feedRate}\``,
  SCORELINE_WS_PER_CLIENT: (c) => `\`${c.wsPerClient}\``,
  SCORELINE_MAX_WEBSOCKETS: (c) => `\`${c.maxWebSockets}\``,
  SCORELINE_TRUST_PROXY: (c) => `\`${c.trustProxy ? 1 : 0}\``,
  SCORELINE_TRUSTED_PROXIES: (c) => (c.trustedProxies.length === 0 ? "unset" : "?"),
  SCORELINE_IPV6_PREFIX: (c) => `\`${c.ipv6Prefix}\``,
  SCORELINE_WS_IDLE_TIMEOUT: (c) => `\`${c.wsIdleTimeoutSeconds}\``,
  SCORELINE_LOG: (c) => `\`${c.logLevel}\``,
};

Deno.test("every variable config.ts reads is in docs/API.md's configuration table with its default", () => {
  const defaults = parseConfig({}, () => "a-generated-token-for-this-test");
  const rows = table("## Configuration");
  const documented = new Map(rows.map((row) => [code(row[0]), row]));
  for (const name of ENV_NAMES) {
    const row = documented.get(name);
    assert.ok(row, `${name} is in docs/API.md's configuration table`);
    const expected = DEFAULTS[name];
    assert.ok(expected, `${name} has its expected default in this test's DEFAULTS`);
    assert.equal(row[1], expected(defaults), `the default of ${name}`);
  }
  for (const name of documented.keys()) {
    assert.ok(
      name && ENV_NAMES.includes(name),
      `${name} is documented but config.ts reads no such variable`,
    );
  }
});

Deno.test("docs/API.md lists every field of a game in the order the service sends them", async () => {
  const tables: [string, readonly string[]][] = [
    ["### Game fields", Object.keys(gameSchema.shape)],
    ["### Side fields", Object.keys(sideOutputSchema.shape)],
    ["### Timer fields", Object.keys(timerSchema.shape)],
    ["### Event fields", Object.keys(eventSchema.shape)],
  ];
  for (const [heading, fields] of tables) {
    assert.deepEqual(firstColumn(heading), fields, `${heading}: the schema's fields, in order`);
  }

  // The order on the wire, of a game with every field there is: what a client actually gets.
  await using server = await startServer();
  const put = await call(server.url, "/api/games/every-field", {
    method: "PUT",
    token: TOKEN,
    body: {
      title: "Every field",
      status: "live",
      period: "Q4",
      clock: "10:00",
      competition: "doc-cup",
      startsAt: "2026-12-07T17:00:00Z",
      timer: { running: true, elapsedMs: 0, direction: "down", limitMs: 600_000 },
      home: { name: "Lions", score: 1, detail: "home detail" },
      away: { name: "Tigers", score: 2, detail: "away detail" },
    },
  });
  assert.equal(put.status, 201, put.text);
  const added = await call(server.url, "/api/games/every-field/events", {
    method: "POST",
    token: TOKEN,
    body: { kind: "basket", side: "home", points: 3, text: "Okafor", clock: "9:58" },
  });
  assert.equal(added.status, 201, added.text);
  assert.equal(added.headers.get("content-type"), "application/json");
  const game = added.json;
  assert.deepEqual(firstColumn("### Game fields"), Object.keys(game));
  assert.deepEqual(firstColumn("### Side fields"), Object.keys(game.home));
  assert.deepEqual(firstColumn("### Timer fields"), Object.keys(game.timer));
  assert.deepEqual(firstColumn("### Event fields"), Object.keys(game.events[0]));
});

Deno.test("the limits in docs/API.md are the ones the code enforces", () => {
  const c = parseConfig({}, () => "a-generated-token-for-this-test");
  const count = (n: number) => n.toLocaleString("en-US");
  const kib = (bytes: number) => `${bytes / 1024} KiB`;
  const mib = (bytes: number) => `${bytes / 1024 / 1024} MiB`;
  const hours = (ms: number) => `${ms / 3_600_000} h`;
  const perSecond = (rate: number) => `${rate} a second, bursts of ${2 * rate}`;
  // Streams and sockets are held to one bound, which the doc states once.
  assert.equal(WS_HIGH_WATER, STREAM_HIGH_WATER);
  const expected: [string, string][] = [
    ["write request body", kib(MAX_BODY_BYTES)],
    ["time for a write body to arrive", `${BODY_TIMEOUT_MS / 1000} s`],
    ["bearer token length", kib(MAX_BEARER_LENGTH)],
    ["static token length, at least", `${MIN_TOKEN_LENGTH} characters`],
    ["points in one score change or event", count(MAX_POINTS)],
    ["score", count(MAX_SCORE)],
    ["timer `elapsedMs` and `limitMs`", `${count(MAX_TIMER_MS)} ms`],
    ["events in a game's timeline", count(MAX_EVENTS)],
    ["ids in a `games=` filter", count(MAX_SCOPE_GAMES)],
    ["long-poll `timeout`", `${POLL_TIMEOUT_SECONDS.max} s`],
    ["kiosk board `per`", count(MAX_PER_PAGE)],
    ["Idempotency-Key kept", hours(IDEMPOTENCY_TTL_MS)],
    ["tombstones kept", hours(TOMBSTONE_TTL_MS)],
    [
      "history entries per game",
      `${count(AUDIT_MAX_PER_GAME)} (${AUDIT_TTL_MS / 86_400_000} days)`,
    ],
    ["import body", mib(IMPORT_LIMITS.bodyBytes)],
    ["import line", mib(IMPORT_LIMITS.lineBytes)],
    ["games in an import", count(IMPORT_LIMITS.games)],
    ["time for an import body to arrive", `${IMPORT_LIMITS.timeoutMs / 1000} s`],
    ["writes per principal (`SCORELINE_WRITE_RATE`)", perSecond(c.writeRate)],
    ["new feeds per client address (`SCORELINE_FEED_RATE`)", perSecond(c.feedRate)],
    ["open feeds per client address (`SCORELINE_FEEDS_PER_CLIENT`)", count(c.feedsPerClient)],
    ["open feeds in total (`SCORELINE_MAX_FEEDS`)", count(c.maxFeeds)],
    ["open WebSockets per client address (`SCORELINE_WS_PER_CLIENT`)", count(c.wsPerClient)],
    ["open WebSockets in total (`SCORELINE_MAX_WEBSOCKETS`)", count(c.maxWebSockets)],
    ["what a WebSocket client sends", `${kib(WS_MAX_RECEIVED)} and ${WS_MAX_FRAMES} messages`],
    ["queued per stream or WebSocket", kib(STREAM_HIGH_WATER)],
    ["viewer counts", `every ${VIEWERS_EVERY_MS / 1000} s`],
  ];
  const rows = table("## Limits");
  const documented = new Map(rows.map((row) => [row[0], row[1] ?? ""]));
  for (const [limit, value] of expected) {
    const cell = documented.get(limit);
    assert.ok(cell !== undefined, `"${limit}" is in docs/API.md's limits table`);
    // The value, alone or followed by a remark ("15,000 (lowered at start-up ...)").
    assert.ok(
      cell === value || cell.startsWith(`${value} `),
      `"${limit}" is ${value} in the code, "${cell}" in docs/API.md`,
    );
  }
  assert.deepEqual(
    rows.map((row) => row[0]).filter((limit) => !expected.some(([name]) => name === limit)),
    [],
    "every limit in docs/API.md is checked here against the code",
  );
});

Deno.test("docs/API.md names the version that answers /version", () => {
  assert.ok(doc.includes(`{"version": "${VERSION}"}`));
  assert.ok(doc.includes(`\`${VERSION}\``));
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

/** Hosts reserved for examples (RFC 2606's `.example`) and this machine. */
function exampleHost(host: string): boolean {
  return host === "localhost" || host.startsWith("localhost:") || host.startsWith("127.0.0.1") ||
    /^[a-z0-9.-]+\.example(:[0-9]+)?$/.test(host);
}

Deno.test("docs/API.md links only inside the repository, and the README links it", async () => {
  const urls = [...doc.matchAll(/https?:\/\/([^\s/)'"`>\]]+)/g)];
  assert.ok(urls.length > 0, "the examples use URLs at all (the check below looks at them)");
  for (const [url, host] of urls) {
    assert.ok(exampleHost(host!), `${url} points outside the repository`);
  }
  // `POST .../score` is an elided path; `../` on its own would leave docs/ for other places.
  assert.ok(!/(?<!\.)\.\.\//.test(doc), "no path leaves the repository");
  assert.ok(!/\/work\/|shared\/API/.test(doc), "no path outside the repository is named");

  const anchors = new Set(
    doc.split("\n").filter((line) => /^#{1,6} /.test(line)).map((line) =>
      slug(line.replace(/^#+ /, ""))
    ),
  );
  const links = [...doc.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
  assert.ok(links.length > 10, "the page links its own sections");
  for (const link of links) {
    if (link.startsWith("#")) {
      assert.ok(anchors.has(link.slice(1)), `${link} is a heading of docs/API.md`);
      continue;
    }
    assert.ok(!/^[a-z][a-z0-9+.-]*:/i.test(link), `${link} is a link to another site`);
    const path = link.split("#")[0]!;
    await Deno.stat(new URL(path, DOC_URL)).catch(() => {
      assert.fail(`${link} is not a file of the repository`);
    });
  }

  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  assert.ok(readme.includes("[docs/API.md](docs/API.md)"), "the README links docs/API.md");
});
