/**
 * Time, injected. Everything that depends on time (heartbeats, long-poll deadlines, rate limits,
 * tombstone expiry, updatedAt) takes a Clock, so tests advance time instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `tick` every `ms` milliseconds until the returned function is called. Callers share one
   * such timer per purpose instead of one per connection.
   */
  every(ms: number, tick: () => void): () => void;
}

/** The real clock. */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    every(ms, tick) {
      const id = setInterval(tick, ms);
      return () => clearInterval(id);
    },
  };
}
