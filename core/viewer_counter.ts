/**
 * The viewer count, every 5 s: the hub's open feeds by scope in, counts per game out (from the
 * store: in Redis mode summed over every instance), the feeds that asked told of a change, and
 * the latest counts kept for `GET /api/viewers`. One timer for all of it; nothing per feed.
 */
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import {
  NO_VIEWERS,
  type ScopeTally,
  type ViewerCounts,
  VIEWERS_EVERY_MS,
  type ViewerSource,
} from "./viewers.ts";

export interface ViewerCounterOptions {
  hub: { tally(): ScopeTally; announceViewers(counts: ViewerCounts): void };
  source: ViewerSource;
  clock: Clock;
  log?: Logger;
  everyMs?: number;
}

export class ViewerCounter {
  #latest: ViewerCounts = NO_VIEWERS;
  #running: Promise<void> | undefined;
  #closed = false;
  readonly #options: ViewerCounterOptions;
  readonly #stop: () => void;

  constructor(options: ViewerCounterOptions) {
    this.#options = options;
    this.#stop = options.clock.every(options.everyMs ?? VIEWERS_EVERY_MS, () => void this.count());
  }

  /** The counts of the last count (all zero before the first, 5 s after start). */
  get latest(): ViewerCounts {
    return this.#latest;
  }

  /**
   * Counts now: resolves once the counts are in and the feeds told. A count still running is not
   * started again (a slow Redis does not pile up counts); a failed one keeps the last counts.
   */
  count(): Promise<void> {
    this.#running ??= this.#count().finally(() => (this.#running = undefined));
    return this.#running;
  }

  close(): void {
    this.#closed = true;
    this.#stop();
  }

  async #count(): Promise<void> {
    const { hub, source, log } = this.#options;
    try {
      const counts = await source.countViewers(hub.tally());
      if (this.#closed) return;
      this.#latest = counts;
      hub.announceViewers(counts);
    } catch (error) {
      // The store is away (Redis): the last counts stand until it is back. Not worth a line a tick.
      log?.debug("viewer count failed", { error: String(error) });
    }
  }
}
