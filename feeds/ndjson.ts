/**
 * HTTP streaming as NDJSON: one message per line, readable with fetch() streams or an XHR at
 * readyState 3 in browsers too old for either EventSource or fetch streams.
 */
import type { Scope } from "../core/scope.ts";
import { cursor, deltaFlag } from "../http/params.ts";
import { viewersParam } from "../http/scope_params.ts";
import { headResponse, streamResponse } from "./stream.ts";
import type { FeedContext, FeedRequest } from "./feed_context.ts";

const CONTENT_TYPE = "application/x-ndjson";

export function ndjsonFeed(feed: FeedContext, request: FeedRequest, scope: Scope): Response {
  const since = cursor(request.query("since"), "since");
  const viewers = viewersParam(request.query("viewers"));
  const delta = deltaFlag(request.query("delta"));
  if (request.method === "HEAD") return headResponse(CONTENT_TYPE, request.headers);
  const release = feed.acquire(request);
  return streamResponse({
    hub: feed.hub,
    transport: "ndjson",
    scope,
    cursor: since,
    viewers,
    delta,
    contentType: CONTENT_TYPE,
    release,
    headers: request.headers,
  });
}
