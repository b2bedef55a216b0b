/**
 * What a browser sees: CORS exactly as the contract says (reads `*` everywhere, errors and feeds
 * included; writes only from the service's own origin or a listed one, preflight for both), the
 * security headers on every HTML response, and no input reflected where a browser could run it.
 * The route lists are tables, so pages added later join by adding a line.
 */
import assert from "node:assert/strict";
import { PROBLEMS } from "../http/problem.ts";
import { openNdjson, openSse } from "./support/feeds.ts";
import { type Answer, call, gameBody } from "./support/http.ts";
import { startServer, type TestServer, TOKEN } from "./support/server.ts";

const LISTED = "https://scorer.example";
const STRANGER = "https://evil.example";

/** Read routes and how each answers a plain GET here: every one must be readable from anywhere. */
const READS: { path: string; status: number }[] = [
  { path: "/api/games", status: 200 },
  { path: "/api/games/g", status: 200 },
  { path: "/api/games/missing", status: 404 },
  { path: "/api/games/BAD", status: 400 },
  { path: "/api/poll", status: 200 },
  { path: "/api/games/g/poll", status: 200 },
  { path: "/api/poll?since=x", status: 400 },
  { path: "/api/poll?since=CURSOR&timeout=0", status: 204 },
  { path: "/api/events?since=-1", status: 400 },
  { path: "/api/games/g/stream?since=1.5", status: 400 },
  { path: "/api/ws", status: 426 },
  { path: "/api/games/g/score", status: 405 },
  { path: "/nowhere", status: 404 },
  { path: "/healthz", status: 200 },
  { path: "/readyz", status: 200 },
  { path: "/problems/validation", status: 200 },
];

/** Every HTML page the service renders (pages from later issues join here). */
/** Every page the service renders, with the status it answers once game `g` exists. */
const HTML_PAGES: [string, number][] = [
  ...Object.keys(PROBLEMS).map((code): [string, number] => [`/problems/${code}`, 200]),
  ["/", 200],
  ["/games/g", 200],
  ["/games/not-yet", 404],
  ["/games/g?refresh=abc", 400],
  ["/embed/games/g", 200],
  ["/embed/games/not-yet", 404],
  ["/embed/games/g?theme=blue", 400],
  ["/console", 200],
];

async function withGame(server: TestServer): Promise<number> {
  const put = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
  });
  return put.json.version;
}

function assertReadableAnywhere(answer: Answer | Response, what: string) {
  assert.equal(answer.headers.get("access-control-allow-origin"), "*", what);
  assert.equal(answer.headers.get("access-control-allow-credentials"), null, what);
  assert.match(answer.headers.get("access-control-expose-headers") ?? "", /ETag/, what);
}

Deno.test("every read route, its errors included, answers Access-Control-Allow-Origin: *, whatever the Origin", async () => {
  await using server = await startServer({ env: { SCORELINE_WRITE_ORIGINS: LISTED } });
  const cursor = await withGame(server);
  for (const { path, status } of READS) {
    for (const origin of [undefined, STRANGER, LISTED, "null"]) {
      const answer = await call(server.url, path.replace("CURSOR", String(cursor)), {
        headers: origin ? { origin } : {},
      });
      const what = `${path} from ${origin ?? "no origin"}`;
      assert.equal(answer.status, status, `${what}: ${answer.text}`);
      assertReadableAnywhere(answer, what);
    }
  }
});

Deno.test("streams, refused feeds and a store that is down are readable from any origin too", async () => {
  await using server = await startServer({ env: { SCORELINE_FEEDS_PER_CLIENT: "2" } });
  await withGame(server);
  const sse = await openSse(`${server.url}/api/events`, { origin: STRANGER });
  const ndjson = await openNdjson(`${server.url}/api/games/g/stream`);
  for (const feed of [sse, ndjson]) {
    assert.equal(feed.status, 200);
    assertReadableAnywhere(feed as unknown as Response, "a stream");
  }
  const refused = await call(server.url, "/api/events", { headers: { origin: STRANGER } });
  assert.equal(refused.status, 429);
  assertReadableAnywhere(refused, "a refused feed");
  await sse.close();
  await ndjson.close();
  await server.store.close();
  const down = await call(server.url, "/api/games", { headers: { origin: STRANGER } });
  assert.equal(down.status, 503);
  assertReadableAnywhere(down, "a read while the store is down");
});

Deno.test("preflight: reads from any origin; writes only from a listed origin or the service's own", async () => {
  await using server = await startServer({ env: { SCORELINE_WRITE_ORIGINS: LISTED } });
  const preflight = (path: string, origin: string, method: string) =>
    call(server.url, path, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": method,
        "access-control-request-headers": "authorization, content-type, idempotency-key",
      },
    });
  for (const path of ["/api/games", "/api/games/g", "/api/events", "/api/games/g/poll"]) {
    const read = await preflight(path, STRANGER, "GET");
    assert.equal(read.status, 204, path);
    assert.equal(read.headers.get("access-control-allow-origin"), "*");
    assert.match(read.headers.get("access-control-allow-headers") ?? "", /Last-Event-ID/);
  }
  for (
    const [path, method] of [["/api/games/g", "PUT"], ["/api/games/g", "PATCH"], [
      "/api/games/g",
      "DELETE",
    ], ["/api/games/g/score", "POST"]]
  ) {
    for (const origin of [LISTED, server.url]) {
      const ok = await preflight(path!, origin, method!);
      assert.equal(ok.status, 204, `${method} ${path} from ${origin}`);
      assert.equal(ok.headers.get("access-control-allow-origin"), origin);
      assert.match(ok.headers.get("vary") ?? "", /Origin/);
      assert.match(ok.headers.get("access-control-allow-methods") ?? "", new RegExp(method!));
      assert.match(ok.headers.get("access-control-allow-headers") ?? "", /Authorization/);
      assert.equal(ok.headers.get("access-control-allow-credentials"), null);
    }
    for (const origin of [STRANGER, "null", `${LISTED}.evil.example`, "http://scorer.example"]) {
      const refused = await preflight(path!, origin, method!);
      assert.equal(refused.status, 403, `${method} ${path} from ${origin}`);
      assert.equal(refused.headers.get("content-type"), "application/problem+json");
      assert.equal(refused.headers.get("access-control-allow-origin"), null);
    }
  }
});

Deno.test("a write from a foreign origin is refused before anything runs; a listed one may read its answer", async () => {
  await using server = await startServer({ env: { SCORELINE_WRITE_ORIGINS: LISTED } });
  await withGame(server);
  const before = (await call(server.url, "/api/games")).json;
  const writes = [
    { method: "PUT", path: "/api/games/g", body: gameBody(5) },
    { method: "PATCH", path: "/api/games/g", body: { clock: "1:00" } },
    { method: "POST", path: "/api/games/g/score", body: { side: "home", points: 1 } },
    { method: "DELETE", path: "/api/games/g" },
  ];
  for (const write of writes) {
    const refused = await call(server.url, write.path, {
      ...write,
      token: TOKEN,
      headers: { origin: STRANGER },
    });
    assert.equal(refused.status, 403, write.method);
    assert.equal(refused.headers.get("access-control-allow-origin"), null);
  }
  assert.deepEqual((await call(server.url, "/api/games")).json, before, "nothing changed");
  const listedButWrong = await call(server.url, "/api/games/g", {
    method: "PUT",
    token: "not-a-token-at-all-000",
    body: gameBody(),
    headers: { origin: LISTED },
  });
  assert.equal(listedButWrong.status, 401);
  assert.equal(listedButWrong.headers.get("access-control-allow-origin"), LISTED, "errors too");
  const written = await call(server.url, "/api/games/g/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "home", points: 1 },
    headers: { origin: LISTED },
  });
  assert.equal(written.status, 200);
  assert.equal(written.headers.get("access-control-allow-origin"), LISTED);
  assert.match(written.headers.get("vary") ?? "", /Origin/);
});

Deno.test("every HTML page carries its Content-Security-Policy and the other security headers", async () => {
  await using server = await startServer();
  await withGame(server);
  for (const [path, status] of HTML_PAGES) {
    for (const method of ["GET", "HEAD", "DELETE"]) {
      const page = await call(server.url, path, { method });
      if (method === "DELETE") {
        // Kiosk pages answer every refusal as a page; elsewhere a wrong method is problem+json.
        if (path.startsWith("/problems/") || path === "/console") continue;

        assert.equal(page.status, 405, `${method} ${path}`);
      } else {
        assert.equal(page.status, status, path);
      }
      assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8", path);
      const csp = page.headers.get("content-security-policy") ?? "";
      for (
        const directive of [
          "default-src 'none'",
          "script-src",
          "base-uri 'none'",
          "frame-ancestors",
        ]
      ) {
        assert.ok(csp.includes(directive), `${path}: ${directive} in ${csp}`);
      }
      assert.equal(page.headers.get("x-content-type-options"), "nosniff", path);
      assert.equal(page.headers.get("referrer-policy"), "no-referrer", path);
      if (csp.includes("frame-ancestors 'none'")) {
        assert.equal(page.headers.get("x-frame-options"), "DENY", path);
      }
    }
  }
});

const MARKER = `<x-hostile onload="alert(1)">&amp;"'`;

Deno.test("input is never reflected where a browser could run it: problem details escape < > &", async () => {
  await using server = await startServer();
  await withGame(server);
  const json = { "content-type": "application/json" };
  const attempts: [string, () => Promise<Answer>][] = [
    [
      "Content-Type",
      () =>
        call(server.url, "/api/games/g", {
          method: "PUT",
          token: TOKEN,
          raw: "{}",
          headers: { "content-type": MARKER },
        }),
    ],
    [
      "a JSON syntax error",
      () =>
        call(server.url, "/api/games/g", {
          method: "PUT",
          token: TOKEN,
          raw: MARKER,
          headers: json,
        }),
    ],
    [
      "a JSON syntax error, later on",
      () =>
        call(server.url, "/api/games/g", {
          method: "PUT",
          token: TOKEN,
          raw: `{"title": ${MARKER}}`,
          headers: json,
        }),
    ],
    [
      "an unknown field",
      () =>
        call(server.url, "/api/games/g", {
          method: "PUT",
          token: TOKEN,
          body: { ...gameBody(), [MARKER]: 1 },
        }),
    ],
    [
      "a bad field value",
      () =>
        call(server.url, "/api/games/g", {
          method: "PUT",
          token: TOKEN,
          body: { ...gameBody(), status: MARKER },
        }),
    ],
    ["the path", () => call(server.url, `/api/${encodeURIComponent(MARKER)}`)],
    ["a method", () => call(server.url, "/api/games", { method: "X-HOSTILE" })],
    ["a game id", () => call(server.url, `/api/games/${encodeURIComponent(MARKER)}`)],
    ["a cursor", () => call(server.url, `/api/events?since=${encodeURIComponent(MARKER)}`)],
    [
      "Last-Event-ID",
      () => call(server.url, "/api/events", { headers: { "last-event-id": MARKER } }),
    ],
    [
      "If-Match",
      () =>
        call(server.url, "/api/games/g", {
          method: "DELETE",
          token: TOKEN,
          headers: { "if-match": MARKER },
        }),
    ],
    [
      "Idempotency-Key",
      () =>
        call(server.url, "/api/games/g", {
          method: "DELETE",
          token: TOKEN,
          headers: { "idempotency-key": `${MARKER}é` },
        }),
    ],
    [
      "Authorization",
      () =>
        call(server.url, "/api/games/g", {
          method: "DELETE",
          headers: { authorization: `Bearer ${MARKER}` },
        }),
    ],
    [
      "Origin",
      () =>
        call(server.url, "/api/games/g", {
          method: "DELETE",
          token: TOKEN,
          headers: { origin: MARKER },
        }),
    ],
    ["a problem page", () => call(server.url, `/problems/${encodeURIComponent(MARKER)}`)],
  ];
  for (const [where, attempt] of attempts) {
    const answer = await attempt();
    assert.ok(answer.status >= 400 && answer.status < 500, `${where}: ${answer.status}`);
    assert.equal(answer.headers.get("content-type"), "application/problem+json", where);
    assert.equal(answer.headers.get("x-content-type-options"), "nosniff", where);
    assert.ok(!/[<>]/.test(answer.text), `${where} reflected markup: ${answer.text}`);
  }
  // Stored text is data: JSON gives it back exactly, never as a page a browser would render.
  const stored = await call(server.url, "/api/games/g", {
    method: "PATCH",
    token: TOKEN,
    body: { title: MARKER },
  });
  assert.equal(stored.status, 200);
  const read = await call(server.url, "/api/games/g");
  assert.equal(read.headers.get("content-type"), "application/json");
  assert.equal(read.headers.get("x-content-type-options"), "nosniff");
  assert.equal(read.json.title, MARKER);
});
