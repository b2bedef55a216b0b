/**
 * Idempotency-Key bookkeeping shared by the in-process stores: which keys are being worked on
 * right now, and how long a finished answer is kept.
 */
import type { WriteOutcome } from "./scoreboard.ts";

/** An Idempotency-Key, scoped to the token that sent it so two scorers never collide. */
export interface IdempotencyKey {
  scope: string;
  key: string;
}

/**
 * What `claim` found for a key:
 * - `new`: nobody used it; the caller now holds it until `write` records an outcome or `release`.
 * - `replay`: a request with the same fingerprint finished; answer with its outcome again.
 * - `in_progress`: the same request is running right now (409).
 * - `mismatch`: the key was used for a different request (422).
 */
export type Claim =
  | { kind: "new" }
  | { kind: "replay"; outcome: WriteOutcome }
  | { kind: "in_progress" }
  | { kind: "mismatch" };

/** What an Idempotency-Key may be: 1 to 128 printable ASCII characters (the contract). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,128}$/;

/** A retry within this long gets the first answer again. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** A finished request's answer, kept under its key. */
export interface IdempotencyRecord {
  fingerprint: string;
  outcome: WriteOutcome;
}

export function claimId(key: IdempotencyKey): string {
  return `${key.scope}\u0000${key.key}`;
}

/**
 * Keys whose first request is still running. Only in memory: after a crash nothing is running,
 * and a request that did commit left its record in the store, which `claim` finds first.
 */
export class RunningKeys {
  #running = new Map<string, string>();

  claim(key: IdempotencyKey, fingerprint: string, recorded: IdempotencyRecord | undefined): Claim {
    if (recorded) {
      return recorded.fingerprint === fingerprint
        ? { kind: "replay", outcome: recorded.outcome }
        : { kind: "mismatch" };
    }
    const id = claimId(key);
    const running = this.#running.get(id);
    if (running !== undefined) {
      return running === fingerprint ? { kind: "in_progress" } : { kind: "mismatch" };
    }
    this.#running.set(id, fingerprint);
    return { kind: "new" };
  }

  release(key: IdempotencyKey): void {
    this.#running.delete(claimId(key));
  }
}
