/**
 * What /metrics exposes, in the Prometheus text format, made with prom-client (the client most
 * Node services use: exposition format, escaping and histograms done right, and it runs on Deno
 * unchanged). Its default process collector is not used: under Deno its event-loop series read
 * NaN and nonsense, and it wants to read /proc, which the container does not allow.
 *
 * Nothing here runs per delivery. Counters the hub already keeps are read at scrape time; the
 * only per-event work is one histogram observation per write and one per fan-out (per committed
 * batch, never per subscriber), so 10,000 viewers cost the metrics nothing.
 */
import process from "node:process";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { WriteOutcome } from "../core/scoreboard.ts";
import { type Hub, TRANSPORTS } from "../core/hub.ts";
import type { FeedCapacity } from "../core/capacity.ts";

/** What a finished write looks like to the metrics. */
export interface WriteEvent {
  action: "put" | "patch" | "score" | "delete" | "timer" | "event" | "unevent";
  id: string;
  outcome: WriteOutcome;
  seconds: number;
}

/** What the metrics read when scraped. */
export interface MetricSources {
  hub: Hub;
  capacity: FeedCapacity;
}

/** Write latency: a SQLite commit with fsync is ~1 ms here, a slow disk or Redis far more. */
const WRITE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Fan-out: microseconds for a handful of viewers, tens of milliseconds for tens of thousands. */
const FANOUT_BUCKETS = [
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  1,
];

export class Metrics {
  readonly registry = new Registry();
  #sources: MetricSources | undefined;
  readonly #writes: Counter<"action" | "outcome">;
  readonly #writeSeconds: Histogram<"action">;
  readonly #fanoutSeconds: Histogram;

  constructor() {
    const registers = [this.registry];
    const sources = () => this.#sources;

    new Gauge({
      name: "scoreline_subscribers",
      help: "Open feeds by transport (long_poll: requests waiting for a change).",
      labelNames: ["transport"],
      registers,
      collect() {
        const hub = sources()?.hub;
        for (const transport of TRANSPORTS) this.set({ transport }, hub?.open(transport) ?? 0);
      },
    });
    hubCounter(
      "scoreline_messages_published_total",
      "Changes published to subscribers.",
      () => sources()?.hub.counters.published,
    );
    hubCounter(
      "scoreline_deliveries_total",
      "Messages handed to subscribers (one per subscriber per message; heartbeats not counted).",
      () => sources()?.hub.counters.deliveries,
    );
    hubCounter(
      "scoreline_conflated_total",
      "Held-back updates of a slow reader replaced by a newer update of the same game.",
      () => sources()?.hub.counters.conflated,
    );
    hubCounter(
      "scoreline_slow_readers_closed_total",
      "Subscribers disconnected because they could not keep up (they resume by cursor).",
      () => sources()?.hub.counters.slowClosed,
    );
    hubCounter(
      "scoreline_patches_computed_total",
      "Patch messages computed for ?delta=1 feeds: at most one per change, shared by every " +
        "delta subscriber (each delivery of one counts in scoreline_deliveries_total).",
      () => sources()?.hub.counters.patches,
    );
    hubCounter(
      "scoreline_feeds_refused_total",
      "Feeds refused by a cap (per address, in total, WebSockets) or the rate of new feeds.",
      () => sources()?.capacity.refused,
    );
    new Gauge({
      name: "scoreline_held_updates",
      help: "Updates held back for subscribers that are not keeping up, in all (bounded).",
      registers,
      collect() {
        this.set(sources()?.hub.held() ?? 0);
      },
    });
    this.#writes = new Counter({
      name: "scoreline_writes_total",
      help: "Writes that reached the store, by action and outcome (rejected: 404, 412 or 422).",
      labelNames: ["action", "outcome"],
      registers,
    });
    this.#writeSeconds = new Histogram({
      name: "scoreline_write_duration_seconds",
      help: "Write latency, from the request's arrival to its durable commit.",
      labelNames: ["action"],
      buckets: WRITE_BUCKETS,
      registers,
    });
    this.#fanoutSeconds = new Histogram({
      name: "scoreline_publish_to_deliver_seconds",
      help: "Per committed batch: time from the hub receiving it until every subscriber in " +
        "scope that keeps up has its bytes queued (so the latency of the last one served).",
      buckets: FANOUT_BUCKETS,
      registers,
    });
    new Counter({
      name: "process_cpu_seconds_total",
      help: "User and system CPU time spent, in seconds.",
      registers,
      collect() {
        const { user, system } = process.cpuUsage();
        this.reset();
        this.inc((user + system) / 1e6);
      },
    });
    new Gauge({
      name: "process_resident_memory_bytes",
      help: "Resident memory size in bytes.",
      registers,
      collect() {
        this.set(Deno.memoryUsage().rss);
      },
    });
    new Gauge({
      name: "process_heap_used_bytes",
      help: "JavaScript heap in use, in bytes.",
      registers,
      collect() {
        this.set(Deno.memoryUsage().heapUsed);
      },
    });
    const started = Date.now() / 1000 - performance.now() / 1000;
    new Gauge({
      name: "process_start_time_seconds",
      help: "Start time of the process since the Unix epoch, in seconds.",
      registers,
      collect() {
        this.set(Math.round(started));
      },
    });

    /** A counter the hub keeps itself, copied at scrape time (it only goes up, like ours). */
    function hubCounter(name: string, help: string, read: () => number | undefined) {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read() ?? 0);
        },
      });
    }
  }

  /** Where the gauges and hub counters are read from. */
  watch(sources: MetricSources): void {
    this.#sources = sources;
  }

  /** One observation per write that reached the store. */
  readonly write = (event: WriteEvent): void => {
    this.#writes.inc({ action: event.action, outcome: event.outcome.kind });
    this.#writeSeconds.observe({ action: event.action }, event.seconds);
  };

  /** The hub's onFanout: one observation per committed batch, whatever the number of viewers. */
  readonly fanout = (seconds: number): void => {
    this.#fanoutSeconds.observe(seconds);
  };

  /** The exposition: text and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
