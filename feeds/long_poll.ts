/**
 * Long polling: answers at once when anything is newer than `since`, else holds the request up
 * to `timeout` seconds and answers with the first change, or 204 when the time is up. The next
 * request sends `since=<cursor>`, so nothing is missed between two polls.
 */
import type { Scope } from "../core/scope.ts";
import type { PollAnswer } from "../core/messages.ts";
import { cursor, deltaFlag, pollTimeout } from "../http/params.ts";
import { viewersParam } from "../http/scope_params.ts";
import type { FeedContext, FeedRequest } from "./feed_context.ts";

const LONG_POLL_HEADERS = {
  "content-type": "application/json",
  "cache-control": "no-store",
};
const NO_CHANGE_HEADERS = { "cache-control": "no-store" };

export function longPollFeed(
  feed: FeedContext,
  request: FeedRequest,
  scope: Scope,
): Response | Promise<Response> {
  const since = cursor(request.query("since"), "since");
  const timeout = pollTimeout(request.query("timeout"));
  const viewers = viewersParam(request.query("viewers"));
  const delta = deltaFlag(request.query("delta"));
  const headers = request.headers;
  // HEAD mirrors GET's status without waiting: there is no body to wait for.
  if (request.method === "HEAD") {
    return new Response(null, { headers: { ...LONG_POLL_HEADERS, ...headers } });
  }
  const release = feed.acquireUntilAnswered(request);
  // Before the answer, request.signal firing does mean the client left: stop waiting for it, so
  // its slot is free at once and not only at its deadline (which can be a minute away). It costs
  // an AbortSignal and an op, so the hub reads it only from a poll that waits (Departure), but
  // Deno tells a departure in no other way: `completed` settles only once an answer was written.
  let answered: Promise<PollAnswer | null>;
  try {
    answered = feed.hub.poll(scope, since, timeout * 1000, request.raw, { delta, viewers });
  } catch (error) {
    release();
    throw error;
  }
  return answered.then((answer) => {
    release();
    return answer
      ? new Response(answer.body, { headers: { ...LONG_POLL_HEADERS, ...headers } })
      : new Response(null, { status: 204, headers: { ...NO_CHANGE_HEADERS, ...headers } });
  }, (error) => {
    release();
    return request.failed(error);
  });
}
