/** Where each push transport is mounted, for one game and for all games. */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../app.ts";
import { gameId } from "../routes/params.ts";
import type { FeedContext } from "./feed_context.ts";
import { LONG_POLL_HEADERS, longPollFeed } from "./long_poll.ts";
import { NDJSON_TYPE, ndjsonFeed } from "./ndjson.ts";
import { SSE_TYPE, sseFeed } from "./sse.ts";
import { streamHeaders } from "./stream.ts";
import { wsFeed } from "./ws.ts";

type Feed = (
  feed: FeedContext,
  c: Context<AppEnv>,
  scope: string | null,
) => Response | Promise<Response>;

/** Path for all games, path for one, the feed, and the headers a HEAD gets (null: as GET). */
const FEEDS: [string, string, Feed, Record<string, string> | null][] = [
  ["/events", "/games/:id/events", sseFeed, streamHeaders(SSE_TYPE)],
  ["/stream", "/games/:id/stream", ndjsonFeed, streamHeaders(NDJSON_TYPE)],
  ["/ws", "/games/:id/ws", wsFeed, null],
  ["/poll", "/games/:id/poll", longPollFeed, LONG_POLL_HEADERS],
];

export function feedRoutes(feed: FeedContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  for (const [all, one, handler, head] of FEEDS) {
    // Hono answers HEAD with the GET handler and drops the body unread: a stream would stay
    // subscribed, holding its feed slot, forever. So HEAD gets the headers and nothing else.
    const route = (c: Context<AppEnv>, scope: string | null) =>
      head && c.req.method === "HEAD"
        ? new Response(null, { headers: head })
        : handler(feed, c, scope);
    app.get(all, (c) => route(c, null));
    app.get(one, (c) => route(c, gameId(c.req.param("id") ?? "")));
  }
  return app;
}

/** The feed paths, for the 405 answers in app.ts. */
export const FEED_PATHS = FEEDS.flatMap(([all, one]) => [all, one]);
