/**
 * Follows the change stream on a connection of its own (XREAD BLOCK) and hands every change, from
 * every instance, to the listeners in version order, exactly once.
 *
 * Versions are consecutive in the stream (one entry per version), so a hole is visible: when the
 * next entry is not `seen + 1` (this instance fell behind the stream's MAXLEN), or after the
 * connection was lost, the follower resynchronises from state instead of from the log: "since
 * seen", the latest state of every game changed since, then it reads on. Viewers get no gap.
 * When Redis lost its data, "since seen" is below the new horizon and answers a snapshot: what
 * viewers were sent cannot be corrected change by change, so the follower signals a reset.
 */
import { type Change, type Resume, tombstone } from "../core/scoreboard.ts";
import type { Game } from "../core/schema.ts";
import type { RedisLink } from "./redis_link.ts";

/** Entries read per XREAD: a burst is handed over in batches of at most this many. */
const READ_COUNT = 512;
/** Server-side wait of one XREAD; the loop then reads again (a quiet stream costs one call). */
const BLOCK_MS = 5_000;
/** Pause before trying again after an error that did not cost the connection (a bad reply). */
const ERROR_PAUSE_MS = 1_000;

export interface FollowerOptions {
  link: RedisLink;
  stream: string;
  /** The current version, seeded when missing; `seed` is the smallest allowed. */
  version(link: RedisLink, seed: number): Promise<number>;
  /** "Since cursor" for all games, read on the follower's own link. */
  resume(link: RedisLink, cursor: number, seed: number): Promise<Resume>;
  /** The seed for a missing counter: above the clock in µs and above `seen`. */
  seed(seen: number): number;
  publish(changes: readonly Change[]): void;
  reset(): void;
}

/** A stream entry as node-redis gives it. */
interface Entry {
  id: string;
  message: Record<string, string>;
}

interface Waiter {
  version: number;
  resolve: () => void;
}

export class StreamFollower {
  /** The newest version handed to the listeners (or known to need no handing); null at first. */
  #seen: number | null = null;
  /** In step with the stream: every version up to `seen` has been published. */
  #synced = false;
  #stopped = false;
  #waiters: Waiter[] = [];
  #loop: Promise<void> | undefined;
  #pause: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | undefined;
  #firstSync: Promise<void>;
  #markFirstSync!: () => void;

  constructor(private readonly options: FollowerOptions) {
    this.#firstSync = new Promise((resolve) => (this.#markFirstSync = resolve));
  }

  /** In step with the stream now: commits reach the listeners as they happen. */
  get live(): boolean {
    return this.#synced && !this.#stopped && this.options.link.up;
  }

  /** Whether the follower has learnt the version at least once (before that, no reads). */
  get started(): boolean {
    return this.#seen !== null;
  }

  get seen(): number | null {
    return this.#seen;
  }

  /** Connects and starts following; resolves with whether the first connection worked. */
  start(): Promise<boolean> {
    const connected = this.options.link.start();
    this.#loop ??= this.#run();
    return connected;
  }

  /** Resolves after the first synchronisation was tried (whether or not it worked). */
  firstSync(): Promise<void> {
    return this.#firstSync;
  }

  /**
   * Resolves once the listeners have been told of `version`, so a write is acknowledged only
   * after this instance's viewers have it. If the follower is cut off, at once: the change is
   * durable, and the resync after reconnecting delivers it.
   */
  caughtUp(version: number): Promise<void> {
    if (!this.live || (this.#seen ?? 0) >= version) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ version, resolve }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#pause) {
      clearTimeout(this.#pause.timer);
      this.#pause.resolve();
    }
    await this.options.link.close();
    await this.#loop;
    this.#release(Infinity);
    this.#markFirstSync();
  }

  async #run(): Promise<void> {
    const { link, stream } = this.options;
    while (!this.#stopped) {
      await link.whenUp();
      if (this.#stopped) break;
      try {
        if (!this.#synced) {
          await this.#resync();
          this.#synced = true;
          this.#markFirstSync();
          this.#release(this.#seen!);
        }
        const reply = await link.client.xRead({ key: stream, id: `${this.#seen}-0` }, {
          BLOCK: BLOCK_MS,
          COUNT: READ_COUNT,
        }) as { messages: Entry[] }[] | null;
        this.#consume(reply?.[0]?.messages ?? []);
      } catch {
        if (this.#stopped) break;
        this.#markFirstSync();
        this.#synced = false;
        // Writes waiting for their change must not hang on a dead link; resync delivers it.
        this.#release(Infinity);
        if (link.up) await this.#sleep(ERROR_PAUSE_MS);
      }
    }
  }

  /** Publishes consecutive entries; at a hole, stops and leaves the rest to a resync. */
  #consume(entries: readonly Entry[]): void {
    const batch: Change[] = [];
    for (const entry of entries) {
      const version = Number(entry.id.slice(0, entry.id.indexOf("-")));
      const seen = this.#seen!;
      if (version <= seen) continue;
      if (version !== seen + 1) {
        this.#synced = false;
        break;
      }
      batch.push(changeOf(version, entry.message));
      this.#seen = version;
    }
    if (batch.length > 0) this.options.publish(batch);
    this.#release(this.#seen!);
  }

  async #resync(): Promise<void> {
    const { link } = this.options;
    const seen = this.#seen;
    if (seen === null) {
      this.#seen = await this.options.version(link, this.options.seed(0));
      return;
    }
    const resume = await this.options.resume(link, seen, this.options.seed(seen));
    if (resume.kind === "changes") {
      if (resume.changes.length > 0) this.options.publish(resume.changes);
    } else {
      this.options.reset();
    }
    this.#seen = resume.version;
  }

  #release(upTo: number): void {
    if (this.#waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.version <= upTo) waiter.resolve();
      else keep.push(waiter);
    }
    this.#waiters = keep;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#pause = {
        timer: setTimeout(() => {
          this.#pause = undefined;
          resolve();
        }, ms),
        resolve,
      };
    });
  }
}

/**
 * A stream entry's fields back into a Change: `g` the game's JSON, or `r` id, `t` removedAt and
 * `c` the competition the game had (empty or absent: none).
 */
function changeOf(version: number, fields: Record<string, string>): Change {
  if (fields.g !== undefined) {
    return { type: "update", version, game: JSON.parse(fields.g) as Game };
  }
  return tombstone(version, String(fields.r), Number(fields.t), fields.c || undefined);
}
