/**
 * HTTP streaming as NDJSON: one message per line, readable with fetch() streams or an XHR at
 * readyState 3 in browsers too old for either EventSource or fetch streams.
 */
import type { Context } from "hono";
import type { AppEnv } from "../http/env.ts";
import type { Scope } from "../core/scope.ts";
import { cursor, deltaFlag } from "../http/params.ts";
import { viewersParam } from "../http/scope_params.ts";
import { headResponse, streamResponse } from "./stream.ts";
import type { FeedContext } from "./feed_context.ts";

const CONTENT_TYPE = "application/x-ndjson";

export function ndjsonFeed(feed: FeedContext, c: Context<AppEnv>, scope: Scope): Response {
  const since = cursor(c.req.query("since"), "since");
  const viewers = viewersParam(c.req.query("viewers"));
  const delta = deltaFlag(c.req.query("delta"));
  if (c.req.method === "HEAD") return headResponse(CONTENT_TYPE);
  const release = feed.acquire(c);
  return streamResponse({
    hub: feed.hub,
    transport: "ndjson",
    scope,
    cursor: since,
    viewers,
    delta,
    contentType: CONTENT_TYPE,
    release,
  });
}
