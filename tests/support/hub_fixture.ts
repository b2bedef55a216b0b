/**
 * The hub on its own, for tests: fake sinks that record what they are handed, a memory store as
 * the source, and a manual clock.
 */
import assert from "node:assert/strict";
import type { ChangeSource } from "../../core/change_source.ts";
import { Hub } from "../../core/hub.ts";
import type { Message, Ping } from "../../core/messages.ts";
import { addPoints, deleteGame, replaceGame } from "../../core/scoreboard.ts";
import { gameInputSchema, validate } from "../../core/schema.ts";
import type { CloseReason, Sink, StreamTransport } from "../../core/stream_subscribers.ts";
import { openMemoryStore } from "../../store/memory.ts";
import { ManualClock } from "./clock.ts";

export class FakeSink implements Sink {
  sent: Message[] = [];
  pings: Ping[] = [];
  full = false;
  /** How often the hub asked whether it can take more: the work a delivery costs this feed. */
  asked = 0;
  closed: CloseReason | undefined;
  constructor(readonly transport: StreamTransport = "sse") {}
  send(message: Message) {
    this.sent.push(message);
  }
  ping(ping: Ping) {
    this.pings.push(ping);
  }
  writable() {
    this.asked++;
    return !this.full;
  }
  close(reason: CloseReason) {
    this.closed = reason;
  }
  get versions() {
    return this.sent.map((m) => m.version);
  }
}

export const body = (() => {
  const r = validate(gameInputSchema, { status: "live", home: { name: "L" }, away: { name: "T" } });
  if (!r.ok) throw new Error();
  return r.value;
})();

export interface SetupOptions {
  maxPending?: number;
  maxStallMs?: number;
  /** The hub's source, in place of the store itself (the store is still what writes go to). */
  source?: (store: ReturnType<typeof openMemoryStore>) => ChangeSource;
}

export function setup(options: SetupOptions = {}) {
  const { source, ...hubOptions } = options;
  const clock = new ManualClock();
  const store = openMemoryStore(clock);
  const hub = new Hub({
    source: source?.(store) ?? store,
    clock,
    heartbeatMs: 15_000,
    ...hubOptions,
  });
  const create = (id: string, competition?: string) =>
    store.write({ id, mutate: replaceGame({ ...body, competition }, {}) });
  const score = (id: string) =>
    store.write({ id, mutate: addPoints({ side: "home", points: 1 }, {}) });
  const remove = (id: string) => store.write({ id, mutate: deleteGame({}) });
  const version = async () => (await store.snapshot()).version;
  const done = async () => {
    hub.close();
    await store.close();
    assert.equal(clock.timers, 0, "the hub stopped its timers");
  };
  return { clock, store, hub, create, score, remove, version, done };
}
