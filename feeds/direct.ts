/**
 * The feeds served before Hono: a GET of a feed route (`/api/{events,stream,ws,poll}` and
 * `/api/games/{id}/...`) goes straight from `Deno.serve`'s handler to its transport. A long poll
 * is a request per answer, and through Hono each paid for a context, a promise per middleware,
 * headers set one by one after the handler and a materialised `Headers`: more than twice the
 * bare server's CPU per poll (README, Performance). Here the same work is done once: the request
 * id, `nosniff` and CORS are in the answer's headers when it is made, the log line is
 * requestLog's own (`logAnswer`), errors are the same problem+json.
 *
 * Only what Hono would read the same way is taken: a path of plain characters and a query with
 * no `%`, `+` or `#` (those Hono decodes). Anything else, and every other method, returns
 * undefined and goes through Hono, which answers it as before (HEAD, 405, a bad id's 400).
 */
import type { Logger } from "../core/log.ts";
import { gameScope, type Scope } from "../core/scope.ts";
import { READ_CORS_HEADERS } from "../http/cors.ts";
import { problemOf, problemResponse } from "../http/problem.ts";
import { logAnswer, requestId } from "../http/request_log.ts";
import { filterScope } from "../http/scope_params.ts";
import type { FeedContext, FeedRequest } from "./feed_context.ts";
import { type Feed, FEEDS } from "./routes.ts";

/** `/api/<feed>` or `/api/games/<id>/<feed>`, the id already as the contract allows it. */
const PATH = /^\/api(?:\/games\/([a-z0-9][a-z0-9-]{0,63}))?\/(events|stream|ws|poll)$/;
/** What Hono would decode in a query: such a request is left to it. */
const ENCODED = /[%+#]/;

const HANDLERS = new Map<string, Feed>(FEEDS.map(([all, , handler]) => [all.slice(1), handler]));

/** A feed request read straight from Deno's Request, its query read as Hono reads it. */
class DirectRequest implements FeedRequest {
  readonly method = "GET";

  constructor(
    readonly raw: Request,
    readonly remoteAddr: Deno.Addr | undefined,
    readonly served: Deno.ServeHandlerInfo<Deno.NetAddr>,
    readonly headers: Readonly<Record<string, string>>,
    /** The path (for the log line) and the query, without its `?`. */
    readonly path: string,
    readonly search: string,
    /** `performance.now()` at arrival, for the log line's seconds. */
    readonly started: number,
    readonly failed: (error: unknown) => Response,
  ) {}

  /**
   * The first value of `name`: `a=1&b&a=2` gives a "1" and b "". A scan, no parse: a poll reads
   * four parameters of a query of about that many.
   */
  query(name: string): string | undefined {
    const search = this.search;
    let at = 0;
    while (at <= search.length) {
      let end = search.indexOf("&", at);
      if (end < 0) end = search.length;
      if (search.startsWith(name, at)) {
        const after = at + name.length;
        if (after === end) return "";
        if (search.charCodeAt(after) === 61) return search.slice(after + 1, end); // "="
      }
      at = end + 1;
    }
    return undefined;
  }

  /** Every value of `name`, in order (`a=1&a=2`: ["1", "2"]). */
  queries(name: string): string[] | undefined {
    let values: string[] | undefined;
    for (const pair of this.search.split("&")) {
      const eq = pair.indexOf("=");
      if ((eq < 0 ? pair : pair.slice(0, eq)) !== name) continue;
      (values ??= []).push(eq < 0 ? "" : pair.slice(eq + 1));
    }
    return values;
  }

  header(name: string): string | undefined {
    return this.raw.headers.get(name) ?? undefined;
  }
}

/** `Deno.serve`'s handler for the feed routes; undefined for any other request. */
export type DirectFeeds = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response> | undefined;

export function directFeeds(feed: FeedContext, log: Logger): DirectFeeds {
  /** The answer's log line (at debug only, as requestLog does for a read that succeeded). */
  const answered = (request: DirectRequest, response: Response): Response => {
    if (debug) {
      logAnswer(log, {
        id: request.headers["x-request-id"]!,
        method: "GET",
        path: request.path,
        status: response.status,
        started: request.started,
        error: undefined,
      });
    }
    return response;
  };
  /** The problem+json app.onError would answer, and requestLog's line for it. */
  const failed = (request: DirectRequest, error: unknown): Response => {
    const problem = problemOf(error);
    logAnswer(log, {
      id: request.headers["x-request-id"]!,
      method: "GET",
      path: request.path,
      status: problem.status,
      started: request.started,
      error: error instanceof Error ? error : problem,
    });
    return problemResponse(problem, request.headers);
  };

  const debug = log.enabled("debug");
  /** For the request's own `failed`: called with it as `this`, so no closure per request. */
  function fail(this: DirectRequest, error: unknown): Response {
    return failed(this, error);
  }

  return (raw, info) => {
    if (raw.method !== "GET") return undefined;
    const url = raw.url;
    // Where Hono's getPath starts the path: after "scheme://host".
    const pathStart = url.indexOf("/", url.indexOf(":") + 4);
    const q = url.indexOf("?", pathStart);
    const path = q < 0 ? url.slice(pathStart) : url.slice(pathStart, q);
    const match = PATH.exec(path);
    if (!match) return undefined;
    const search = q < 0 ? "" : url.slice(q + 1);
    if (ENCODED.test(search)) return undefined;
    const handler = HANDLERS.get(match[2]!)!;

    const started = performance.now();
    const headers = {
      "x-request-id": requestId(raw.headers.get("x-request-id") ?? undefined),
      "x-content-type-options": "nosniff",
      ...READ_CORS_HEADERS,
    };
    const request: DirectRequest = new DirectRequest(
      raw,
      info.remoteAddr,
      info,
      headers,
      path,
      search,
      started,
      fail,
    );
    let response: Response | Promise<Response>;
    try {
      const id = match[1];
      const scope: Scope = id !== undefined
        ? gameScope(id)
        : filterScope((name) => request.queries(name));
      response = handler(feed, request, scope);
    } catch (error) {
      return failed(request, error);
    }
    if (!(response instanceof Promise)) return answered(request, response);
    // A promised answer (a long poll) answers its own errors (request.failed); only a log line
    // at debug needs to see it settle.
    return debug ? response.then((r) => answered(request, r)) : response;
  };
}
