/**
 * A viewer on each push transport, presenting the contract messages it receives as parsed JSON in
 * an inbox (heartbeats checked and skipped), for tests that compare what every transport sees.
 */
import assert from "node:assert/strict";
import { Inbox, openNdjson, openSse, openWs } from "./feeds.ts";

// deno-lint-ignore no-explicit-any
export type Msg = any;

/** A viewer on one transport, presenting parsed messages in an inbox. */
export interface Viewer {
  name: string;
  inbox: Inbox<Msg>;
  close(): Promise<void>;
}

/**
 * Relays what a transport's own inbox receives into the viewer's, as contract messages: `parse`
 * turns one received item into a message, or null for one to skip (a heartbeat).
 */
export function relay<T>(from: Inbox<T>, parse: (item: T) => Msg | null): Inbox<Msg> {
  const inbox = new Inbox<Msg>();
  (async () => {
    for (;;) {
      const item = await from.next(60_000).catch(() => null);
      if (item === null) return inbox.end();
      const message = parse(item);
      if (message !== null) inbox.push(message);
    }
  })();
  return inbox;
}

/** Skips heartbeats, once they are seen to carry the server's time and no version. */
const notPing = (message: Msg) => {
  if (message.type !== "ping") return message;
  assert.ok(Number.isSafeInteger(message.time) && !("version" in message), "a v2 ping");
  return null;
};

export async function sseViewer(
  url: string,
  headers: Record<string, string> = {},
): Promise<Viewer> {
  const feed = await openSse(url, headers);
  assert.equal(feed.status, 200);
  const inbox = relay(feed.inbox, (event) => {
    if (!event.data) return null; // the retry line
    const message = JSON.parse(event.data);
    assert.equal(event.event, message.type, "event: is the message type");
    if (message.type === "ping") {
      assert.equal(event.id, undefined, "a ping moves no cursor: no id: line");
      return notPing(message);
    }
    assert.equal(event.id, String(message.version), "id: is the version");
    return message;
  });
  return { name: "sse", inbox, close: feed.close };
}

export async function ndjsonViewer(url: string): Promise<Viewer> {
  const feed = await openNdjson(url);
  assert.equal(feed.status, 200);
  return { name: "ndjson", inbox: relay(feed.inbox, notPing), close: feed.close };
}

export async function wsViewer(url: string): Promise<Viewer> {
  const feed = await openWs(url);
  return {
    name: "ws",
    inbox: relay(feed.inbox, notPing),
    close: async () => void (await feed.close()),
  };
}

/** A long-poll client loop: since=cursor, forever, until closed. `path` may hold a query. */
export function longPollViewer(base: string, path: string, since: number | null = null): Viewer {
  const inbox = new Inbox<Msg>();
  let cursor = since;
  let stopped = false;
  const controller = new AbortController();
  const loop = (async () => {
    while (!stopped) {
      const query = (path.includes("?") ? "&" : "?") +
        (cursor === null ? "timeout=20" : `since=${cursor}&timeout=20`);
      const response = await fetch(`${base}${path}${query}`, { signal: controller.signal }).catch(
        () => null,
      );
      if (!response) break;
      if (response.status === 204) {
        await response.body?.cancel();
        continue;
      }
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("cache-control"), "no-store");
      const body = await response.json();
      for (const message of body.messages) inbox.push(message);
      cursor = body.cursor;
      assert.equal(body.cursor, body.messages.at(-1).version);
      assert.ok(Number.isSafeInteger(body.time), "an answer carries the server's time");
    }
    inbox.end();
  })();
  return {
    name: "long_poll",
    inbox,
    async close() {
      stopped = true;
      controller.abort();
      await loop;
    },
  };
}
