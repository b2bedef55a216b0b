/**
 * The Markdown the benchmark writes next to its JSON: the tables, ratios and the conditions.
 * Run on its own, it renders a results JSON again (after a change to this file):
 *
 *   deno run --allow-read --allow-write bench/report.ts bench/results/LABEL.json
 */
import type { Row } from "./scenarios.ts";
import { deltaSizeMarkdown, type DeltaSizeRow } from "./delta_size.ts";
import type { PeerName } from "./servers.ts";

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

const FAN_OUT = [
  "sse-1k",
  "sse-10k",
  "long-poll-1k",
  "ndjson-1k",
  "ws-1k",
  "ceiling-sse-1k",
  "one-pub-sse-1k",
  "one-pub-ws-1k",
  "long-poll-10hz-1k",
];
const CONNECT = ["connect-sse-10k", "connect-ws-10k", "connect-lp-10k"];

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
        "CPU: % of one core while publishing (server; load generator in brackets); CPU s: the " +
        "server's CPU seconds from the first publish until every viewer had the last change; " +
        "µs/delivery: that ÷ deliveries. Write p50: the publisher's round trip per change. " +
        "Missing: versions published after a viewer's first message that it never received; " +
        "dup: versions it received twice.",
      "",
    );
    out.push(
      "| scenario | peer | viewers | connect s | p50 | p90 | p99 | max | deliveries/s | published | write p50 | missing | dup | KiB/viewer | CPU server (load) | CPU s | µs/delivery | note |",
      "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    );
    for (const r of fan) {
      if (r.status !== "ok") {
        out.push(notRun(r, 15));
        continue;
      }
      const l = r.latency;
      out.push(
        `| ${r.scenario} | ${r.peer} | ${r.connected}/${r.viewers} | ${num(r.connectSeconds)} | ${
          num(l?.p50)
        } | ${num(l?.p90)} | ${num(l?.p99)} | ${num(l?.max)} | ${int(r.deliveriesPerSecond)} | ${
          int(r.published)
        } | ${num(r.writeLatency?.p50)} | ${int(r.missing)} | ${int(r.duplicates)} | ${
          num(r.kibPerViewer)
        } | ${int(r.serverCpu)} % (${int(r.generatorCpu)} %) | ${num(r.serverCpuSeconds)} | ${
          num(r.cpuPerDeliveryUs)
        } | ${esc(noteOf(r))} |`,
      );
    }
    out.push("");
  }

  const connects = rows.filter((r) => CONNECT.includes(r.scenario));
  if (connects.length > 0) {
    out.push("## Connecting and memory per viewer", "");
    out.push(
      "All viewers of one transport connect at once. Connect: from the first attempt until every " +
        "viewer had its first message. KiB/viewer: the server's RSS growth over connecting ÷ " +
        "viewers, read 0.5 s after the last one connected (long polls are then waiting for the " +
        "next change). µs/connect: the server's CPU while connecting ÷ viewers. Then one change " +
        "must reach every viewer.",
      "",
    );
    out.push(
      "| scenario | peer | viewers | connect s | KiB/viewer | µs/connect | missing | CPU load (connect) | note |",
      "|---|---|--:|--:|--:|--:|--:|--:|---|",
    );
    for (const r of connects) {
      if (r.status !== "ok") {
        out.push(notRun(r, 6));
        continue;
      }
      out.push(
        `| ${r.scenario} | ${r.peer} | ${r.connected}/${r.viewers} | ${num(r.connectSeconds)} | ${
          num(r.kibPerViewer)
        } | ${num(r.connectCpuUs)} | ${int(r.missing)} | ${int(r.generatorCpuConnect)} % | ${
          esc(noteOf(r))
        } |`,
      );
    }
    out.push("");
  }

  const floor = floorLines(rows);
  if (floor.length > 0) {
    out.push("## Scoreline ÷ bare floor (issue 16)", "");
    out.push(
      "The bare floor is `bench/peers/bare_deno.ts`: `Deno.serve` with one ReadableStream per SSE " +
        "viewer, one WebSocket `send` of one string per socket and one shared long-poll body, and " +
        "nothing else. Ratio: Scoreline ÷ floor. The contract floor (`bare-contract`, when it ran) " +
        "is the same server paying what Deno charges for the contract: Scoreline's headers on " +
        "every feed answer and a long poll's `request.signal`. Where runs were repeated, each " +
        "figure is the median and its runs' range follows in brackets.",
      "",
    );
    out.push(
      "| figure | Scoreline | bare floor | ratio | target | met | contract floor | ratio to it |",
      "|---|--:|--:|--:|---|---|--:|--:|",
      ...floor,
      "",
    );
    const fsync = fsyncLine(rows);
    if (fsync) out.push(fsync, "");
    const durable = durableLine(rows);
    if (durable) out.push(durable, "");
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
        out.push(notRun(r, 4));
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

  const loads = all.filter((r) => r.loadAverages?.length);
  if (loads.length > 0) {
    out.push(
      "Load average (1 min) before → after each run: " +
        loads.map((r) => `${r.scenario} · ${r.peer} ${r.loadAverages!.join(", ")}`).join("; ") +
        ".",
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

interface FloorTarget {
  what: string;
  scenario: string;
  peer: "scoreline" | "scoreline-memory";
  /** The figure: a number field of the row, or "latency.p99". */
  figure: string;
  unit: string;
  /** Met when Scoreline ÷ floor is at most this... */
  max?: number;
  /** ...or at least this; neither: reported, no target. */
  min?: number;
}

/** Issue 16's targets: Scoreline ÷ the bare floor, same run, median of the repeats. */
export const FLOOR_TARGETS: readonly FloorTarget[] = [
  {
    what: "Server CPU per SSE delivery, 1,000 viewers, one publisher (SQLite)",
    scenario: "one-pub-sse-1k",
    peer: "scoreline",
    figure: "cpuPerDeliveryUs",
    unit: "µs",
    max: 1.15,
  },
  {
    what: "Server CPU per SSE delivery, 1,000 viewers, one publisher (:memory:)",
    scenario: "one-pub-sse-1k",
    peer: "scoreline-memory",
    figure: "cpuPerDeliveryUs",
    unit: "µs",
    max: 1.15,
  },
  {
    what: "Server CPU per WebSocket delivery, 1,000 viewers, one publisher (SQLite)",
    scenario: "one-pub-ws-1k",
    peer: "scoreline",
    figure: "cpuPerDeliveryUs",
    unit: "µs",
    max: 1.15,
  },
  {
    what: "Server CPU per WebSocket delivery, 1,000 viewers, one publisher (:memory:)",
    scenario: "one-pub-ws-1k",
    peer: "scoreline-memory",
    figure: "cpuPerDeliveryUs",
    unit: "µs",
    max: 1.15,
  },
  {
    what: "One-publisher SSE deliveries/s, 1,000 viewers (:memory:)",
    scenario: "one-pub-sse-1k",
    peer: "scoreline-memory",
    figure: "deliveriesPerSecond",
    unit: "/s",
    min: 0.9,
  },
  {
    what: "One-publisher SSE deliveries/s, 1,000 viewers (SQLite: fsync per write)",
    scenario: "one-pub-sse-1k",
    peer: "scoreline",
    figure: "deliveriesPerSecond",
    unit: "/s",
  },
  {
    what: "Long polling, 1,000 viewers, 10 changes/s: server CPU",
    scenario: "long-poll-10hz-1k",
    peer: "scoreline",
    figure: "serverCpuSeconds",
    unit: "s",
    max: 1.3,
  },
  {
    what: "Long polling, 1,000 viewers, 10 changes/s: p99",
    scenario: "long-poll-10hz-1k",
    peer: "scoreline",
    figure: "latency.p99",
    unit: "ms",
    max: 1.5,
  },
  {
    what: "10,000 SSE viewers connected",
    scenario: "connect-sse-10k",
    peer: "scoreline",
    figure: "connectSeconds",
    unit: "s",
    max: 1.1,
  },
  {
    // CPU time barely moves with the machine's load, the wall-clock connect time does: this is
    // the figure to judge the connect path by on a shared machine.
    what: "Server CPU per connecting SSE viewer (10,000)",
    scenario: "connect-sse-10k",
    peer: "scoreline",
    figure: "connectCpuUs",
    unit: "µs",
  },
  {
    what: "Memory per WebSocket viewer (10,000)",
    scenario: "connect-ws-10k",
    peer: "scoreline",
    figure: "kibPerViewer",
    unit: "KiB",
    max: 1.1,
  },
  {
    what: "Memory per waiting long poll (10,000)",
    scenario: "connect-lp-10k",
    peer: "scoreline",
    figure: "kibPerViewer",
    unit: "KiB",
    max: 1.1,
  },
  {
    what: "Memory per SSE viewer (10,000; bounded by Deno's stream bridge)",
    scenario: "connect-sse-10k",
    peer: "scoreline",
    figure: "kibPerViewer",
    unit: "KiB",
  },
];

/** A row's figure by key: a number field, or a latency percentile ("latency.p99"). */
export function figureOf(row: Row, key: string): number | undefined {
  const [field, sub] = key.split(".") as [string, string | undefined];
  const value = (row as unknown as Record<string, unknown>)[field];
  const figure = sub === undefined ? value : (value as Record<string, unknown> | null)?.[sub];
  return typeof figure === "number" ? figure : undefined;
}

/** The runs' range of a figure when the row is a median of several, e.g. " (4.1–4.6)". */
function spread(row: Row, key: string): string {
  const values = row.runs?.[key] ?? [];
  if (values.length < 2) return "";
  const fmt = (v: number) => v.toLocaleString("en-US", { maximumFractionDigits: 2 });
  return ` (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
}

export function floorLines(rows: Row[]): string[] {
  const lines: string[] = [];
  const ok = rows.filter((r) => r.status === "ok");
  for (const target of FLOOR_TARGETS) {
    const mine = ok.find((r) => r.scenario === target.scenario && r.peer === target.peer);
    const floor = ok.find((r) => r.scenario === target.scenario && r.peer === "bare");
    const contract = ok.find((r) => r.scenario === target.scenario && r.peer === "bare-contract");
    if (!mine && !floor) continue;
    const a = mine ? figureOf(mine, target.figure) : undefined;
    const b = floor ? figureOf(floor, target.figure) : undefined;
    const r = a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
    const c = contract ? figureOf(contract, target.figure) : undefined;
    const rc = a !== undefined && c !== undefined && c > 0 ? a / c : undefined;
    const goal = target.max !== undefined
      ? `≤ ${target.max}×`
      : target.min !== undefined
      ? `≥ ${target.min}×`
      : "report";
    const met = r === undefined || goal === "report"
      ? ""
      : (target.max !== undefined ? r <= target.max : r >= target.min!)
      ? "met"
      : "not met";
    const show = (v: number | undefined, row: Row | undefined) =>
      v === undefined
        ? "–"
        : `${v.toLocaleString("en-US", { maximumFractionDigits: 2 })} ${target.unit}${
          row ? spread(row, target.figure) : ""
        }`;
    lines.push(
      `| ${target.what} | ${show(a, mine)} | ${show(b, floor)} | ${
        r === undefined ? "–" : `${r.toFixed(2)}×`
      } | ${goal} | ${met} | ${show(c, contract)} | ${
        rc === undefined ? "–" : `${rc.toFixed(2)}×`
      } |`,
    );
  }
  return lines;
}

/** What the SQLite store's commit (its fsync) costs the one-publisher ceiling. */
function fsyncLine(rows: Row[]): string | null {
  const find = (peer: PeerName) =>
    rows.find((r) => r.scenario === "one-pub-sse-1k" && r.peer === peer && r.status === "ok");
  const disk = find("scoreline");
  const memory = find("scoreline-memory");
  const floor = find("bare");
  if (!disk?.writeLatency || !memory?.writeLatency || !disk.deliveriesPerSecond) return null;
  const extra = disk.writeLatency.p50 - memory.writeLatency.p50;
  return `One publisher, SQLite against :memory:: a write's round trip p50 ${disk.writeLatency.p50} ` +
    `ms against ${memory.writeLatency.p50} ms (${extra.toFixed(2)} ms more per write, the commit ` +
    `and its fsync), deliveries/s ${
      ratio(disk.deliveriesPerSecond, memory.deliveriesPerSecond)
    } of :memory:'s${
      floor?.writeLatency
        ? `; the bare floor's round trip p50 is ${floor.writeLatency.p50} ms, so :memory: adds ${
          (memory.writeLatency.p50 - floor.writeLatency.p50).toFixed(2)
        } ms per write`
        : ""
    }.`;
}

/**
 * Issue 16, item 4: with 16 writers committing durably on SQLite, the p99 delivery latency at
 * 1,000 SSE viewers against the same scenario on :memory: (target: at most 1.2×).
 */
export function durableLine(rows: Row[]): string | null {
  const find = (peer: PeerName) =>
    rows.find((r) => r.scenario === "ceiling-sse-1k" && r.peer === peer && r.status === "ok");
  const disk = find("scoreline")?.latency;
  const memory = find("scoreline-memory")?.latency;
  if (!disk || !memory || memory.p99 <= 0) return null;
  const r = disk.p99 / memory.p99;
  return `16 writers, 1,000 SSE viewers (\`ceiling-sse-1k\`): p99 delivery latency on SQLite ` +
    `${disk.p99} ms against ${memory.p99} ms on :memory: (p50 ${disk.p50} against ` +
    `${memory.p50} ms): ${r.toFixed(2)}× (target ≤ 1.2×: ${r <= 1.2 ? "met" : "not met"}).`;
}

function ratioLines(rows: Row[]): string[] {
  const lines: string[] = [];
  const ok = rows.filter((r) => r.status === "ok");
  for (const scenario of [...FAN_OUT, ...CONNECT, "storm-sse-10k"]) {
    const mine = ok.find((r) => r.scenario === scenario && r.peer === "scoreline");
    if (!mine) continue;
    for (const peer of ["bare", "nchan", "naive"] as const) {
      const theirs = ok.find((r) => r.scenario === scenario && r.peer === peer);
      if (!theirs) continue;
      if (CONNECT.includes(scenario)) {
        // One change after connecting: only connect time and memory compare.
        lines.push(
          `| ${scenario} | ${peer} | – | – | ${ratio(mine.kibPerViewer, theirs.kibPerViewer)} | ${
            ratio(mine.connectSeconds, theirs.connectSeconds)
          } | – |`,
        );
        continue;
      }
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
  if (
    r.scenario.startsWith("long-poll") && ["scoreline", "bare"].includes(r.peer) &&
    (r.missing ?? 0) > 0
  ) {
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
  return v === undefined || !Number.isFinite(v) ? "–" : String(Math.round(v * 1000) / 1000);
}

function int(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? "–" : Math.round(v).toLocaleString("en-US");
}

/** A table line for a row that did not run: scenario, peer, `empty` blank cells, why. */
function notRun(r: Row, empty: number): string {
  return `| ${r.scenario} | ${r.peer} |${" |".repeat(empty)} ${r.status}: ${esc(r.note)} |`;
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
