/**
 * Hostile input: ten thousand requests per run, generated from a seed, against every route (see
 * support/hostile_requests.ts for how they are made and what each one must get). Every answer
 * must be the 4xx the contract gives that request, as problem+json, never a 5xx or a hang; and
 * once they are all answered the board, its version, the feeds and even Object.prototype must be
 * exactly as before. A failure prints the seed; HOSTILE_SEED=<seed> replays the run, and
 * HOSTILE_CASE=<n> sends only case n of it.
 *
 * Bytes that are not HTTP at all never reach the app: Deno's HTTP layer answers them with a bare
 * 400 (or drops the connection). The second test holds that layer to "never a 5xx, never a hang,
 * nothing changed" too.
 */
import assert from "node:assert/strict";
import { ManualClock } from "./support/clock.ts";
import { call, gameBody } from "./support/http.ts";
import { generateCase, type HostileCase, type Scene } from "./support/hostile_requests.ts";
import { latin1, rawExchange } from "./support/raw_http.ts";
import { Random, runSeed } from "./support/random.ts";
import { SCOPED_TOKEN, startServer, type TestServer, TOKEN } from "./support/server.ts";

const COUNT = Number(Deno.env.get("HOSTILE_COUNT") ?? 10_000);
const CONCURRENCY = 16;
/** Only turns a hang into a failure: answers take milliseconds. */
const HANG_MS = 10_000;
const LISTED_ORIGIN = "https://scorer.example";
/** Every rule of the contract a run must have reached at least once. */
const EVERY_RULE = [
  "foreign origin",
  "no such route",
  "method",
  "token",
  "id",
  "token scope",
  "If-Match syntax",
  "If-None-Match syntax",
  "Idempotency-Key",
  "Content-Type",
  "body size",
  "body not UTF-8",
  "body not JSON",
  "body against the rules",
  "precondition",
  "no such game",
  "score range",
  "cursor",
  "timeout",
  "not a WebSocket",
  "X-Forwarded-For",
  "no such problem type",
  "refresh",
  "tz",
  "theme",
  "waiting for this game",
];

/** The games on the board during the run: their scores are chosen so that deltas can fail. */
const GAMES: [string, number, number][] = [
  ["alpha", 3, 1],
  ["zero", 0, 0],
  ["game-a", 0, 0],
  ["max", 999_950, 999_999],
];

async function setUp(server: TestServer): Promise<Scene> {
  const games = new Map<string, { version: number; home: number; away: number }>();
  for (const [id, home, away] of GAMES) {
    const created = await call(server.url, `/api/games/${id}`, {
      method: "PUT",
      token: TOKEN,
      body: gameBody(home, away),
    });
    assert.equal(created.status, 201);
    games.set(id, { version: created.json.version, home, away });
  }
  return {
    token: TOKEN,
    scopedToken: SCOPED_TOKEN,
    scopedGames: ["game-a", "game-b"],
    writeOrigins: [server.url, LISTED_ORIGIN],
    trustedProxies: ["127.0.0.1"],
    games,
  };
}

/** Everything a refused request must leave alone. */
async function observable(server: TestServer) {
  const list = await call(server.url, "/api/games");
  return {
    board: list.json,
    etag: list.headers.get("etag"),
    published: server.hub.counters.published,
    feedsOpen: server.capacity.open,
    prototypes: [Object.prototype, Array.prototype, Function.prototype].map((p) =>
      Object.getOwnPropertyNames(p).sort()
    ),
  };
}

function send(url: string, c: HostileCase): Promise<Response> {
  let body: BodyInit | undefined = c.body;
  if (c.body && c.chunked) {
    const bytes = c.body;
    body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 4096) controller.enqueue(bytes.slice(i, i + 4096));
        controller.close();
      },
    });
  }
  return fetch(url + c.target, {
    method: c.method,
    headers: c.headers,
    body,
    signal: AbortSignal.timeout(HANG_MS),
  });
}

/** What is wrong with an answer, or null when it is what the contract says. */
function judge(c: HostileCase, response: Response, text: string): string | null {
  const { status } = response;
  if (status >= 500) return `a ${status}: ${text.slice(0, 300)}`;
  if (status !== c.expect) return `expected ${c.expect}, got ${status}: ${text.slice(0, 300)}`;
  const type = response.headers.get("content-type") ?? "";
  if (c.errors === "html") {
    if (!type.startsWith("text/html")) return `an HTML error page, not ${type}`;
    if (!response.headers.get("content-security-policy")) return "an HTML page without a CSP";
    return null;
  }
  if (type !== "application/problem+json") {
    return `problem+json, not ${type}: ${text.slice(0, 200)}`;
  }
  if (c.method === "HEAD") return text === "" ? null : "a body on a HEAD answer";
  let problem;
  try {
    problem = JSON.parse(text);
  } catch {
    return `a problem body that is not JSON: ${text.slice(0, 200)}`;
  }
  const wellFormed = typeof problem.type === "string" && problem.type.startsWith("/problems/") &&
    typeof problem.title === "string" && problem.status === status &&
    typeof problem.detail === "string";
  return wellFormed ? null : `a malformed problem: ${text.slice(0, 200)}`;
}

function describe(c: HostileCase, verdict: string): string {
  const body = c.body ? JSON.stringify(new TextDecoder().decode(c.body.slice(0, 300))) : "(none)";
  return [
    `#${c.index} ${c.method} ${c.target.slice(0, 200)} (route ${c.route.kind})`,
    `  faults: ${c.faults.join("; ")}`,
    `  refused by: ${c.because}`,
    `  headers: ${JSON.stringify(c.headers).slice(0, 400)}`,
    `  body (${c.body?.byteLength ?? 0} bytes${c.chunked ? ", chunked" : ""}): ${body}`,
    `  ${verdict}`,
  ].join("\n");
}

Deno.test(`${COUNT} generated hostile requests on every route each get their 4xx problem, and change nothing`, async () => {
  const seed = runSeed("HOSTILE_SEED");
  const clock = new ManualClock();
  await using server = await startServer({
    clock,
    // The suite's own address is a trusted proxy, so the X-Forwarded-For it sends is read.
    env: { SCORELINE_WRITE_ORIGINS: LISTED_ORIGIN, SCORELINE_TRUSTED_PROXIES: "127.0.0.1" },
  });
  const scene = await setUp(server);
  const before = await observable(server);

  const random = new Random(seed);
  let cases = Array.from({ length: COUNT }, (_, i) => generateCase(random, i, scene));
  const only = Deno.env.get("HOSTILE_CASE");
  if (only) cases = cases.filter((c) => c.index === Number(only));

  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      let verdict: string | null;
      try {
        const response = await send(server.url, c);
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        verdict = judge(c, response, text);
      } catch (error) {
        verdict = (error as Error).name === "TimeoutError"
          ? `no answer within ${HANG_MS} ms`
          : `the request failed: ${error}`;
      }
      if (verdict) failures.push(describe(c, verdict));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  const seen = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" ");
  const rules = new Map<string, number>();
  for (const c of cases) rules.set(c.because, (rules.get(c.because) ?? 0) + 1);
  console.log(`${cases.length} requests answered: ${seen}`);
  console.log(`refused by: ${[...rules].map(([rule, n]) => `${rule} ×${n}`).join(", ")}`);
  if (failures.length > 0) {
    assert.fail(
      `${failures.length} of ${cases.length} hostile requests were answered wrongly ` +
        `(replay: HOSTILE_SEED=${seed}; one case: HOSTILE_CASE=<n>):\n\n` +
        failures.slice(0, 12).join("\n\n"),
    );
  }
  assert.deepEqual(await observable(server), before, "the hostile requests changed nothing");
  if (!only) {
    for (const rule of EVERY_RULE) assert.ok(rules.has(rule), `the run reached "${rule}"`);
  }
});

/** Requests whose bytes break HTTP itself: the service never sees them. */
function notHttp(random: Random): { label: string; bytes: Uint8Array } {
  const id = random.pick(["alpha", "x", "cup-final"]);
  const control = String.fromCharCode(random.pick([0, 1, 8, 11, 12, 14, 31, 127]));
  const high = String.fromCharCode(random.int(0x80, 0xff));
  const cases: [string, string][] = [
    [
      "a control byte in a header value",
      `GET /api/games HTTP/1.1\r\nHost: t\r\nX-A: a${control}b\r\n`,
    ],
    [
      "a control byte in a header name",
      `GET /api/games HTTP/1.1\r\nHost: t\r\nX${control}A: b\r\n`,
    ],
    ["a raw byte in the path", `GET /api/games/${id}${high} HTTP/1.1\r\nHost: t\r\n`],
    ["a space in the path", `GET /api/games/${id} x HTTP/1.1\r\nHost: t\r\n`],
    ["a raw byte in the query", `GET /api/poll?since=1${high} HTTP/1.1\r\nHost: t\r\n`],
    ["a method with a raw byte", `G${high}T /api/games HTTP/1.1\r\nHost: t\r\n`],
    ["no version", `GET /api/games\r\nHost: t\r\n`],
    ["a bad version", `GET /api/games HTTP/9.${random.int(0, 9)}\r\nHost: t\r\n`],
    [
      "a Content-Length that is not a number",
      `PUT /api/games/${id} HTTP/1.1\r\nHost: t\r\nContent-Length: ${
        random.pick(["x", "-1", "1.5", "0x10"])
      }\r\n`,
    ],
    [
      "Content-Length and chunked together",
      `PUT /api/games/${id} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n`,
    ],
    [
      "two different Content-Lengths",
      `PUT /api/games/${id} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n`,
    ],
    ["a header without a colon", `GET /api/games HTTP/1.1\r\nHost: t\r\nX-A b\r\n`],
    [
      "hundreds of headers",
      `GET /api/games HTTP/1.1\r\nHost: t\r\n${"X-A: b\r\n".repeat(random.int(256, 2000))}`,
    ],
    ["a TLS hello", `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03${high.repeat(32)}`],
    ["binary garbage", random.text(random.int(1, 200), "\x00\x01\xff\xfe\x80{}[]\r\n ")],
  ];
  const [label, head] = random.pick(cases);
  // Requests end with an empty line and ask for the connection to close; garbage stays garbage.
  const bytes = head.startsWith("\x16") || label === "binary garbage"
    ? head
    : `${head}Connection: close\r\n\r\n`;
  return { label, bytes: latin1(bytes) };
}

Deno.test("bytes that are not HTTP get a bare 400 from Deno's HTTP layer, never a 5xx or a hang, and change nothing", async () => {
  const seed = runSeed("HOSTILE_RAW_SEED");
  await using server = await startServer({ clock: new ManualClock() });
  await setUp(server);
  const before = await observable(server);
  const port = Number(new URL(server.url).port);
  const random = new Random(seed);
  const failures: string[] = [];
  for (let i = 0; i < 300; i++) {
    const { label, bytes } = notHttp(random);
    const answer = await rawExchange(port, bytes, HANG_MS);
    const refused = answer.status === null || (answer.status >= 400 && answer.status < 500);
    if (answer.hung || !refused) {
      failures.push(`#${i} ${label}: ${answer.hung ? "hung" : answer.head.split("\r\n")[0]}`);
    }
  }
  assert.deepEqual(failures, [], `replay: HOSTILE_RAW_SEED=${seed}`);
  assert.deepEqual(await observable(server), before);
  assert.equal((await call(server.url, "/api/games/alpha")).status, 200, "and the service goes on");
});
