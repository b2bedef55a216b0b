/**
 * Token-bucket rate limiting per key: `rate` a second on average, bursts of `burst`. A scorer's
 * script gone wrong slows down to the rate instead of flooding every viewer with changes.
 */
import type { Clock } from "./clock.ts";

export class RateLimiter {
  #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {}

  /** Takes one token; when none is left, says how many whole seconds until one is. */
  take(key: string): { ok: true } | { ok: false; retryAfter: number } {
    if (this.rate <= 0) return { ok: true };
    const now = this.clock.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfter: Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate)) };
  }
}
