/**
 * Latency histograms that several load processes can merge: buckets on a log scale (about 2 %
 * wide), so a process sends a few hundred counts instead of every sample, and percentiles stay
 * within 2 % of the exact value. The maximum is kept exactly.
 */

const SCALE = 50;

export interface HistogramData {
  /** [bucket, count] pairs. */
  buckets: [number, number][];
  count: number;
  maxMs: number;
}

export class Histogram {
  #counts = new Map<number, number>();
  count = 0;
  maxMs = 0;

  add(ms: number): void {
    const us = Math.max(0, ms * 1000);
    const bucket = Math.round(Math.log1p(us) * SCALE);
    this.#counts.set(bucket, (this.#counts.get(bucket) ?? 0) + 1);
    this.count++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  merge(data: HistogramData): void {
    for (const [bucket, n] of data.buckets) {
      this.#counts.set(bucket, (this.#counts.get(bucket) ?? 0) + n);
    }
    this.count += data.count;
    this.maxMs = Math.max(this.maxMs, data.maxMs);
  }

  /** The smallest latency at or above which a fraction `1 - q` of the samples lie, in ms. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (const bucket of [...this.#counts.keys()].sort((a, b) => a - b)) {
      seen += this.#counts.get(bucket)!;
      if (seen >= rank) return Math.min(Math.expm1(bucket / SCALE) / 1000, this.maxMs);
    }
    return this.maxMs;
  }

  summary(): LatencySummary | null {
    if (this.count === 0) return null;
    const round = (v: number | null) => v === null ? 0 : Math.round(v * 100) / 100;
    return {
      samples: this.count,
      p50: round(this.quantile(0.5)),
      p90: round(this.quantile(0.9)),
      p99: round(this.quantile(0.99)),
      max: round(this.maxMs),
    };
  }

  toJSON(): HistogramData {
    return { buckets: [...this.#counts.entries()], count: this.count, maxMs: this.maxMs };
  }
}

/** Publish→receive latency in milliseconds. */
export interface LatencySummary {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}
