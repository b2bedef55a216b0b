/**
 * `--repeat N`: a scenario runs N times on each peer, and the report shows one row per peer whose
 * every figure is the median of that figure over the runs that finished. The runs' own values
 * stay in the row (`runs`), so a disturbed run can be seen and the spread judged.
 */
import type { Row } from "./scenarios.ts";
import type { LatencySummary } from "./stats.ts";

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Latency figures merged percentile by percentile. */
function medianLatency(
  summaries: (LatencySummary | null | undefined)[],
): LatencySummary | null | undefined {
  const present = summaries.filter((s): s is LatencySummary => !!s);
  if (present.length === 0) return summaries[0];
  const of = (key: keyof LatencySummary) =>
    Math.round(median(present.map((s) => s[key])) * 100) / 100;
  return { samples: of("samples"), p50: of("p50"), p90: of("p90"), p99: of("p99"), max: of("max") };
}

/** One row for a scenario on a peer from its repeated runs (the runs in the order they ran). */
export function medianRow(runs: readonly Row[]): Row {
  const first = runs[0];
  if (!first) throw new Error("medianRow needs at least one run");
  if (runs.length === 1) return first;
  const ok = runs.filter((r) => r.status === "ok");
  const notes = [...new Set(runs.map((r) => r.note).filter(Boolean))];
  if (ok.length < runs.length) {
    notes.push(`${runs.length - ok.length} of ${runs.length} runs did not finish`);
  }
  const loadAverages = runs.flatMap((r) => r.loadAverages ?? []);
  if (ok.length === 0) {
    return {
      scenario: first.scenario,
      peer: first.peer,
      status: first.status,
      note: notes.join("; "),
      loadAverages,
    };
  }
  const merged: Row = { scenario: first.scenario, peer: first.peer, status: "ok", loadAverages };
  const out = merged as unknown as Record<string, unknown>;
  const perRun: Record<string, number[]> = {};
  const keys = new Set(ok.flatMap((r) => Object.keys(r)));
  for (const key of keys) {
    const values = ok
      .map((r) => (r as unknown as Record<string, unknown>)[key])
      .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
    if (values.length === 0) continue;
    out[key] = Math.round(median(values) * 1000) / 1000;
    perRun[key] = values;
  }
  merged.latency = medianLatency(ok.map((r) => r.latency));
  merged.writeLatency = medianLatency(ok.map((r) => r.writeLatency));
  for (const field of ["latency", "writeLatency"] as const) {
    for (const q of ["p50", "p99"] as const) {
      const values = ok.flatMap((r) => r[field] ? [r[field][q]] : []);
      if (values.length > 0) perRun[`${field}.${q}`] = values;
    }
  }
  const failures: Record<string, number> = {};
  for (const r of ok) {
    for (const [what, n] of Object.entries(r.failures ?? {})) {
      failures[what] = (failures[what] ?? 0) + n;
    }
  }
  if (Object.keys(failures).length > 0) {
    merged.failures = failures;
    notes.push(`failures summed over ${ok.length} runs`);
  }
  const examples = [...new Set(ok.flatMap((r) => r.examples ?? []))].slice(0, 5);
  if (examples.length > 0) merged.examples = examples;
  if (notes.length > 0) merged.note = notes.join("; ");
  merged.repeats = runs.length;
  merged.runs = perRun;
  return merged;
}
