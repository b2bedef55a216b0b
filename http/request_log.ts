/**
 * Request ids and the request log: one JSON line per write (whatever its outcome) and per error,
 * each with the request id that is also echoed in `X-Request-Id`, so a scorer's complaint, a
 * proxy's access log and this log meet on one id. Successful reads and feeds are logged only at
 * `debug`, once when they are answered: never per delivery, or ten thousand viewers would drown
 * the log. Tokens are never logged; a write names its scorer by a short digest of the token.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.ts";
import type { Logger } from "../core/log.ts";
import { HttpProblem } from "./problem.ts";

/**
 * An incoming id is kept when it is a plain token (UUIDs, hex, base64, "trace-123"), so a proxy's
 * or a client's id carries through; anything else (too long, spaces, quotes, control
 * characters) is replaced rather than trusted into headers and logs.
 */
const SANE_ID = /^[A-Za-z0-9._:@/+=~-]{1,128}$/;

const WRITE_METHODS = new Set(["PUT", "PATCH", "POST", "DELETE"]);

export function requestLog(log: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header("x-request-id");
    const id = incoming !== undefined && SANE_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", id);
    await next();
    c.res.headers.set("x-request-id", id);

    const status = c.res.status;
    const write = WRITE_METHODS.has(c.req.method) && c.req.path.startsWith("/api/");
    if (!write && status < 400 && !log.enabled("debug")) return;

    const fields: Record<string, unknown> = {
      requestId: id,
      method: c.req.method,
      path: c.req.path,
      status,
      seconds: round((performance.now() - started) / 1000),
    };
    const error = c.error;
    if (error instanceof HttpProblem) fields.problem = error.code;
    if (write) {
      const scorer = c.get("scorer");
      if (scorer) fields.scorer = scorer;
      const etag = c.res.headers.get("etag");
      if (etag && status < 300) fields.version = Number(etag.replaceAll('"', ""));
      if (c.res.headers.get("idempotent-replayed")) fields.replayed = true;
    }
    if (error && status === 500) fields.error = String(error.stack ?? error);
    else if (error && status > 500) fields.detail = error.message;

    const message = write ? "write" : status >= 400 ? "request failed" : "request";
    if (status >= 500 && status !== 503) log.error(message, fields);
    else if (status === 503) log.warn(message, fields);
    else if (write || status >= 400) log.info(message, fields);
    else log.debug(message, fields);
  };
}

function round(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}
