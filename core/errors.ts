/**
 * Domain outcomes that are not HTTP. The core and the stores speak these; `routes/problem.ts`
 * alone turns them into status codes and problem+json.
 */
import type { FieldError } from "./schema.ts";

/**
 * Why the domain refused a write. Plain data, not an Error: an idempotent retry must get the very
 * same answer, so a rejection is stored beside the key like any other outcome.
 */
export type Rejection =
  | { code: "not_found"; detail: string }
  | { code: "precondition_failed"; detail: string }
  | { code: "score_out_of_range"; detail: string }
  /** A game's timeline already holds MAX_EVENTS events. */
  | { code: "timeline_full"; detail: string }
  | { code: "forbidden"; detail: string }
  | { code: "competition_fixed"; detail: string }
  | { code: "invalid"; detail: string; errors: FieldError[] };

/**
 * The store cannot take or answer a request now (closed, Redis unreachable, disk full). Nothing
 * was changed; the client may retry after `retryAfter` seconds.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, readonly retryAfter = 1, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/** What every method of a closed store rejects with (the Store contract). */
export function storeClosedError(): StoreUnavailableError {
  return new StoreUnavailableError("the store is closed");
}
