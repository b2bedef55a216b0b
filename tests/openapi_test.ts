/**
 * /openapi.json: valid against the OpenAPI 3.1 schema, generated from the zod schemas that
 * validate requests, covering every route, and true to what the service actually sends.
 */
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import {
  eventInputSchema,
  gameInputSchema,
  MAX_POINTS,
  MAX_SCORE,
  MAX_TIMER_MS,
  STATUSES,
} from "../core/schema.ts";
import { openNdjson, openSse } from "./support/feeds.ts";
import { call, gameBody } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

// deno-lint-ignore no-explicit-any
type Doc = any;

async function fetchDocument(url: string): Promise<Doc> {
  const answer = await call(url, "/openapi.json");
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("content-type"), "application/json");
  return answer.json;
}

/** Every route of the contract (API.md), pages and the widget included. */
const CONTRACT: [string, string][] = [
  ["put", "/api/games/{id}"],
  ["patch", "/api/games/{id}"],
  ["post", "/api/games/{id}/score"],
  ["delete", "/api/games/{id}"],
  ["post", "/api/games/{id}/timer"],
  ["post", "/api/games/{id}/events"],
  ["delete", "/api/games/{id}/events/{eventId}"],
  ["get", "/api/games"],
  ["get", "/api/games/{id}"],
  ["get", "/api/poll"],
  ["get", "/api/games/{id}/poll"],
  ["get", "/api/events"],
  ["get", "/api/games/{id}/events"],
  ["get", "/api/stream"],
  ["get", "/api/games/{id}/stream"],
  ["get", "/api/ws"],
  ["get", "/api/games/{id}/ws"],
  ["get", "/"],
  ["get", "/games/{id}"],
  ["get", "/embed/games/{id}"],
  ["get", "/widget.js"],
  ["get", "/client.js"],
  ["get", "/client.d.ts"],
  ["get", "/healthz"],
  ["get", "/readyz"],
  ["get", "/metrics"],
  ["get", "/openapi.json"],
  ["get", "/console"],
  ["get", "/api/export"],
  ["post", "/api/import"],
  ["get", "/api/games/{id}/history"],
  ["get", "/api/viewers"],
  ["get", "/api/games/{id}/viewers"],
];

/** RFC 3339 date-times, as `format: date-time` means (Ajv knows no formats of its own). */
function withDateTime<T extends { addFormat(name: string, format: RegExp): unknown }>(ajv: T): T {
  ajv.addFormat("date-time", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i);
  return ajv;
}

Deno.test("GET /openapi.json is a valid OpenAPI 3.1 document", async () => {
  await using server = await startServer();
  const doc = await fetchDocument(server.url);
  assert.equal(doc.openapi, "3.1.0");
  const result = await new Validator().validate(doc);
  assert.deepEqual(result, { valid: true });
  // The check can fail: the same validator refuses a broken copy.
  const broken = structuredClone(doc);
  delete broken.paths["/healthz"].get.responses["200"].description;
  assert.equal((await new Validator().validate(broken)).valid, false);
});

Deno.test("every schema in the document is a valid JSON Schema 2020-12", async () => {
  await using server = await startServer();
  const doc = await fetchDocument(server.url);
  // Strict mode refuses unknown keywords, which the document's layout would be: move the
  // schemas under $defs and point the references there.
  const defs = JSON.parse(
    JSON.stringify(doc.components.schemas).replaceAll("#/components/schemas/", "scoreline#/$defs/"),
  );
  const ajv = withDateTime(new Ajv2020({ strict: true, allErrors: true }));
  ajv.addSchema({ $id: "scoreline", $defs: defs });
  for (const name of Object.keys(doc.components.schemas)) {
    const validate = ajv.compile({ $ref: `scoreline#/$defs/${name}` });
    assert.equal(typeof validate, "function", name);
  }
});

Deno.test("every route of the contract and every route the app mounts is documented", async () => {
  await using server = await startServer();
  const doc = await fetchDocument(server.url);
  for (const [method, path] of CONTRACT) {
    assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`);
  }
  const mounted = server.app.routes.filter((r) => r.method !== "ALL");
  assert.ok(mounted.length > 20);
  for (const route of mounted) {
    if (route.path === "/console/") continue; // a redirect to /console
    const path = route.path.replace(/:([a-zA-Z]+)/g, "{$1}");
    assert.ok(
      doc.paths[path]?.[route.method.toLowerCase()],
      `${route.method} ${route.path} is mounted but not documented`,
    );
  }
});

Deno.test("the request schemas are the zod schemas that validate requests", async () => {
  await using server = await startServer();
  const doc = await fetchDocument(server.url);
  const { GameInput, ScoreDelta, GamePatch } = doc.components.schemas;
  assert.deepEqual(
    Object.keys(GameInput.properties).sort(),
    Object.keys(gameInputSchema.shape).sort(),
  );
  assert.deepEqual(GameInput.required.sort(), ["away", "home"]);
  assert.equal(GameInput.additionalProperties, false, "unknown fields are refused");
  assert.deepEqual(GameInput.properties.status.enum, [...STATUSES]);
  assert.equal(GameInput.properties.home.properties.score.maximum, MAX_SCORE);
  assert.equal(GameInput.properties.home.properties.name.maxLength, 64);
  assert.deepEqual(GamePatch.properties.clock.type, ["string", "null"], "null removes a field");
  assert.equal(ScoreDelta.properties.points.minimum, -MAX_POINTS);
  assert.equal(ScoreDelta.properties.points.maximum, MAX_POINTS);
  const put = doc.paths["/api/games/{id}"].put;
  assert.deepEqual(put.requestBody.content["application/json"].schema, {
    $ref: "#/components/schemas/GameInput",
  });
  assert.deepEqual(put.security, [{ bearer: [] }]);
  for (
    const status of [
      "200",
      "201",
      "400",
      "401",
      "403",
      "409",
      "412",
      "413",
      "415",
      "422",
      "429",
      "503",
    ]
  ) {
    assert.ok(put.responses[status], `PUT documents ${status}`);
  }
  const { TimerAction, EventInput } = doc.components.schemas;
  assert.deepEqual(
    Object.keys(EventInput.properties).sort(),
    Object.keys(eventInputSchema.shape).sort(),
  );
  assert.deepEqual(EventInput.required, ["kind"]);
  assert.equal(EventInput.properties.text.maxLength, 80);
  assert.deepEqual(TimerAction.properties.action.enum, ["start", "stop", "set"]);
  assert.equal(TimerAction.properties.elapsedMs.maximum, MAX_TIMER_MS);
  assert.equal(GameInput.properties.timer.properties.limitMs.maximum, MAX_TIMER_MS);
  const added = doc.paths["/api/games/{id}/events"].post;
  assert.ok(added.responses["201"].headers.Location, "an added event has a Location");
  assert.match(added.responses["422"].description, /Timeline full/);
  const since = doc.paths["/api/events"].get.parameters.find((p: Doc) => p.name === "since");
  assert.equal(since.in, "query");
  assert.equal(since.schema.pattern, "^[0-9]+$");
  for (const [path, feed] of Object.entries(doc.paths) as [string, Doc][]) {
    if (!/\/(events|stream|ws|poll)$/.test(path)) continue;
    const delta = feed.get.parameters.find((p: Doc) => p.name === "delta");
    assert.deepEqual([delta?.in, delta?.schema.enum], ["query", ["0", "1"]], `${path} takes delta`);
  }
});

Deno.test("what the service sends matches the documented schemas", async () => {
  await using server = await startServer();
  const doc = await fetchDocument(server.url);
  const ajv = withDateTime(new Ajv2020({ strict: false, allErrors: true }));
  ajv.addSchema({ $id: "scoreline", components: doc.components });
  const check = (name: string, value: unknown) => {
    const validate = ajv.compile({ $ref: `scoreline#/components/schemas/${name}` });
    assert.equal(validate(value), true, `${name}: ${JSON.stringify(validate.errors)}`);
  };

  const sse = await openSse(`${server.url}/api/events`);
  const ndjson = await openNdjson(`${server.url}/api/stream`);
  const delta = await openNdjson(`${server.url}/api/stream?delta=1`);
  await server.opened("sse");
  await server.opened("ndjson", 2);
  const put = await call(server.url, "/api/games/cup", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(1, 0, { period: "1st half", away: { name: "Tigers", score: 0, detail: "10" } }),
  });
  assert.equal(put.status, 201);
  check("Game", put.json);
  const timed = await call(server.url, "/api/games/cup/timer", {
    method: "POST",
    token: TOKEN,
    body: { action: "start" },
  });
  assert.equal(timed.status, 200);
  check("Game", timed.json);
  const scored = await call(server.url, "/api/games/cup/events", {
    method: "POST",
    token: TOKEN,
    body: { kind: "goal", side: "home", points: 1, text: "Okafor", clock: "23'" },
  });
  assert.equal(scored.status, 201);
  check("Game", scored.json);
  assert.equal(scored.json.events.length, 1);
  check("GameList", (await call(server.url, "/api/games")).json);
  const poll = await call(server.url, "/api/poll?since=0&timeout=0");
  assert.equal(poll.status, 200);
  check("PollAnswer", poll.json);
  const problem = await call(server.url, "/api/games/cup", {
    method: "PUT",
    token: TOKEN,
    body: { home: {} },
  });
  assert.equal(problem.status, 400);
  check("Problem", problem.json);
  const deleted = await call(server.url, "/api/games/cup", { method: "DELETE", token: TOKEN });
  assert.equal(deleted.status, 204);
  const history = await call(server.url, "/api/games/cup/history", { token: TOKEN });
  assert.equal(history.status, 200);
  check("History", history.json);
  const imported = await call(server.url, "/api/import", {
    method: "POST",
    token: TOKEN,
    raw: `${JSON.stringify({ id: "cup", ...gameBody(1, 0) })}\n`,
    headers: { "content-type": "application/x-ndjson" },
  });
  assert.equal(imported.status, 200);
  check("ImportAnswer", imported.json);
  const badLine = await call(server.url, "/api/import", {
    method: "POST",
    token: TOKEN,
    raw: "{}\n",
    headers: { "content-type": "application/x-ndjson" },
  });
  assert.equal(badLine.status, 400);
  check("Problem", badLine.json);

  const sseMessages = (await sse.inbox.until((e) => e.event === "removed"))
    .filter((e) => e.data).map((e) => JSON.parse(e.data));
  const lines = await ndjson.inbox.until((m) => m.type === "removed");
  const deltaLines = await delta.inbox.until((m) => m.type === "removed");
  assert.deepEqual(sseMessages.map((m) => m.type), [
    "snapshot",
    "ping",
    "update",
    "update",
    "update",
    "removed",
  ]);
  assert.deepEqual(deltaLines.map((m) => m.type), [
    "snapshot",
    "ping",
    "update",
    "patch",
    "patch",
    "removed",
  ]);
  for (const message of [...sseMessages, ...lines, ...deltaLines]) check("Message", message);

  // v2: a game in a competition with a kick-off, viewer counts, a viewers message, a filtered list.
  const cup = await call(server.url, "/api/games/cup-2", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(0, 0, { competition: "cup", startsAt: "2026-12-07T18:00:00+01:00" }),
  });
  assert.equal(cup.status, 201);
  check("Game", cup.json);
  check("GameList", (await call(server.url, "/api/games?competition=cup")).json);
  const viewers = await openNdjson(`${server.url}/api/stream?games=cup-2&viewers=1`);
  await server.opened("ndjson", 2);
  await server.viewers.count();
  const counted = await viewers.inbox.until((m) => m.type === "viewers");
  check("Message", counted.at(-1));
  check("Viewers", (await call(server.url, "/api/viewers")).json);
  check("GameViewers", (await call(server.url, "/api/games/cup-2/viewers")).json);
  await viewers.close();

  // The schemas can fail: an unknown field or a wrong type is refused.
  const validateGame = ajv.compile({ $ref: "scoreline#/components/schemas/Game" });
  assert.equal(validateGame({ ...put.json, colour: "red" }), false);
  assert.equal(validateGame({ ...put.json, version: "1" }), false);
  const validateMessage = ajv.compile({ $ref: "scoreline#/components/schemas/Message" });
  assert.equal(validateMessage({ type: "ping" }), false, "a v2 ping carries its time");
  const patch = deltaLines.find((m) => m.type === "patch");
  assert.equal(validateMessage({ ...patch, ops: [{ op: "move", from: "/a", path: "/b" }] }), false);
  const validateAnswer = ajv.compile({ $ref: "scoreline#/components/schemas/PollAnswer" });
  const { time: _time, ...withoutTime } = poll.json;
  assert.equal(validateAnswer(withoutTime), false, "a long-poll answer carries its time");
  await sse.close();
  await ndjson.close();
  await delta.close();
});
