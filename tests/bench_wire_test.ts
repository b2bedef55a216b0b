/**
 * The benchmark's load generator counts lost and duplicated versions by parsing what it reads;
 * a parser bug would show up as a server bug in the figures. These tests hold the parsers, the
 * latency histogram, the median of repeated runs, the floor table's verdicts and the perf
 * summary's sorting of samples to what they claim. They do not run the benchmark.
 */
import assert from "node:assert/strict";
import { bySite, siteLines } from "../bench/alloc_profile.ts";
import {
  ChunkedDecoder,
  eachVersion,
  Framer,
  HeadReader,
  sseId,
  WsReader,
} from "../bench/load/wire.ts";
import { Histogram } from "../bench/stats.ts";
import { median, medianRow } from "../bench/repeat.ts";
import { floorLines } from "../bench/report.ts";
import { measureFor, parseMap, PARTS, tally } from "../bench/perf_summary.ts";
import type { Row } from "../bench/scenarios.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function versions(input: string): number[] {
  const found: number[] = [];
  const b = bytes(input);
  eachVersion(b, 0, b.length, (v) => found.push(v));
  return found;
}

const UPDATE = '{"type":"update","version":1795291929409002,"game":{"id":"a","title":"version",' +
  '"version":1795291929409002,"updatedAt":"2026-11-21T18:04:05.123Z"}}';

Deno.test("each message's version is found once, not the version of the game inside it", () => {
  assert.deepEqual(versions(UPDATE), [1795291929409002]);
});

Deno.test("a ping, with or without the server's time, has no version and yields nothing", () => {
  assert.deepEqual(versions('{"type":"ping"}'), []);
  assert.deepEqual(versions('{"type":"ping","time":1795291929409}'), []);
});

Deno.test("a patch yields its own version, not the versions its operations carry", () => {
  const patch = '{"type":"patch","version":57,"id":"a","base":42,"ops":[' +
    '{"op":"replace","path":"/version","value":57},' +
    '{"op":"add","path":"/events/-","value":{"id":3,"kind":"goal","version":57}}]}';
  assert.deepEqual(versions(patch), [57]);
});

Deno.test("a long-poll answer yields the version of every message in it, in order", () => {
  const body = `{"cursor":44,"messages":[{"type":"update","version":43,"game":{"version":43}},` +
    `{"type":"removed","version":44,"id":"b"}],"time":1795291929409}`;
  assert.deepEqual(versions(body), [43, 44]);
});

Deno.test("an SSE frame's id line is read, with or without the space", () => {
  const frame = bytes("event: update\nid: 1795:3\ndata: {}");
  assert.equal(sseId(frame, 0, frame.length), "1795:3");
  const bare = bytes("id:42\ndata: {}");
  assert.equal(sseId(bare, 0, bare.length), "42");
  const none = bytes(": ping");
  assert.equal(sseId(none, 0, none.length), null);
  const ping = bytes('event: ping\ndata: {"type":"ping","time":1795291929409}');
  assert.equal(sseId(ping, 0, ping.length), null, "a v2 ping has no id: line");
});

Deno.test("SSE frames split across reads at every position come out whole", () => {
  const PING = 'event: ping\ndata: {"type":"ping","time":1795291929409}';
  const stream = `retry: 1000\n\nevent: update\nid: 1\ndata: ${UPDATE}\n\n: ping\n\n${PING}\n\n`;
  for (let cut = 1; cut < stream.length; cut++) {
    const frames: string[] = [];
    const framer = new Framer(bytes("\n\n"), (b, s, e) => frames.push(text(b.subarray(s, e))));
    const all = bytes(stream);
    framer.push(all.subarray(0, cut), 0, cut);
    framer.push(all.subarray(cut), 0, all.length - cut);
    assert.deepEqual(frames, [
      "retry: 1000",
      `event: update\nid: 1\ndata: ${UPDATE}`,
      ": ping",
      PING,
    ]);
  }
});

Deno.test("a chunked body split anywhere decodes to its payload and stops at the last chunk", () => {
  const wire = "5\r\nhello\r\n1a;ext=1\r\n, abcdefghijklmnopqrstuvwx\r\n0\r\n\r\n";
  const payload = "hello, abcdefghijklmnopqrstuvwx";
  for (let cut = 1; cut < wire.length; cut++) {
    let out = "";
    const decoder = new ChunkedDecoder((b, s, e) => (out += text(b.subarray(s, e))));
    const all = bytes(wire);
    decoder.push(all.subarray(0, cut), 0, cut);
    decoder.push(all.subarray(cut), 0, all.length - cut);
    assert.equal(out, payload, `cut at ${cut}`);
    assert.equal(decoder.ended, true);
  }
});

Deno.test("a response head split across reads is parsed, and the body starts after it", () => {
  const head = new HeadReader();
  const first = bytes("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-En");
  assert.equal(head.push(first, 0, first.length), -1);
  const second = bytes("coding: chunked\r\n\r\n5\r\nhello");
  const at = head.push(second, 0, second.length);
  assert.equal(head.head?.status, 200);
  assert.equal(head.head?.headers.get("transfer-encoding"), "chunked");
  assert.equal(text(head.buffer.subarray(at)), "5\r\nhello");
});

function wsFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const header = payload.length < 126
    ? [0x80 | opcode, payload.length]
    : [0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff];
  const frame = new Uint8Array(header.length + payload.length);
  frame.set(header);
  frame.set(payload, header.length);
  return frame;
}

Deno.test("WebSocket text frames of both length forms come out whole across reads", () => {
  const small = bytes('{"type":"ping"}');
  const large = bytes(UPDATE.repeat(2));
  const wire = new Uint8Array([
    ...wsFrame(1, small),
    ...wsFrame(1, large),
    ...wsFrame(8, new Uint8Array()),
  ]);
  for (let cut = 1; cut < wire.length; cut += 7) {
    const texts: string[] = [];
    const reader = new WsReader((b, s, e) => texts.push(text(b.subarray(s, e))), () => {});
    reader.push(wire.subarray(0, cut), 0, cut);
    reader.push(wire.subarray(cut), 0, wire.length - cut);
    assert.deepEqual(texts, [text(small), text(large)]);
    assert.equal(reader.closed, true);
  }
});

Deno.test("a WebSocket ping is answered with its payload", () => {
  const pongs: string[] = [];
  const reader = new WsReader(() => {}, (payload) => pongs.push(text(payload)));
  const ping = wsFrame(9, bytes("hi"));
  reader.push(ping, 0, ping.length);
  assert.deepEqual(pongs, ["hi"]);
});

Deno.test("histogram quantiles stay within 2 % of the exact value, and the maximum is exact", () => {
  const histogram = new Histogram();
  const samples = Array.from({ length: 10_000 }, (_, i) => 0.5 + i * 0.037);
  for (const s of samples) histogram.add(s);
  for (const q of [0.5, 0.9, 0.99]) {
    const exact = samples[Math.ceil(q * samples.length) - 1]!;
    const got = histogram.quantile(q)!;
    assert.ok(Math.abs(got - exact) / exact < 0.02, `q${q}: ${got} vs ${exact}`);
  }
  assert.equal(histogram.maxMs, samples[samples.length - 1]);
  const merged = new Histogram();
  merged.merge(histogram.toJSON());
  assert.equal(merged.quantile(0.99), histogram.quantile(0.99));
});

const run = (peer: Row["peer"], figures: Partial<Row>): Row => ({
  scenario: "one-pub-sse-1k",
  peer,
  status: "ok",
  ...figures,
});

Deno.test("the median of repeated runs is taken figure by figure, and each run's value is kept", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  const merged = medianRow([
    run("bare", { cpuPerDeliveryUs: 9, deliveriesPerSecond: 90_000, latency: lat(1, 9) }),
    run("bare", { cpuPerDeliveryUs: 30, deliveriesPerSecond: 70_000, latency: lat(3, 30) }),
    run("bare", { cpuPerDeliveryUs: 10, deliveriesPerSecond: 80_000, latency: lat(2, 10) }),
  ]);
  assert.equal(merged.status, "ok");
  assert.equal(merged.repeats, 3);
  assert.equal(merged.cpuPerDeliveryUs, 10);
  assert.equal(merged.deliveriesPerSecond, 80_000);
  assert.equal(merged.latency?.p99, 10);
  assert.deepEqual(merged.runs?.cpuPerDeliveryUs, [9, 30, 10]);
  assert.deepEqual(merged.runs?.["latency.p99"], [9, 30, 10]);
});

Deno.test("a run that failed is left out of the median and named in the note", () => {
  const merged = medianRow([
    run("scoreline", { connectSeconds: 2 }),
    { scenario: "one-pub-sse-1k", peer: "scoreline", status: "failed", note: "boom" },
    run("scoreline", { connectSeconds: 4 }),
  ]);
  assert.equal(merged.status, "ok");
  assert.equal(merged.connectSeconds, 3);
  assert.match(merged.note ?? "", /boom/);
  assert.match(merged.note ?? "", /1 of 3 runs did not finish/);
  const none = medianRow([{ scenario: "x", peer: "bare", status: "failed", note: "down" }]);
  assert.equal(none.status, "failed");
});

Deno.test("the floor table divides Scoreline by the bare floor and judges each threshold", () => {
  const lines = floorLines([
    run("scoreline", { cpuPerDeliveryUs: 11 }),
    run("scoreline-memory", { cpuPerDeliveryUs: 12, deliveriesPerSecond: 89_000 }),
    run("bare", { cpuPerDeliveryUs: 10, deliveriesPerSecond: 100_000 }),
    run("bare-contract", { cpuPerDeliveryUs: 11.5 }),
  ]);
  const line = (what: string) => lines.find((l) => l.startsWith(`| ${what}`)) ?? "";
  assert.match(
    line("Server CPU per SSE delivery, 1,000 viewers, one publisher (SQLite)"),
    /1\.10× \| ≤ 1\.15× \| met \| 11\.5 µs \| 0\.96× \|$/,
  );
  assert.match(
    line("Server CPU per SSE delivery, 1,000 viewers, one publisher (:memory:)"),
    /1\.20× \| ≤ 1\.15× \| not met \| 11\.5 µs \| 1\.04× \|$/,
  );
  // The target is judged against the bare floor only; no contract row, no contract ratio.
  assert.match(
    line("One-publisher SSE deliveries/s, 1,000 viewers (:memory:)"),
    /0\.89× \| ≥ 0\.9× \| not met \| – \| – \|$/,
  );
  assert.equal(lines.some((l) => l.includes("WebSocket")), false);
});

Deno.test("perf_summary files each sample under its part, naming builtins from V8's map", () => {
  // A builtin runs from Deno's binary (perf names only the file), JIT code from anonymous memory.
  const map = parseMap(
    "7f0000001000 100 Builtin:InterpreterEntryTrampoline\n7f0000100000 80 JS:*'deliver hub.ts:1\n",
  );
  const spent = tally(
    "a",
    [
      "  10/10      7f0000001010 [unknown] (/usr/lib/node_modules/deno/deno)",
      "  10/10      7f0000100040 JS:*'deliver hub.ts:1 (/tmp/perf-10.map)",
      "  10/10      7f0000200000 [unknown] (/tmp/perf-10.map)",
      "  10/10      55cd00001000 [unknown] (/usr/lib/node_modules/deno/deno)",
      "  10/10  ffffffff81000000 tcp_sendmsg ([kernel.kallsyms])",
      "  10/10      7fa5622d686c _int_malloc (/usr/lib/x86_64-linux-gnu/libc.so.6)",
      "  10/11      55cd00001000 [unknown] (/usr/lib/node_modules/deno/deno)",
      "not a sample line",
    ],
    map,
    2000,
  );
  assert.equal(spent.samples, 7);
  assert.deepEqual([...spent.parts], [
    [PARTS[1], 1],
    [PARTS[2], 2],
    [PARTS[3], 1],
    [PARTS[0], 1],
    [PARTS[4], 1],
    [PARTS[5], 1],
  ]);
  assert.equal(spent.symbols.get(`${PARTS[1]} · InterpreterEntryTrampoline`), 1);
  assert.equal(spent.symbols.get(`${PARTS[2]} · JS:*'deliver hub.ts:1`), 1);
  assert.equal(spent.symbols.get(`${PARTS[0]} · tcp_sendmsg`), 1);
});

Deno.test("perf_summary gives µs per unit of work when every recording says its work, else ms", () => {
  const lines = ["  10/10  ffffffff81000000 tcp_sendmsg ([kernel.kallsyms])"];
  const a = { ...tally("a", lines, [], 2000), work: { count: 4, unit: "delivery" } };
  const b = { ...tally("b", lines, [], 1000), work: { count: 2, unit: "delivery" } };
  const both = measureFor([a, b]);
  assert.equal(both.label, "µs per delivery");
  assert.equal(both.of(a, 2000), 250_000, "2,000 samples at 2 kHz over 4 deliveries");
  assert.equal(both.of(b, 1000), 500_000);
  const unknown = measureFor([a, tally("c", lines, [], 2000)]);
  assert.equal(unknown.label, "ms");
  assert.equal(unknown.of(a, 2000), 1000);
});

function lat(p50: number, p99: number) {
  return { samples: 100, p50, p90: p99, p99, max: p99 };
}

Deno.test("alloc_profile sums a sampled heap profile by site and ranks the differences", () => {
  const frame = (functionName: string, url: string, lineNumber: number) => ({
    functionName,
    url,
    lineNumber,
  });
  const sites = bySite({
    callFrame: frame("(root)", "", -1),
    selfSize: 0,
    children: [
      {
        callFrame: frame("start", "file:///work/x/feeds/stream.ts", 128),
        selfSize: 100,
        children: [{
          callFrame: frame("", "ext:deno_web/06_streams.js", 0),
          selfSize: 40,
          children: [],
        }],
      },
      {
        callFrame: frame("start", "file:///work/x/feeds/stream.ts", 128),
        selfSize: 20,
        children: [],
      },
    ],
  }, "file:///work/x/");
  assert.deepEqual(Object.fromEntries(sites), {
    "start feeds/stream.ts:129": 120,
    "(anonymous) ext:deno_web/06_streams.js:1": 40,
  });
  assert.deepEqual(siteLines(sites, undefined, 1), ["    120  start feeds/stream.ts:129"]);
  const against = new Map([["(anonymous) ext:deno_web/06_streams.js:1", 100]]);
  assert.deepEqual(siteLines(sites, against, 2), [
    "    120       0     120  start feeds/stream.ts:129",
    "     40     100     -60  (anonymous) ext:deno_web/06_streams.js:1",
  ]);
});
