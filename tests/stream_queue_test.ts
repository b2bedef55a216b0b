/**
 * A stream's queue (feeds/stream.ts): the hub writes into it until STREAM_HIGH_WATER bytes have
 * gone in since it was last seen empty, then holds back (and conflates) until a look on its tick
 * finds it empty again. Here nothing reads the stream's body but the test, so the queue holds
 * exactly what was written and not yet read.
 */
import assert from "node:assert/strict";
import { ALL_GAMES } from "../core/scope.ts";
import { STREAM_HIGH_WATER, streamResponse } from "../feeds/stream.ts";
import { setup } from "./support/hub_fixture.ts";

Deno.test("a stream not read is held back once 64 KiB are queued, and caught up once its queue is empty", async () => {
  const { clock, hub, create, score, version, done } = await setup();
  await create("a");
  let released = 0;
  const response = streamResponse({
    hub,
    transport: "ndjson",
    scope: ALL_GAMES,
    cursor: null,
    viewers: false,
    delta: false,
    contentType: "application/x-ndjson",
    release: () => released++,
  });
  const reader = response.body!.getReader();
  const queued = async (chunks: number) => {
    const sizes: number[] = [];
    for (let i = 0; i < chunks; i++) sizes.push((await reader.read()).value!.byteLength);
    return sizes;
  };

  // The snapshot is delivered (and counted); each score after it is one update, one chunk.
  for (let i = 0; i < 400 && hub.held() === 0; i++) await score("a");
  assert.equal(hub.held(), 1, "held back before 400 updates of about 300 bytes");
  const delivered = hub.counters.deliveries;
  await score("a");
  clock.advance(250);
  assert.equal(hub.counters.deliveries, delivered, "the tick looked: still queued, still held");

  // The opening chunk is the snapshot and the opening ping; then one chunk per update.
  const sizes = await queued(delivered - 1);
  clock.advance(250);
  assert.equal(hub.counters.deliveries, delivered, "one chunk still queued: still held");
  sizes.push(...await queued(1));
  const total = sizes.reduce((sum, size) => sum + size, 0);
  assert.ok(total >= STREAM_HIGH_WATER, `held back at ${total} bytes, before the bound`);
  assert.ok(total - sizes.at(-1)! < STREAM_HIGH_WATER, `${total} bytes: past it by more than one`);

  clock.advance(250);
  assert.equal(hub.counters.deliveries, delivered + 1, "the queue was empty: the latest went out");
  assert.equal(hub.held(), 0);
  const latest = JSON.parse(new TextDecoder().decode((await reader.read()).value));
  assert.equal(latest.version, await version(), "conflated to the latest version");
  assert.ok(hub.counters.conflated >= 1);

  await reader.cancel();
  assert.equal(released, 1, "the feed is released once, when the client leaves");
  await done();
});
