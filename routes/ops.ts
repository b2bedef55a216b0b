/**
 * Operations: liveness, the version, readiness, metrics, the OpenAPI document, and the pages that problem
 * `type`s point to.
 */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../http/env.ts";
import type { Metrics } from "../http/metrics.ts";
import { VERSION } from "../core/version.ts";
import { htmlResponse, markup } from "../http/html.ts";
import { openApiJson } from "./openapi.ts";
import { HttpProblem, type ProblemCode, PROBLEMS } from "../http/problem.ts";

export function opsRoutes(deps: AppDeps & { metrics: Metrics }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Liveness: the process answers. It says nothing about the store on purpose, so that an
  // orchestrator does not restart a healthy process because Redis is briefly away.
  app.get("/healthz", () => text(200, "ok\n"));

  // Which release answers: what an operator checks after a deploy, and a bug report quotes.
  const version = JSON.stringify({ version: VERSION });
  app.get("/version", () =>
    new Response(version, {
      headers: { "content-type": "application/json", "cache-control": "no-cache" },
    }));

  app.get("/readyz", async () => {
    const ready = await deps.store.ready().catch(() => false);
    return ready && !deps.shuttingDown?.()
      ? text(200, "ready\n")
      : text(503, "not ready\n", { "retry-after": "1" });
  });

  app.get("/metrics", async () => {
    const { body, contentType } = await deps.metrics.render();
    return new Response(body, {
      headers: { "content-type": contentType, "cache-control": "no-store" },
    });
  });

  // Made once per process: the schemas do not change while it runs.
  let document: string | undefined;
  app.get("/openapi.json", () => {
    document ??= openApiJson();
    return new Response(document, {
      headers: { "content-type": "application/json", "cache-control": "no-cache" },
    });
  });

  app.get("/problems/:code", (c) => {
    const code = c.req.param("code");
    if (!Object.hasOwn(PROBLEMS, code)) throw new HttpProblem("not-found", "no such problem type");
    const [status, title, description] = PROBLEMS[code as ProblemCode];
    const page =
      markup`<!doctype html><html lang="en"><meta charset="utf-8"><title>${title}</title><h1>${status} ${title}</h1><p>${description}</p></html>`;
    return htmlResponse(page.text, {
      policy: { scripts: "none" },
      headers: { "cache-control": "max-age=86400" },
    });
  });

  return app;
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });
}
