/**
 * Caps on open feeds (streams, sockets, waiting long polls): per client address and in total.
 * A Deno process here can hold about 20,000 open files; refusing with 429/503 and Retry-After
 * below that is a decision, where running into "Too many open files" would be an accident that
 * takes every other viewer down too.
 */

/**
 * A feed refused for capacity: `client` when this address has as many feeds as it may (429),
 * `total` when the service does (503). Domain data; the HTTP layer picks the status.
 */
export class CapacityError extends Error {
  constructor(readonly limit: "client" | "total", readonly max: number, readonly retryAfter = 5) {
    super(
      limit === "total"
        ? "the service has as many open feeds as it can hold"
        : `at most ${max} open feeds per client`,
    );
    this.name = "CapacityError";
  }
}

export class FeedCapacity {
  #perClient = new Map<string, number>();
  #total = 0;
  /** Feeds refused, for /metrics. */
  refused = 0;

  constructor(readonly maxPerClient: number, readonly maxTotal: number) {}

  get open(): number {
    return this.#total;
  }

  /** Takes a slot for `client`, or throws CapacityError. Returns the release, safe to call twice. */
  acquire(client: string): () => void {
    const mine = this.#perClient.get(client) ?? 0;
    if (this.#total >= this.maxTotal) {
      this.refused++;
      throw new CapacityError("total", this.maxTotal);
    }
    if (mine >= this.maxPerClient) {
      this.refused++;
      throw new CapacityError("client", this.maxPerClient);
    }
    this.#perClient.set(client, mine + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#perClient.get(client) ?? 1) - 1;
      if (left > 0) this.#perClient.set(client, left);
      else this.#perClient.delete(client);
    };
  }
}

/** File descriptors kept back from feeds, at the least: see feedCapWithin. */
const FILE_RESERVE = 128;

/**
 * The total feed cap that fits the file descriptors this process can still open (`available`;
 * null when unknown). Every feed holds a socket, and once accept() runs out of descriptors Deno's
 * server stops accepting for good (Deno 2.9.6 rejects `server.finished` with EMFILE). So
 * SCORELINE_MAX_FEEDS is lowered, if it must be, to leave a fifth (at least 128) for what is not a
 * feed: writes, short polls, idle keep-alive connections. Past the cap viewers get 503 and
 * Retry-After instead of a dead server.
 */
export function feedCapWithin(configured: number, available: number | null): number {
  if (available === null) return configured;
  const reserve = Math.max(FILE_RESERVE, Math.ceil(available / 5));
  return Math.max(1, Math.min(configured, available - reserve));
}

/** How many free descriptors prove that `configured` fits: beyond this, counting is pointless. */
export function descriptorsNeeded(configured: number): number {
  return Math.max(configured + FILE_RESERVE, Math.ceil(configured * 1.25));
}
