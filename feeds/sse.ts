/**
 * Server-Sent Events: `event:` is the message type, `id:` its version (the one cursor), `data:`
 * the message. Resumes from Last-Event-ID (what EventSource sends on reconnect), else `?since=`.
 */
import type { Scope } from "../core/scope.ts";
import { cursor, deltaFlag } from "../http/params.ts";
import { viewersParam } from "../http/scope_params.ts";
import { headResponse, streamResponse } from "./stream.ts";
import type { FeedContext, FeedRequest } from "./feed_context.ts";

const encoder = new TextEncoder();
const CONTENT_TYPE = "text/event-stream; charset=utf-8";

export function sseFeed(feed: FeedContext, request: FeedRequest, scope: Scope): Response {
  const lastEventId = request.header("last-event-id");
  const since = lastEventId !== undefined
    ? cursor(lastEventId, "Last-Event-ID")
    : cursor(request.query("since"), "since");
  const viewers = viewersParam(request.query("viewers"));
  const delta = deltaFlag(request.query("delta"));
  if (request.method === "HEAD") return headResponse(CONTENT_TYPE, request.headers);
  const release = feed.acquire(request);
  // Reconnect delay with jitter, so ten thousand browsers dropped together (a restart, a proxy
  // reload) do not all come back in the same millisecond.
  const retry = 1000 + Math.floor(Math.random() * 2000);
  return streamResponse({
    hub: feed.hub,
    transport: "sse",
    scope,
    cursor: since,
    viewers,
    delta,
    prelude: encoder.encode(`retry: ${retry}\n\n`),
    contentType: CONTENT_TYPE,
    release,
    headers: request.headers,
  });
}
