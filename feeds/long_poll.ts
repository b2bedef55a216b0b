/**
 * Long polling: answers at once when anything is newer than `since`, else holds the request up
 * to `timeout` seconds and answers with the first change, or 204 when the time is up. The next
 * request sends `since=<cursor>`, so nothing is missed between two polls.
 */
import type { Context } from "hono";
import type { AppEnv } from "../http/env.ts";
import type { Scope } from "../core/scope.ts";
import { cursor, deltaFlag, pollTimeout } from "../http/params.ts";
import { viewersParam } from "../http/scope_params.ts";
import type { FeedContext } from "./feed_context.ts";

const LONG_POLL_HEADERS = {
  "content-type": "application/json",
  "cache-control": "no-store",
};

export async function longPollFeed(
  feed: FeedContext,
  c: Context<AppEnv>,
  scope: Scope,
): Promise<Response> {
  const since = cursor(c.req.query("since"), "since");
  const timeout = pollTimeout(c.req.query("timeout"));
  const viewers = viewersParam(c.req.query("viewers"));
  const delta = deltaFlag(c.req.query("delta"));
  // HEAD mirrors GET's status without waiting: there is no body to wait for.
  if (c.req.method === "HEAD") return new Response(null, { headers: LONG_POLL_HEADERS });
  const release = feed.acquire(c);

  try {
    // Before the answer, request.signal firing does mean the client left: stop waiting for it.
    const answer = await feed.hub.poll(scope, since, timeout * 1000, c.req.raw.signal, {
      delta,
      viewers,
    });
    if (!answer) {
      return new Response(null, { status: 204, headers: { "cache-control": "no-store" } });
    }
    return new Response(answer.body, { headers: LONG_POLL_HEADERS });
  } finally {
    release();
  }
}
