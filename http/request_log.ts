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
    const id = requestId(c.req.header("x-request-id"));
    c.set("requestId", id);
    await next();
    c.res.headers.set("x-request-id", id);

    const status = c.res.status;
    const write = WRITE_METHODS.has(c.req.method) && c.req.path.startsWith("/api/");
    let written: WrittenBy | undefined;
    if (write) {
      const etag = c.res.headers.get("etag");
      written = {
        scorer: c.get("scorer"),
        version: etag && status < 300 ? Number(etag.replaceAll('"', "")) : undefined,
        replayed: Boolean(c.res.headers.get("idempotent-replayed")),
      };
    }
    logAnswer(log, {
      id,
      method: c.req.method,
      path: c.req.path,
      status,
      started,
      error: c.error,
      written,
    });
  };
}

/** The request's own id when it is sane, else a new UUID. */
export function requestId(incoming: string | undefined): string {
  return incoming !== undefined && SANE_ID.test(incoming) ? incoming : crypto.randomUUID();
}

/** What a write's log line says beyond any request's. */
export interface WrittenBy {
  scorer: string | undefined;
  version: number | undefined;
  replayed: boolean;
}

/** An answered request, as its log line needs it. */
export interface Answered {
  id: string;
  method: string;
  path: string;
  status: number;
  /** `performance.now()` at the request's arrival. */
  started: number;
  error: Error | undefined;
  /** Set for a write. */
  written?: WrittenBy;
}

/**
 * The one line for an answered request (requestLog's, and the feeds served before Hono's,
 * feeds/direct.ts): every write, every failure, and other requests at `debug` only.
 */
export function logAnswer(log: Logger, answer: Answered): void {
  const { status, error, written } = answer;
  const write = written !== undefined;
  if (!write && status < 400 && !log.enabled("debug")) return;
  const fields: Record<string, unknown> = {
    requestId: answer.id,
    method: answer.method,
    path: answer.path,
    status,
    seconds: round((performance.now() - answer.started) / 1000),
  };
  if (error instanceof HttpProblem) fields.problem = error.code;
  if (written) {
    if (written.scorer) fields.scorer = written.scorer;
    if (written.version !== undefined) fields.version = written.version;
    if (written.replayed) fields.replayed = true;
  }
  if (error && status === 500) fields.error = String(error.stack ?? error);
  else if (error && status > 500) fields.detail = error.message;

  const message = write ? "write" : status >= 400 ? "request failed" : "request";
  if (status >= 500 && status !== 503) log.error(message, fields);
  else if (status === 503) log.warn(message, fields);
  else if (write || status >= 400) log.info(message, fields);
  else log.debug(message, fields);
}

function round(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}
