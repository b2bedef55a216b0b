/**
 * A cache bounded by a budget of size units (bytes, or one per entry), dropping the least recently
 * used entry first. What the service caches for anonymous readers (rendered pages, time-zone
 * formatters) is keyed by what they put in a URL, so a count of entries alone would let one client
 * fill memory with a few large ones, and an unbounded map with many small ones.
 */
export class Lru<V> {
  readonly #entries = new Map<string, { value: V; size: number }>();
  #used = 0;

  /** `sizeOf` says what an entry costs (default: 1, so `budget` is a number of entries). */
  constructor(readonly budget: number, private readonly sizeOf: (value: V) => number = () => 1) {}

  /** What the entries cost in all, never above the budget. */
  get used(): number {
    return this.#used;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    // Most recently used last, so that eviction drops the coldest.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` unless it alone costs more than the whole budget; evicts to make room. */
  set(key: string, value: V): void {
    const size = this.sizeOf(value);
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#used -= old.size;
    }
    if (size > this.budget) return;
    for (const [coldest, entry] of this.#entries) {
      if (this.#used + size <= this.budget) break;
      this.#entries.delete(coldest);
      this.#used -= entry.size;
    }
    this.#entries.set(key, { value, size });
    this.#used += size;
  }
}
