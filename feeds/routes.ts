/** Where each push transport is mounted, for one game and for all games. */
import { Hono } from "hono";
import { gameScope, type Scope } from "../core/scope.ts";
import type { AppEnv } from "../http/env.ts";
import { gameId } from "../http/params.ts";
import { filterScope } from "../http/scope_params.ts";
import { contextRequest, type FeedContext, type FeedRequest } from "./feed_context.ts";
import { longPollFeed } from "./long_poll.ts";
import { ndjsonFeed } from "./ndjson.ts";
import { sseFeed } from "./sse.ts";
import { wsFeed } from "./ws.ts";

export type Feed = (
  feed: FeedContext,
  request: FeedRequest,
  scope: Scope,
) => Response | Promise<Response>;

/** Each transport: its all-games path, its one-game path, its handler. */
export const FEEDS: readonly [string, string, Feed][] = [
  ["/events", "/games/:id/events", sseFeed],
  ["/stream", "/games/:id/stream", ndjsonFeed],
  ["/ws", "/games/:id/ws", wsFeed],
  ["/poll", "/games/:id/poll", longPollFeed],
];

export function feedRoutes(feed: FeedContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  for (const [all, one, handler] of FEEDS) {
    app.get(
      all,
      (c) => handler(feed, contextRequest(c), filterScope((name) => c.req.queries(name))),
    );
    app.get(
      one,
      (c) => handler(feed, contextRequest(c), gameScope(gameId(c.req.param("id") ?? ""))),
    );
  }
  return app;
}

/** The feed paths, for the 405 answers in app.ts. */
export const FEED_PATHS = FEEDS.flatMap(([all, one]) => [all, one]);
