/**
 * CORS, as the contract says: reads are open to every origin; writes only from the service's
 * own origin or one listed in SCORELINE_WRITE_ORIGINS. Writes need a bearer token, so this is
 * defence in depth: a page elsewhere cannot even try a token it has phished.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.ts";
import type { Config } from "../config.ts";
import { HttpProblem } from "./problem.ts";

const WRITE_METHODS = new Set(["PUT", "PATCH", "POST", "DELETE"]);
const EXPOSED = "ETag, Location, Retry-After, Idempotent-Replayed, X-Request-Id";

/** What every answer to a read carries, whatever its origin (feeds/direct.ts sets them itself). */
export const READ_CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "access-control-allow-origin": "*",
  "access-control-expose-headers": EXPOSED,
});
const READ_HEADERS = "Last-Event-ID, If-None-Match, Cache-Control, X-Request-Id";
const WRITE_HEADERS =
  "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-Id";

export function cors(
  config: Pick<Config, "writeOrigins" | "trustProxy">,
): MiddlewareHandler<AppEnv> {
  const listed = new Set(config.writeOrigins);

  /** The service's own origin (same-origin pages, like a console) or a listed one. */
  const mayWrite = (origin: string, headers: Headers): boolean => {
    if (listed.has(origin)) return true;
    const host = (config.trustProxy && headers.get("x-forwarded-host")) || headers.get("host");
    try {
      return host !== null && new URL(origin).host === host.split(",")[0]!.trim();
    } catch {
      return false;
    }
  };

  return async (c, next) => {
    const origin = c.req.header("origin");
    const method = c.req.method;
    const requested = c.req.header("access-control-request-method")?.toUpperCase();
    if (method === "OPTIONS" && requested) {
      if (!WRITE_METHODS.has(requested)) {
        return preflight({
          "access-control-allow-origin": "*",
          "access-control-allow-methods": "GET, HEAD",
          "access-control-allow-headers": READ_HEADERS,
        });
      }
      if (!origin || !mayWrite(origin, c.req.raw.headers)) {
        throw new HttpProblem(
          "forbidden",
          "this origin may not write; see SCORELINE_WRITE_ORIGINS",
        );
      }
      return preflight({
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "PUT, PATCH, POST, DELETE",
        "access-control-allow-headers": WRITE_HEADERS,
        "vary": "Origin",
      });
    }
    const write = WRITE_METHODS.has(method);
    if (write && origin !== undefined && !mayWrite(origin, c.req.raw.headers)) {
      throw new HttpProblem("forbidden", "this origin may not write; see SCORELINE_WRITE_ORIGINS");
    }
    await next();
    const headers = c.res.headers;
    if (write) {
      if (origin !== undefined) {
        headers.set("access-control-allow-origin", origin);
        headers.append("vary", "Origin");
      }
    } else {
      headers.set("access-control-allow-origin", "*");
    }
    headers.set("access-control-expose-headers", EXPOSED);
    return undefined;
  };
}

function preflight(headers: Record<string, string>): Response {
  return new Response(null, {
    status: 204,
    headers: { ...headers, "access-control-max-age": "86400" },
  });
}
