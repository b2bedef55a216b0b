/**
 * The Markdown the benchmark writes next to its JSON: the tables, ratios and the conditions.
 * Run on its own, it renders a results JSON again (after a change to this file):
 *
 *   deno run --allow-read --allow-write bench/report.ts bench/results/LABEL.json
 */
import type { Row } from "./scenarios.ts";
import { deltaSizeMarkdown, type DeltaSizeRow } from "./delta_size.ts";

export interface Meta {
  label: string;
  date: string;
  command: string;
  quick: boolean;
  machine: string;
  versions: Record<string, string>;
  pinning: string;
  loadAverage: { before: string; after: string };
  notes: string[];
}

export interface Results {
  meta: Meta;
  rows: Row[];
  /** Bytes of a change as a patch against the whole game (bench/delta_size.ts). */
  deltaSize?: DeltaSizeRow[];
}

const FAN_OUT = ["sse-1k", "sse-10k", "long-poll-1k", "ndjson-1k", "ws-1k", "ceiling-sse-1k"];

export function markdown(results: Results): string {
  const { meta, rows: all } = results;
  const out: string[] = [];
  const rows = all.filter((r) => r.status !== "n/a");
  out.push(`# Scoreline benchmark: ${meta.label}`, "");
  for (const note of meta.notes) out.push(`> ${note}`, "");
  out.push(
    `- Date: ${meta.date}${meta.quick ? " (quick mode: a tenth of the viewers, 3 s phases)" : ""}`,
    `- Machine: ${meta.machine}`,
    `- Pinning: ${meta.pinning}`,
    `- Load average before / after: ${meta.loadAverage.before} / ${meta.loadAverage.after}`,
    `- Versions: ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `- Command: \`${meta.command}\``,
    "",
  );

  const fan = rows.filter((r) => FAN_OUT.includes(r.scenario));
  if (fan.length > 0) {
    out.push("## Fan-out", "");
    out.push(
      "Latency is publish→receive per delivery, in ms: from just before the write request is sent " +
        "until the load process reads the message. Connect: from the first attempt until every " +
        "viewer had its first message. KiB/viewer: server RSS growth over connecting ÷ viewers. " +
        "CPU: % of one core while publishing (server; load generator in brackets). Missing: " +
        "versions published after a viewer's first message that it never received; dup: " +
        "versions it received twice.",
      "",
    );
    out.push(
      "| scenario | peer | viewers | connect s | p50 | p90 | p99 | max | deliveries/s | published | missing | dup | KiB/viewer | CPU server (load) | note |",
      "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    );
    for (const r of fan) {
      if (r.status !== "ok") {
        out.push(
          `| ${r.scenario} | ${r.peer} | | | | | | | | | | | | | ${r.status}: ${esc(r.note)} |`,
        );
        continue;
      }
      const l = r.latency;
      out.push(
        `| ${r.scenario} | ${r.peer} | ${r.connected}/${r.viewers} | ${num(r.connectSeconds)} | ${
          num(l?.p50)
        } | ${num(l?.p90)} | ${num(l?.p99)} | ${num(l?.max)} | ${int(r.deliveriesPerSecond)} | ${
          int(r.published)
        } | ${int(r.missing)} | ${int(r.duplicates)} | ${num(r.kibPerViewer)} | ${
          int(r.serverCpu)
        } % (${int(r.generatorCpu)} %) | ${esc(noteOf(r))} |`,
      );
    }
    out.push("");
  }

  const storm = rows.filter((r) => r.scenario === "storm-sse-10k");
  if (storm.length > 0) {
    out.push("## Reconnect storm", "");
    out.push(
      "All viewers drop at once; one change is committed while they are away; all reconnect with " +
        "their cursor (SSE `Last-Event-ID`). Resume: from the reconnect until every viewer had that " +
        "change.",
      "",
    );
    out.push(
      "| peer | viewers | first connect s | resume s | at latest | missing | dup | CPU server (load) | note |",
      "|---|--:|--:|--:|--:|--:|--:|--:|---|",
    );
    for (const r of storm) {
      if (r.status !== "ok") {
        out.push(`| ${r.peer} | | | | | | | | ${r.status}: ${esc(r.note)} |`);
        continue;
      }
      out.push(
        `| ${r.peer} | ${r.connected}/${r.viewers} | ${num(r.connectSeconds)} | ${
          num(r.resumeSeconds)
        } | ${int(r.atLatest)} | ${int(r.missing)} | ${int(r.duplicates)} | ${
          int(r.serverCpu)
        } % (${int(r.generatorCpu)} %) | ${esc(noteOf(r))} |`,
      );
    }
    out.push("");
  }

  const other = rows.filter((r) =>
    ["writes-sqlite-16", "kiosk", "short-poll"].includes(r.scenario)
  );
  if (other.length > 0) {
    out.push("## Writes and pages", "");
    out.push(
      "| scenario | peer | figure | p50 ms | p99 ms | CPU server (load) | note |",
      "|---|---|--:|--:|--:|--:|---|",
    );
    for (const r of other) {
      if (r.status !== "ok") {
        out.push(`| ${r.scenario} | ${r.peer} | | | | | ${r.status}: ${esc(r.note)} |`);
      } else if (r.scenario === "writes-sqlite-16") {
        out.push(
          `| ${r.scenario} | ${r.peer} | ${int(r.writesPerSecond)} writes/s | ${
            num(r.writeLatency?.p50)
          } | ${num(r.writeLatency?.p99)} | ${int(r.serverCpu)} % (${int(r.generatorCpu)} %) | ${
            esc(r.note)
          } |`,
        );
      } else {
        out.push(
          `| ${r.scenario} | ${r.peer} | ${int(r.requestsPerSecond)} req/s | | ${
            num(r.requestLatencyP99)
          } | ${int(r.serverCpu)} % | 200 (wrk -t1 -c32) |`,
          `| ${r.scenario} 304 | ${r.peer} | ${int(r.requestsPerSecond304)} req/s | | ${
            num(r.requestLatencyP99304)
          } | | ${esc(r.note) || "If-None-Match → 304"} |`,
        );
      }
    }
    out.push("");
  }

  const notCompared = all.filter((r) => r.status === "n/a");
  if (notCompared.length > 0) {
    out.push(
      "Not compared: " +
        notCompared.map((r) => `${r.scenario} · ${r.peer} (${r.note})`).join("; ") + ".",
      "",
    );
  }

  const ratios = ratioLines(rows);
  if (ratios.length > 0) {
    out.push("## Scoreline against its peers", "");
    out.push(
      "Ratios are Scoreline ÷ peer (for p99, KiB/viewer, connect and resume time lower is better; " +
        "for deliveries/s higher is better).",
      "",
    );
    out.push(
      "| scenario | vs | p99 | deliveries/s | KiB/viewer | connect | resume |",
      "|---|---|--:|--:|--:|--:|--:|",
      ...ratios,
      "",
    );
  }
  if (results.deltaSize) out.push(deltaSizeMarkdown(results.deltaSize));
  return out.join("\n");
}

function ratioLines(rows: Row[]): string[] {
  const lines: string[] = [];
  const ok = rows.filter((r) => r.status === "ok");
  for (const scenario of [...FAN_OUT, "storm-sse-10k"]) {
    const mine = ok.find((r) => r.scenario === scenario && r.peer === "scoreline");
    if (!mine) continue;
    for (const peer of ["nchan", "naive"] as const) {
      const theirs = ok.find((r) => r.scenario === scenario && r.peer === peer);
      if (!theirs) continue;
      if (scenario === "storm-sse-10k") {
        // Latency and rates in a storm row mix the catch-up with the drop: only times compare.
        lines.push(
          `| ${scenario} | ${peer} | – | – | – | ${
            ratio(mine.connectSeconds, theirs.connectSeconds)
          } | ${ratio(mine.resumeSeconds, theirs.resumeSeconds)} |`,
        );
        continue;
      }
      lines.push(
        `| ${scenario} | ${peer} | ${ratio(mine.latency?.p99, theirs.latency?.p99)} | ${
          ratio(mine.deliveriesPerSecond, theirs.deliveriesPerSecond)
        } | ${ratio(mine.kibPerViewer, theirs.kibPerViewer)} | ${
          ratio(mine.connectSeconds, theirs.connectSeconds)
        } | ${ratio(mine.resumeSeconds, theirs.resumeSeconds)} |`,
      );
    }
  }
  return lines;
}

/** Above this share of its core, the load generator may be what bounds a figure. */
const GENERATOR_BUSY = 75;

function noteOf(r: Row): string {
  const parts = [r.note];
  if ((r.generatorCpu ?? 0) >= GENERATOR_BUSY) {
    parts.push(`load generator at ${r.generatorCpu} % of its core: this figure may be its bound`);
  }
  if (r.scenario.startsWith("long-poll") && r.peer === "scoreline" && (r.missing ?? 0) > 0) {
    parts.push("missing here = superseded versions skipped by the resume rule, not lost");
  }
  if (r.failures) {
    parts.push(Object.entries(r.failures).map(([what, n]) => `${what} ×${n}`).join(", "));
  }
  return parts.filter(Boolean).join("; ");
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) {
    return "–";
  }
  return `${(a / b).toFixed(2)}×`;
}

function num(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? "–" : String(v);
}

function int(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? "–" : v.toLocaleString("en-US");
}

function esc(text: string | undefined): string {
  return (text ?? "").replaceAll("|", "\\|").replaceAll("\n", " ");
}

if (import.meta.main) {
  for (const file of Deno.args) {
    const results = JSON.parse(Deno.readTextFileSync(file)) as Results;
    Deno.writeTextFileSync(file.replace(/\.json$/, ".md"), markdown(results));
  }
}
