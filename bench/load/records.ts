/**
 * What a load process saw: one (viewer, version, arrival time) record per message, in typed
 * arrays that grow by doubling, and the analysis the coordinator asks for at the end: latency
 * against the publish times, lost, duplicated and reordered versions per viewer.
 */
import { Histogram, type HistogramData } from "../stats.ts";

export interface FinishReply {
  viewers: number;
  histogram: HistogramData;
  deliveries: number;
  firstDeliveryAt: number;
  lastDeliveryAt: number;
  /** Published versions a viewer should have seen after its first message and never did. */
  missing: number;
  /** Versions received more than once by the same viewer. */
  duplicates: number;
  /** Versions that arrived after a higher one on the same viewer. */
  reordered: number;
  /** Viewers whose highest version is the last one published. */
  atLatest: number;
  /** Viewers that got more than one message of one version, or missed some (first 5, for a look). */
  examples: string[];
  failures: Record<string, number>;
}

export class Records {
  viewer = new Uint32Array(1 << 16);
  version = new Float64Array(1 << 16);
  time = new Float64Array(1 << 16);
  length = 0;

  add(viewer: number, version: number, time: number): void {
    if (this.length === this.viewer.length) this.#grow();
    this.viewer[this.length] = viewer;
    this.version[this.length] = version;
    this.time[this.length] = time;
    this.length++;
  }

  #grow(): void {
    const size = this.viewer.length * 2;
    const viewer = new Uint32Array(size);
    viewer.set(this.viewer);
    const version = new Float64Array(size);
    version.set(this.version);
    const time = new Float64Array(size);
    time.set(this.time);
    this.viewer = viewer;
    this.version = version;
    this.time = time;
  }
}

export function analyse(
  records: Records,
  viewers: readonly { first: number; max: number }[],
  published: [number, number][],
  failures: Record<string, number>,
): FinishReply {
  const sent = new Map(published);
  const versions = published.map(([v]) => v).sort((a, b) => a - b);
  const latest = versions[versions.length - 1] ?? -1;
  const histogram = new Histogram();
  // Group the records by viewer (a counting sort keeps it linear).
  const n = viewers.length;
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < records.length; i++) offsets[records.viewer[i]! + 1]!++;
  for (let v = 0; v < n; v++) offsets[v + 1]! += offsets[v]!;
  const order = new Uint32Array(records.length);
  const fill = offsets.slice(0, n);
  for (let i = 0; i < records.length; i++) order[fill[records.viewer[i]!]!++] = i;

  let deliveries = 0;
  let firstDeliveryAt = Infinity;
  let lastDeliveryAt = 0;
  let missing = 0;
  let duplicates = 0;
  let reordered = 0;
  let atLatest = 0;
  const examples: string[] = [];
  for (let v = 0; v < n; v++) {
    const viewer = viewers[v]!;
    const seen = new Set<number>();
    let previous = -1;
    let got = 0;
    for (let k = offsets[v]!; k < offsets[v + 1]!; k++) {
      const i = order[k]!;
      const version = records.version[i]!;
      if (version < previous) reordered++;
      previous = Math.max(previous, version);
      if (seen.has(version)) {
        duplicates++;
        if (examples.length < 5) examples.push(`viewer ${v}: version ${version} twice`);
        continue;
      }
      seen.add(version);
      const at = sent.get(version);
      if (at === undefined || version <= viewer.first) continue;
      got++;
      deliveries++;
      const t = records.time[i]!;
      histogram.add(t - at);
      if (t < firstDeliveryAt) firstDeliveryAt = t;
      if (t > lastDeliveryAt) lastDeliveryAt = t;
    }
    const expected = versions.length - upperBound(versions, viewer.first);
    if (viewer.first >= 0 && got < expected) {
      missing += expected - got;
      if (examples.length < 5) {
        examples.push(`viewer ${v}: ${expected - got} of ${expected} missing`);
      }
    }
    if (viewer.max >= latest) atLatest++;
  }
  return {
    viewers: n,
    histogram: histogram.toJSON(),
    deliveries,
    firstDeliveryAt: deliveries ? firstDeliveryAt : 0,
    lastDeliveryAt,
    missing,
    duplicates,
    reordered,
    atLatest,
    examples,
    failures: { ...failures },
  };
}

/** How many sorted values are <= x. */
function upperBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
