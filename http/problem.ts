/**
 * Every error the service answers is an RFC 9457 problem+json, made here and only here. Each
 * problem type has a page at `/problems/<code>` that explains it, which is what `type` points to.
 */
import { CapacityError } from "../core/capacity.ts";
import { type Rejection, StoreUnavailableError } from "../core/errors.ts";
import type { FieldError } from "../core/schema.ts";

export const PROBLEMS = {
  "validation": [
    400,
    "Invalid request",
    "A field, header or query parameter is not valid; `errors` names each one.",
  ],
  "malformed-json": [400, "Malformed JSON", "The request body is not well-formed JSON in UTF-8."],
  "incomplete-body": [
    400,
    "Incomplete body",
    "The connection broke before the whole request body arrived; nothing was changed.",
  ],
  "unauthorized": [
    401,
    "Unauthorized",
    "Writes need `Authorization: Bearer <token>` with a configured token or a valid JWT.",
  ],
  "forbidden": [
    403,
    "Forbidden",
    "The token (or JWT) may not write this game, only a token for every game may do this, " +
    "or the request's Origin may not write.",
  ],
  "not-found": [404, "Not found", "There is no such game, event or route."],
  "method-not-allowed": [
    405,
    "Method not allowed",
    "The route exists but not with this method; see `Allow`.",
  ],
  "request-in-progress": [
    409,
    "Request in progress",
    "A request with this Idempotency-Key is still running; retry later.",
  ],
  "precondition-failed": [
    412,
    "Precondition failed",
    "If-Match or If-None-Match did not hold: the game changed, exists, or is missing.",
  ],
  "request-timeout": [
    408,
    "Request timeout",
    "The request body did not arrive in time; send it again, in one go.",
  ],
  "payload-too-large": [
    413,
    "Payload too large",
    "Request bodies are limited to 16 KiB; an import to 32 MiB and 10,000 games.",
  ],
  "unsupported-media-type": [
    415,
    "Unsupported media type",
    "Send `Content-Type: application/json` or `application/merge-patch+json` " +
    "(an import: `application/x-ndjson`).",
  ],
  "idempotency-key-reused": [
    422,
    "Idempotency-Key reused",
    "This Idempotency-Key was used for a different request.",
  ],
  "score-out-of-range": [
    422,
    "Score out of range",
    "The score would fall below 0 or rise above 1,000,000.",
  ],
  "competition-fixed": [
    422,
    "Competition fixed",
    "A game's competition is set when it is created and cannot change; delete the game and " +
    "create it again to move it.",
  ],
  "timeline-full": [
    422,
    "Timeline full",
    "A game's timeline holds at most 500 events; delete one before adding another.",
  ],
  "upgrade-required": [
    426,
    "Upgrade required",
    "This route is a WebSocket; connect with a WebSocket client.",
  ],
  "rate-limited": [
    429,
    "Too many requests",
    "Too many writes with this token; wait `Retry-After` seconds.",
  ],
  "too-many-feeds": [
    429,
    "Too many open feeds",
    "This client address has too many open feeds (or WebSockets); close some.",
  ],
  "too-many-new-feeds": [
    429,
    "Too many new feeds",
    "This client address opens feeds faster than the service allows; wait `Retry-After` seconds.",
  ],
  "internal": [
    500,
    "Internal error",
    "Something went wrong on the server; the write was not acknowledged.",
  ],
  "unavailable": [
    503,
    "Service unavailable",
    "The service or its store cannot serve now; retry after `Retry-After` seconds.",
  ],
} as const satisfies Record<string, readonly [number, string, string]>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface ProblemOptions {
  errors?: FieldError[];
  headers?: Record<string, string>;
}

/** An error that is an HTTP answer: thrown anywhere in a route, rendered by `app.onError`. */
export class HttpProblem extends Error {
  readonly status: number;

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly options: ProblemOptions = {},
  ) {
    super(detail);
    this.name = "HttpProblem";
    this.status = PROBLEMS[code][0];
  }
}

/** A 400 naming one field, header or parameter. */
export function invalid(path: string, message: string): HttpProblem {
  return new HttpProblem("validation", `${path}: ${message}`, { errors: [{ path, message }] });
}

/** A 400 for a body that failed its schema. */
export function invalidBody(errors: FieldError[]): HttpProblem {
  const first = errors[0];
  const detail = first
    ? `${first.path || "body"}: ${first.message}${
      errors.length > 1 ? ` (and ${errors.length - 1} more)` : ""
    }`
    : "the request is not valid";
  return new HttpProblem("validation", detail, { errors });
}

const HTML_SAFE: Record<string, string> = { "<": "\\u003c", ">": "\\u003e", "&": "\\u0026" };

/**
 * The problem+json body as text. A detail may quote what the client sent (a Content-Type, a
 * path, a JSON parser's complaint), so `<`, `>` and `&` are written as \u escapes: the same JSON
 * to every parser, but inert even if a browser were ever talked into reading it as HTML.
 */
export function problemBody(code: ProblemCode, detail: string, errors?: FieldError[]): string {
  const [status, title] = PROBLEMS[code];
  const body: Record<string, unknown> = { type: `/problems/${code}`, title, status, detail };
  if (errors) body.errors = errors;
  return JSON.stringify(body).replace(/[<>&]/g, (ch) => HTML_SAFE[ch]!);
}

export function problemResponse(problem: HttpProblem, extraHeaders?: HeadersInit): Response {
  const headers = new Headers(extraHeaders);
  headers.set("content-type", "application/problem+json");
  headers.set("cache-control", "no-store");
  for (const [name, value] of Object.entries(problem.options.headers ?? {})) {
    headers.set(name, value);
  }
  return new Response(problemBody(problem.code, problem.detail, problem.options.errors), {
    status: problem.status,
    headers,
  });
}

/** The HTTP form of a domain rejection. */
export function rejectionProblem(rejection: Rejection): HttpProblem {
  switch (rejection.code) {
    case "not_found":
      return new HttpProblem("not-found", rejection.detail);
    case "precondition_failed":
      return new HttpProblem("precondition-failed", rejection.detail);
    case "score_out_of_range":
      return new HttpProblem("score-out-of-range", rejection.detail);
    case "timeline_full":
      return new HttpProblem("timeline-full", rejection.detail);
    case "forbidden":
      return new HttpProblem("forbidden", rejection.detail);
    case "competition_fixed":
      return new HttpProblem("competition-fixed", rejection.detail);
    case "invalid":
      return new HttpProblem("validation", rejection.detail, { errors: rejection.errors });
  }
}

const CAPACITY_PROBLEMS: Record<CapacityError["limit"], ProblemCode> = {
  total: "unavailable",
  "ws-total": "unavailable",
  client: "too-many-feeds",
  "ws-client": "too-many-feeds",
  rate: "too-many-new-feeds",
};

/** The HTTP problem for anything a route throws: domain errors get their status here. */
export function problemOf(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof StoreUnavailableError) {
    return new HttpProblem("unavailable", error.message, {
      headers: { "retry-after": String(error.retryAfter) },
    });
  }
  if (error instanceof CapacityError) {
    return new HttpProblem(CAPACITY_PROBLEMS[error.limit], error.message, {
      headers: { "retry-after": String(error.retryAfter) },
    });
  }
  return new HttpProblem("internal", "an unexpected error occurred");
}
