/**
 * A stream's queue (feeds/stream.ts): the hub writes into it while fewer than STREAM_HIGH_WATER
 * bytes are queued, then holds back (and conflates) until a look on its tick finds room. Here
 * nothing reads the stream's body but the test, so the queue holds exactly what was written and
 * not yet read.
 */
import assert from "node:assert/strict";
import { ALL_GAMES } from "../core/scope.ts";
import { STREAM_HIGH_WATER, streamResponse } from "../feeds/stream.ts";
import { setup } from "./support/hub_fixture.ts";

async function openStream(games = 1) {
  const fixture = await setup();
  await fixture.create("a");
  for (let i = 1; i < games; i++) await fixture.create(`game-${i}`);
  const stream = { released: 0 };
  const response = streamResponse({
    hub: fixture.hub,
    transport: "ndjson",
    scope: ALL_GAMES,
    cursor: null,
    viewers: false,
    delta: false,
    contentType: "application/x-ndjson",
    release: () => stream.released++,
  });
  const reader = response.body!.getReader();
  /** The sizes of the next `chunks` chunks queued (they are there: reading does not wait). */
  const read = async (chunks: number) => {
    const sizes: number[] = [];
    for (let i = 0; i < chunks; i++) sizes.push((await reader.read()).value!.byteLength);
    return sizes;
  };
  return { ...fixture, stream, reader, read };
}

Deno.test("a stream not read is held back once 64 KiB are queued, and caught up once it has room", async () => {
  const { clock, hub, score, version, done, stream, reader, read } = await openStream();
  for (let i = 0; i < 400 && hub.held() === 0; i++) await score("a");
  assert.equal(hub.held(), 1, "held back before 400 updates of about 300 bytes");
  // Counted: the snapshot and each update. Queued: the snapshot and the opening ping in one
  // chunk, then one chunk per update.
  const delivered = hub.counters.deliveries;
  await score("a");
  clock.advance(250);
  assert.equal(hub.counters.deliveries, delivered, "the tick looked: still full, still held");
  assert.ok(hub.counters.conflated >= 1);

  const sizes = await read(delivered);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  assert.ok(total >= STREAM_HIGH_WATER, `held back at ${total} bytes, before the bound`);
  assert.ok(total - sizes.at(-1)! < STREAM_HIGH_WATER, `${total} bytes: past it by more than one`);
  clock.advance(250);
  assert.equal(hub.counters.deliveries, delivered + 1, "read: the latest went out on the tick");
  assert.equal(hub.held(), 0);
  const latest = JSON.parse(new TextDecoder().decode((await reader.read()).value));
  assert.equal(latest.version, await version(), "conflated to the latest version");

  await reader.cancel();
  assert.equal(stream.released, 1, "the feed is released once, when the client leaves");
  await done();
});

Deno.test("a stream always two chunks behind is never held back, however much it is sent", async () => {
  // A catch-up of 250 games opens it: one chunk of about 40 KB, larger than all the rest.
  const { hub, score, done, reader, read } = await openStream(250);
  const opening = (await read(1))[0]!;
  assert.ok(opening > 30_000, `an opening chunk of ${opening} bytes`);
  // Each update adds a chunk and the test reads the oldest: two are queued whenever the hub looks,
  // never none, and they hold under 1 KiB.
  await score("a");
  await score("a");
  let sent = 0;
  for (let i = 0; i < 1000; i++) {
    await score("a");
    sent += (await read(1))[0]!;
  }
  assert.ok(sent > 2 * STREAM_HIGH_WATER, `${sent} bytes sent`);
  assert.equal(hub.held(), 0);
  assert.equal(hub.counters.conflated, 0);
  assert.equal(hub.counters.deliveries, 1 + 2 + 1000, "the snapshot and every update");
  await reader.cancel();
  await done();
});
