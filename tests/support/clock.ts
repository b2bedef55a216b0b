/** A clock that moves only when a test says so: heartbeats and deadlines without sleeping. */
import type { Clock } from "../../core/clock.ts";

interface Timer {
  ms: number;
  next: number;
  tick: () => void;
}

export class ManualClock implements Clock {
  #now: number;
  #timers = new Set<Timer>();
  #onTimer: (() => void)[] = [];

  constructor(start = Date.UTC(2026, 10, 21, 18, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  every(ms: number, tick: () => void): () => void {
    const timer = { ms, next: this.#now + ms, tick };
    this.#timers.add(timer);
    for (const resolve of this.#onTimer.splice(0)) resolve();
    return () => this.#timers.delete(timer);
  }

  /**
   * Resolves when the next timer is started: how a test learns that the server reached the point
   * where it waits on this clock (say, a deadline on a request body), so it can then advance.
   */
  nextTimer(): Promise<void> {
    return new Promise((resolve) => this.#onTimer.push(resolve));
  }

  /** Moves time forward, running every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let due: Timer | undefined;
      for (const timer of this.#timers) {
        if (timer.next <= target && (!due || timer.next < due.next)) due = timer;
      }
      if (!due) break;
      this.#now = due.next;
      due.next += due.ms;
      due.tick();
    }
    this.#now = target;
  }

  /** How many timers are running: a closed hub must leave none. */
  get timers(): number {
    return this.#timers.size;
  }
}
