/** Timers for a load process that runs its own loop (no Deno event loop to run setTimeout). */

export interface Timer {
  at: number;
  run: () => void;
  cancelled: boolean;
}

/** Timers of the loop (reconnect back-off): a binary heap on their due time. */
export class Timers {
  #heap: Timer[] = [];

  after(ms: number, run: () => void): Timer {
    const timer = { at: performance.now() + ms, run, cancelled: false };
    const heap = this.#heap;
    heap.push(timer);
    for (let i = heap.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (heap[up]!.at <= heap[i]!.at) break;
      [heap[up], heap[i]] = [heap[i]!, heap[up]!];
      i = up;
    }
    return timer;
  }

  /** Milliseconds until the next timer is due (Infinity when none). */
  next(): number {
    const first = this.#heap[0];
    return first ? Math.max(0, first.at - performance.now()) : Infinity;
  }

  runDue(): void {
    const t = performance.now();
    while (this.#heap.length > 0 && this.#heap[0]!.at <= t) {
      const timer = this.#pop();
      if (!timer.cancelled) timer.run();
    }
  }

  #pop(): Timer {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l]!.at < heap[m]!.at) m = l;
        if (r < heap.length && heap[r]!.at < heap[m]!.at) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
    return top;
  }
}
