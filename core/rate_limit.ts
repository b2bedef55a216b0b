/**
 * Token-bucket rate limiting per key: `rate` a second on average, bursts of `burst`. A scorer's
 * script gone wrong slows down to the rate instead of flooding every viewer with changes; a client
 * address opening feeds in a loop slows down to the rate of new feeds.
 */
import type { Clock } from "./clock.ts";

export class RateLimiter {
  /** In order of last use, so the buckets that have refilled are at the front. */
  #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {}

  /** Keys remembered now: only those used within the time a bucket takes to refill. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token; when none is left, says how many whole seconds until one is. */
  take(key: string): { ok: true } | { ok: false; retryAfter: number } {
    if (this.rate <= 0) return { ok: true };
    const now = this.clock.now();
    this.#forgetRefilled(now);
    const bucket = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfter: Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate)) };
  }

  /**
   * A bucket untouched for burst/rate seconds is full again, the same as no bucket: forgotten, so
   * that clients cycling through addresses (every address of an IPv6 /64, a botnet) cannot grow
   * this map beyond the keys of the last few seconds.
   */
  #forgetRefilled(now: number): void {
    const refillMs = (this.burst / this.rate) * 1000;
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.at < refillMs) return;
      this.#buckets.delete(key);
    }
  }
}
