/**
 * Server-Sent Events: `event:` is the message type, `id:` its version (the one cursor), `data:`
 * the message. Resumes from Last-Event-ID (what EventSource sends on reconnect), else `?since=`.
 */
import type { Context } from "hono";
import type { AppEnv } from "../http/env.ts";
import type { Scope } from "../core/scope.ts";
import { cursor, deltaFlag } from "../http/params.ts";
import { viewersParam } from "../http/scope_params.ts";
import { headResponse, streamResponse } from "./stream.ts";
import type { FeedContext } from "./feed_context.ts";

const encoder = new TextEncoder();
const CONTENT_TYPE = "text/event-stream; charset=utf-8";

export function sseFeed(feed: FeedContext, c: Context<AppEnv>, scope: Scope): Response {
  const lastEventId = c.req.header("last-event-id");
  const since = lastEventId !== undefined
    ? cursor(lastEventId, "Last-Event-ID")
    : cursor(c.req.query("since"), "since");
  const viewers = viewersParam(c.req.query("viewers"));
  const delta = deltaFlag(c.req.query("delta"));
  if (c.req.method === "HEAD") return headResponse(CONTENT_TYPE);
  const release = feed.acquire(c);
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
  });
}
