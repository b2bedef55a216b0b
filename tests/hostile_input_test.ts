/**
 * Hostile input: ten thousand requests per run, generated from a seed, against every route (see
 * support/hostile_requests.ts for how they are made and what each one must get). Every answer
 * must be the 4xx the contract gives that request, as problem+json, never a 5xx or a hang; and
 * once they are all answered the board, its version, the feeds and even Object.prototype must be
 * exactly as before. A failure prints the seed; HOSTILE_SEED=<seed> replays the run, and
 * HOSTILE_CASE=<n> sends only case n of it.
 *
 * Writes carry JWTs too, well signed or spoiled (alg none, another algorithm, an unknown kid, a
 * bad signature, expired, not yet valid, claims missing or malformed, huge), judged by an oracle
 * that checks them itself; the random kids must never make the service fetch its key set again.
 *
 * Bytes that are not HTTP at all never reach the app: Deno's HTTP layer answers them with a bare
 * 400 (or drops the connection). The second test holds that layer to "never a 5xx, never a hang,
 * nothing changed" too. The third feeds the token-file reloader files with garbage: each must be
 * refused with one error line naming the line the oracle names, no secret in it, and the tokens
 * in force kept (HOSTILE_FILE_SEED replays it).
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createLogger } from "../core/log.ts";
import { readTokenFile, TokenFileReloader } from "../http/token_file.ts";
import { ManualClock } from "./support/clock.ts";
import { tokenFileVerdict } from "./support/contract_oracle.ts";
import { call, gameBody } from "./support/http.ts";
import {
  generateCase,
  type HostileCase,
  type Scene,
  type SceneGame,
} from "./support/hostile_requests.ts";
import { garbageTokenFile } from "./support/hostile_values.ts";
import { type JwksServer, serveJwks } from "./support/jwks.ts";
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
  "JWT",
  "id",
  "token scope",
  "competition scope",
  "If-Match syntax",
  "If-None-Match syntax",
  "Idempotency-Key",
  "Content-Type",
  "body size",
  "body not UTF-8",
  "body not JSON",
  "body against the rules",
  "import line",
  "precondition",
  "no such game",
  "score range",
  "event id",
  "no such event",
  "timeline full",
  "timer limit",
  "cursor",
  "timeout",
  "delta",
  "not a WebSocket",
  "X-Forwarded-For",
  "no such problem type",
  "refresh",
  "tz",
  "theme",
  "waiting for this game",
  "games filter",
  "competition filter",
  "both filters",
  "viewers",
  "per",
  "page",
  "competition fixed",
];

/**
 * The games on the board during the run: their scores are chosen so that deltas can fail, one is
 * in a competition (so that changing it, or giving one to the others, can), and their timers and
 * timelines are such that every rule of the match can be reached: a timer with a limit
 * to set past, an event whose points cannot be taken back (zero's goal was corrected away), and a
 * timeline that is full.
 */
type Write = (path: string, body: unknown, method?: string) => Promise<void>;

const GAMES: {
  id: string;
  home: number;
  away: number;
  competition?: string;
  /** Brings the game's timer and timeline to where the run needs them. */
  match?: (write: Write, id: string) => Promise<void>;
}[] = [
  {
    id: "alpha",
    home: 2,
    away: 1,
    competition: "cup",
    match: async (write, id) => {
      await write(`/api/games/${id}`, {
        ...gameBody(2, 1),
        timer: { running: true, elapsedMs: 0, direction: "down", limitMs: 600_000 },
      }, "PUT");
      await write(`/api/games/${id}/events`, { kind: "goal", side: "home", points: 1 });
      await write(`/api/games/${id}/events`, { kind: "card", side: "away", text: "<b>x</b>" });
    },
  },
  {
    id: "zero",
    home: 0,
    away: 0,
    match: async (write, id) => {
      await write(`/api/games/${id}/events`, { kind: "goal", side: "home", points: 1 });
      await write(`/api/games/${id}/score`, { side: "home", points: -1 });
    },
  },
  { id: "game-a", home: 0, away: 0 },
  { id: "max", home: 999_950, away: 999_999 },
  {
    id: "full",
    home: 0,
    away: 0,
    match: async (write, id) => {
      for (let i = 0; i < 500; i++) await write(`/api/games/${id}/events`, { kind: "note" });
    },
  },
];

const JWT_SECRET = "hostile-suite-secret-of-32-bytes-or-more";
const RSA = generateKeyPairSync("rsa", { modulusLength: 2048 });
const RSA_KID = "hostile-rsa-1";

/** The key set the service trusts for RS256: one key, served by the test. */
function keySet(): JwksServer {
  return serveJwks([{ ...RSA.publicKey.export({ format: "jwk" }), kid: RSA_KID, alg: "RS256" }]);
}

async function setUp(server: TestServer, clock: ManualClock): Promise<Scene> {
  const write: Write = async (path, body, method = "POST") => {
    const answer = await call(server.url, path, { method, token: TOKEN, body });
    assert.ok(answer.status < 300, `${method} ${path}: ${answer.text}`);
  };
  const games = new Map<string, SceneGame>();
  for (const { id, home, away, competition, match } of GAMES) {
    await write(
      `/api/games/${id}`,
      gameBody(home, away, competition ? { competition } : {}),
      "PUT",
    );
    await match?.(write, id);
    const game = (await call(server.url, `/api/games/${id}`)).json;
    const events = new Map<number, { side?: "home" | "away"; points?: number }>();
    for (const event of game.events ?? []) {
      events.set(event.id, { side: event.side, points: event.points });
    }
    games.set(id, {
      version: game.version,
      home: game.home.score,
      away: game.away.score,
      events,
      limitMs: game.timer?.limitMs,
      competition: game.competition,
    });
  }
  return {
    token: TOKEN,
    scopedToken: SCOPED_TOKEN,
    scopedGames: ["game-a", "game-b"],
    writeOrigins: [server.url, LISTED_ORIGIN],
    trustedProxies: ["127.0.0.1"],
    games,
    jwt: {
      signer: {
        secret: new TextEncoder().encode(JWT_SECRET),
        kid: RSA_KID,
        privateKey: RSA.privateKey,
        publicPem: RSA.publicKey.export({ format: "pem", type: "spki" }).toString(),
        nowSeconds: Math.floor(clock.now() / 1000),
      },
      trust: {
        secret: new TextEncoder().encode(JWT_SECRET),
        keys: new Map([[RSA_KID, RSA.publicKey]]),
        nowSeconds: Math.floor(clock.now() / 1000),
      },
    },
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
  await using jwks = keySet();
  await using server = await startServer({
    clock,
    // The suite's own address is a trusted proxy, so the X-Forwarded-For it sends is read.
    env: {
      SCORELINE_WRITE_ORIGINS: LISTED_ORIGIN,
      SCORELINE_JWT_SECRET: JWT_SECRET,
      SCORELINE_JWKS_URL: jwks.url,
      SCORELINE_TRUSTED_PROXIES: "127.0.0.1",
    },
  });
  const scene = await setUp(server, clock);
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
  assert.ok(
    jwks.fetches <= 1,
    `unknown kids made the service fetch its key set ${jwks.fetches} times`,
  );
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
  const clock = new ManualClock();
  await using server = await startServer({ clock });
  await setUp(server, clock);
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

Deno.test("token files with garbage are each refused with one error line naming the line, and the tokens in force stay", async () => {
  const seed = runSeed("HOSTILE_FILE_SEED");
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("info", (line) => lines.push(JSON.parse(line)));
  await using server = await startServer({ clock: new ManualClock(), log });
  const dir = await Deno.makeTempDir({ prefix: "scoreline-hostile-tokens-" });
  const path = `${dir}/tokens`;
  const reloader = new TokenFileReloader({ path, credentials: server.credentials, log });
  try {
    const good = "good-file-token-00000001";
    await Deno.writeTextFile(path, `${good}=alpha\n`);
    reloader.start(await readTokenFile(path, new Set([TOKEN, SCOPED_TOKEN])));
    const random = new Random(seed);
    const failures: string[] = [];
    for (let i = 0; i < 300; i++) {
      let file = garbageTokenFile(random, [TOKEN, SCOPED_TOKEN]);
      let verdict = tokenFileVerdict(file.bytes, new Set([TOKEN, SCOPED_TOKEN]));
      while (verdict.ok) {
        file = garbageTokenFile(random, [TOKEN, SCOPED_TOKEN]);
        verdict = tokenFileVerdict(file.bytes, new Set([TOKEN, SCOPED_TOKEN]));
      }
      await Deno.writeFile(path, file.bytes);
      const before = lines.length;
      await reloader.reload("SIGHUP");
      const logged = lines.slice(before);
      const error = logged[0];
      const problem = `#${i} (${file.faults.join("; ")})`;
      if (logged.length !== 1 || error?.level !== "error") {
        failures.push(`${problem}: logged ${JSON.stringify(logged).slice(0, 300)}`);
        continue;
      }
      if ((error.line ?? 0) !== verdict.line) {
        failures.push(`${problem}: line ${error.line}, the contract says ${verdict.line}`);
      }
      // No line of the file, a secret, appears in the log (kinds are fixed phrases).
      const text = new TextDecoder().decode(file.bytes);
      for (const line of text.split("\n")) {
        const token = line.trim().split("=")[0] ?? "";
        if (token.length >= 8 && JSON.stringify(error).includes(token)) {
          failures.push(`${problem}: the log holds "${token}"`);
        }
      }
      const kept = await server.credentials.authenticate(`Bearer ${good}`).catch(() => null);
      if (kept === null) failures.push(`${problem}: the token in force was dropped`);
    }
    assert.deepEqual(failures.slice(0, 12), [], `replay: HOSTILE_FILE_SEED=${seed}`);
    const write = await call(server.url, "/api/games/alpha", {
      method: "PUT",
      token: "good-file-token-00000001",
      body: gameBody(),
    });
    assert.equal(write.status, 201, "the token file in force still writes");
  } finally {
    await reloader.close();
    await Deno.remove(dir, { recursive: true });
  }
});
