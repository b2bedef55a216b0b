/**
 * /metrics: the Prometheus text format with the series the contract lists, each meaning what
 * its HELP says, checked against what a test did to a real server.
 */
import assert from "node:assert/strict";
import { Hub } from "../core/hub.ts";
import { FeedCapacity } from "../core/capacity.ts";
import { Metrics } from "../http/metrics.ts";
import { openMemoryStore } from "../store/memory.ts";
import { ManualClock } from "./support/clock.ts";
import { openSse, openWs } from "./support/feeds.ts";
import { call, gameBody } from "./support/http.ts";
import { startServer, TOKEN } from "./support/server.ts";

/** Parses the exposition into `name{labels}` → value, checking every line is well-formed. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|\+Inf)$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const answer = await call(url, "/metrics");
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return parse(answer.text);
}

Deno.test("/metrics counts subscribers by transport, publishes, deliveries and writes exactly", async () => {
  await using server = await startServer();
  const put = await call(server.url, "/api/games/cup", {
    method: "PUT",
    token: TOKEN,
    body: gameBody(),
  });
  assert.equal(put.status, 201);
  const sse = await openSse(`${server.url}/api/games/cup/events`);
  const ws = await openWs(`${server.url}/api/ws`);
  await server.opened("sse");
  await server.opened("ws");
  assert.equal((await sse.inbox.until((e) => e.event === "snapshot")).length > 0, true);
  assert.equal((await ws.inbox.next()).type, "snapshot");
  assert.equal((await ws.inbox.next()).type, "ping", "pings are not deliveries");

  const scored = await call(server.url, "/api/games/cup/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "home", points: 1 },
  });
  assert.equal(scored.status, 200);
  await sse.inbox.until((e) => e.event === "update");
  assert.equal((await ws.inbox.next()).type, "update");
  const refused = await call(server.url, "/api/games/cup/score", {
    method: "POST",
    token: TOKEN,
    body: { side: "away", points: -1 },
  });
  assert.equal(refused.status, 422);

  const m = await scrape(server.url);
  assert.equal(m.get('scoreline_subscribers{transport="sse"}'), 1);
  assert.equal(m.get('scoreline_subscribers{transport="ws"}'), 1);
  assert.equal(m.get('scoreline_subscribers{transport="ndjson"}'), 0);
  assert.equal(m.get('scoreline_subscribers{transport="long_poll"}'), 0);
  assert.equal(m.get("scoreline_messages_published_total"), 2, "the PUT and the goal");
  // Each viewer got a snapshot and the goal; the PUT came before either subscribed.
  assert.equal(m.get("scoreline_deliveries_total"), 4);
  assert.equal(m.get("scoreline_conflated_total"), 0);
  assert.equal(m.get("scoreline_patches_computed_total"), 0, "no viewer asked for deltas");
  assert.equal(m.get("scoreline_slow_readers_closed_total"), 0);
  assert.equal(m.get('scoreline_writes_total{action="put",outcome="created"}'), 1);
  assert.equal(m.get('scoreline_writes_total{action="score",outcome="saved"}'), 1);
  assert.equal(m.get('scoreline_writes_total{action="score",outcome="rejected"}'), 1);
  assert.equal(m.get('scoreline_write_duration_seconds_count{action="score"}'), 2);
  assert.equal(m.get('scoreline_write_duration_seconds_bucket{le="+Inf",action="score"}'), 2);
  assert.ok(m.get('scoreline_write_duration_seconds_sum{action="score"}')! > 0);
  // One observation per committed batch: two batches, however many viewers.
  assert.equal(m.get("scoreline_publish_to_deliver_seconds_count"), 2);
  assert.ok(m.get("process_resident_memory_bytes")! > 1_000_000);
  assert.ok(m.get("process_cpu_seconds_total")! > 0);

  await sse.close();
  await ws.close();
});

Deno.test("the publish-to-deliver histogram takes one sample per batch, not one per viewer", async () => {
  await using server = await startServer();
  const feeds = await Promise.all(
    Array.from({ length: 5 }, () => openSse(`${server.url}/api/events`)),
  );
  await server.opened("sse", 5);
  for (const feed of feeds) await feed.inbox.until((e) => e.event === "snapshot");
  for (let i = 0; i < 3; i++) {
    const put = await call(server.url, `/api/games/g${i}`, {
      method: "PUT",
      token: TOKEN,
      body: gameBody(),
    });
    assert.equal(put.status, 201);
  }
  for (const feed of feeds) {
    await feed.inbox.until((e) => e.id !== undefined && e.data.includes('"g2"'));
  }
  const m = await scrape(server.url);
  assert.equal(m.get("scoreline_deliveries_total"), 5 + 15, "5 snapshots, 3 updates × 5 viewers");
  assert.equal(m.get("scoreline_publish_to_deliver_seconds_count"), 3);
  for (const feed of feeds) await feed.close();
});

Deno.test("feeds refused by the per-client cap are counted", async () => {
  await using server = await startServer({ env: { SCORELINE_FEEDS_PER_CLIENT: "1" } });
  const first = await openSse(`${server.url}/api/events`);
  await server.opened("sse");
  const second = await call(server.url, "/api/events");
  assert.equal(second.status, 429);
  const m = await scrape(server.url);
  assert.equal(m.get("scoreline_feeds_refused_total"), 1);
  await first.close();
});

Deno.test("slow-reader counters are read from the hub at scrape time", async () => {
  const clock = new ManualClock();
  const store = openMemoryStore(clock);
  const hub = new Hub({ source: store, clock, heartbeatMs: 15_000 });
  const metrics = new Metrics();
  metrics.watch({ hub, capacity: new FeedCapacity(10, 10) });
  hub.counters.conflated = 7;
  hub.counters.slowClosed = 2;
  let m = parse((await metrics.render()).body);
  assert.equal(m.get("scoreline_conflated_total"), 7);
  assert.equal(m.get("scoreline_slow_readers_closed_total"), 2);
  hub.counters.conflated = 9;
  m = parse((await metrics.render()).body);
  assert.equal(m.get("scoreline_conflated_total"), 9, "a second scrape sees the new value");
  assert.equal(m.get("scoreline_held_updates"), 0);
  hub.close();
  await store.close();
});

Deno.test("every series has HELP and TYPE lines, and counters end in _total", async () => {
  await using server = await startServer();
  const answer = await call(server.url, "/metrics");
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const types = new Map<string, string>();
  for (const [, name, type] of answer.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    types.set(name!, type!);
  }
  for (const name of types.keys()) {
    assert.match(answer.text, new RegExp(`^# HELP ${name} \\S`, "m"));
  }
  for (const [name, type] of types) {
    if (type === "counter") assert.match(name, /_total$/, `${name} is a counter`);
  }
  for (
    const name of [
      "scoreline_subscribers",
      "scoreline_messages_published_total",
      "scoreline_deliveries_total",
      "scoreline_conflated_total",
      "scoreline_slow_readers_closed_total",
      "scoreline_write_duration_seconds",
      "scoreline_publish_to_deliver_seconds",
    ]
  ) {
    assert.ok(types.has(name), `${name} is exposed`);
  }
  assert.equal(types.get("scoreline_write_duration_seconds"), "histogram");
  assert.equal(types.get("scoreline_publish_to_deliver_seconds"), "histogram");
});

Deno.test("the Grafana dashboard under docs/ reads only series that /metrics exposes", async () => {
  await using server = await startServer();
  const answer = await call(server.url, "/metrics");
  assert.equal(answer.status, 200);
  const exposed = new Set([...answer.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!));
  const dashboard = JSON.parse(
    await Deno.readTextFile(new URL("../docs/grafana/scoreline.json", import.meta.url)),
  );
  const expressions: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) =>
    p.targets.map((t) => t.expr)
  );
  assert.ok(expressions.length >= 10);
  for (const expr of expressions) {
    const names = [...expr.matchAll(/\b((?:scoreline|process)_[a-z_]+)/g)].map((m) => m[1]!);
    assert.ok(names.length > 0, expr);
    for (const name of names) {
      const series = name.replace(/_(bucket|sum|count)$/, "");
      assert.ok(exposed.has(series), `${expr} reads ${name}, which /metrics does not expose`);
    }
  }
});
