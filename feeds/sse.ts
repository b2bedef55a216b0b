/**
 * Server-Sent Events: `event:` is the message type, `id:` its version (the one cursor), `data:`
 * the message. Resumes from Last-Event-ID (what EventSource sends on reconnect), else `?since=`.
 */
import type { Scope } from "../core/scope.ts";
import { cursor, deltaFlag } from "../http/params.ts";
import { viewersParam } from "../http/scope_params.ts";
import { headResponse, streamResponse } from "./stream.ts";
import type { FeedContext, FeedRequest } from "./feed_context.ts";

const CONTENT_TYPE = "text/event-stream; charset=utf-8";
/**
 * The reconnect delays a stream may be given, 1 to 3 s in steps of 10 ms, each line encoded once:
 * ten thousand browsers dropped together (a restart, a proxy reload) come back spread over two
 * seconds, and a connect costs no string and no encoding of its own.
 */
const RETRY_LINES: readonly Uint8Array[] = Array.from(
  { length: 200 },
  (_, step) => new TextEncoder().encode(`retry: ${1000 + step * 10}\n\n`),
);

export function sseFeed(feed: FeedContext, request: FeedRequest, scope: Scope): Response {
  const lastEventId = request.header("last-event-id");
  const since = lastEventId !== undefined
    ? cursor(lastEventId, "Last-Event-ID")
    : cursor(request.query("since"), "since");
  const viewers = viewersParam(request.query("viewers"));
  const delta = deltaFlag(request.query("delta"));
  if (request.method === "HEAD") return headResponse(CONTENT_TYPE, request.headers);
  const release = feed.acquire(request);
  return streamResponse({
    hub: feed.hub,
    transport: "sse",
    scope,
    cursor: since,
    viewers,
    delta,
    prelude: RETRY_LINES[Math.floor(Math.random() * RETRY_LINES.length)],
    contentType: CONTENT_TYPE,
    release,
    headers: request.headers,
  });
}
