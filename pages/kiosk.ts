/**
 * The meta-refresh "transport": server-rendered screens for browsers that run no JavaScript
 * (kiosks, TVs, old phones), plus the iframe embed. A screen resumes by reloading, so each
 * answer is cheap: bytes rendered once (KioskPages), or a 304. Every failure is a page, never
 * JSON on a wall, and one caused by the server keeps reloading so the screen heals by itself.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppDeps, AppEnv } from "../http/env.ts";
import { StoreUnavailableError } from "../core/errors.ts";
import { ifNoneMatchHits } from "../http/conditions.ts";
import { pageHeaders, type PagePolicy } from "../http/html.ts";
import { gameId } from "../http/params.ts";
import { HttpProblem, PROBLEMS } from "../http/problem.ts";
import type { StaticAssets } from "../http/static.ts";
import { KioskPages, type RenderedPage } from "./kiosk_pages.ts";
import { renderErrorPage } from "./kiosk_render.ts";
import { boardQuery, type PageQuery, pageQuery, Zones } from "./page_params.ts";

/** Kiosk pages run no script at all; the CSP says so to the browser too. */
const KIOSK: PagePolicy = { scripts: "none" };
/** The embed loads /widget.js from here and may sit in a frame on any site. */
const EMBED: PagePolicy = { scripts: "self", frameAncestors: "*" };

/** Seconds before an error page caused by the server reloads itself. */
const ERROR_REFRESH_SECONDS = 10;

type Render = (query: PageQuery) => Promise<RenderedPage>;

export function kioskRoutes(deps: AppDeps, assets: StaticAssets): Hono<AppEnv> {
  const pages = new KioskPages({
    store: deps.store,
    clock: deps.clock,
    stylesheet: () => assets.url("kiosk.css"),
  });
  const zones = new Zones();
  const app = new Hono<AppEnv>();

  app.get(
    "/",
    (c) =>
      page(
        c,
        KIOSK,
        (query) =>
          pages.board(
            query,
            boardQuery((name) => c.req.query(name), (name) => c.req.queries(name)),
          ),
      ),
  );
  app.get(
    "/games/:id",
    (c) => page(c, KIOSK, (query) => pages.game(gameId(c.req.param("id")), query)),
  );
  app.get(
    "/embed/games/:id",
    (c) => page(c, EMBED, (query) => pages.embed(gameId(c.req.param("id")), query)),
  );

  // Pages answer every refusal as a page, a wrong method included (API routes answer problem+json).
  for (
    const [path, policy] of [["/", KIOSK], ["/games/:id", KIOSK], [
      "/embed/games/:id",
      EMBED,
    ]] as const
  ) {
    app.all(path, (c) =>
      errorPage(
        new HttpProblem("method-not-allowed", "use GET or HEAD", {
          headers: { allow: "GET, HEAD" },
        }),
        policy,
        c,
      ));
  }

  async function page(c: Context<AppEnv>, policy: PagePolicy, render: Render): Promise<Response> {
    try {
      const query = pageQuery((name) => c.req.query(name), { themed: policy === EMBED, zones });
      return respond(await render(query), c.req.raw.headers, policy);
    } catch (error) {
      return errorPage(error, policy, c);
    }
  }

  async function errorPage(error: unknown, policy: PagePolicy, c: Context<AppEnv>) {
    let status = 500;
    let title: string = PROBLEMS.internal[1];
    let detail = "Something went wrong on the server.";
    let retryAfter: number | undefined = ERROR_REFRESH_SECONDS;
    if (error instanceof HttpProblem) {
      status = error.status;
      title = PROBLEMS[error.code][1];
      detail = error.detail;
      // A bad URL does not get better by reloading it: a person has to fix the screen's URL.
      retryAfter = status >= 500 ? ERROR_REFRESH_SECONDS : undefined;
    } else if (error instanceof StoreUnavailableError) {
      status = 503;
      title = PROBLEMS.unavailable[1];
      detail = "The scores cannot be read right now. This screen tries again by itself.";
      // Not every second, as an API client might: a wall of screens would hammer a sick store.
      retryAfter = Math.max(error.retryAfter, ERROR_REFRESH_SECONDS);
    }
    // The request log (routes/request_log.ts) writes the one line for this error, cause included.
    c.error = error instanceof Error ? error : new Error(String(error));

    const stylesheet = await assets.url("kiosk.css").catch(() => null);
    const headers: Record<string, string> = {
      ...pageHeaders({ ...policy, scripts: "none" }),
      "cache-control": "no-store",
      ...(error instanceof HttpProblem ? error.options.headers : {}),
    };

    if (retryAfter !== undefined) {
      headers["retry-after"] = String(retryAfter);
      headers["refresh"] = String(retryAfter);
    }
    return new Response(renderErrorPage(status, title, detail, stylesheet, retryAfter), {
      status,
      headers,
    });
  }

  return app;
}

/**
 * The page, or 304 when the screen already shows it. Kiosks get `Refresh` as a header too; the
 * embed must not (it would reload pages that run the widget), so it has only its <noscript> meta.
 */
function respond(page: RenderedPage, request: Headers, policy: PagePolicy): Response {
  const headers: Record<string, string> = { ...pageHeaders(policy), "cache-control": "no-cache" };
  if (policy === KIOSK) {
    headers["refresh"] = page.refreshUrl === null
      ? String(page.refresh)
      : `${page.refresh}; url=${page.refreshUrl}`;
  }
  if (page.etag !== null) {
    headers["etag"] = page.etag;
    if (ifNoneMatchHits(request, page.etag)) return new Response(null, { status: 304, headers });
  }
  return new Response(page.body, { status: page.status, headers });
}
