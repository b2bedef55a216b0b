/**
 * One connection to Redis that comes back by itself. node-redis would reconnect on its own, but
 * it queues commands while offline (unbounded memory while Redis is down) and its retry timer
 * cannot be cancelled; here commands fail at once while the link is down (the caller answers
 * 503), the command queue is bounded, and reconnecting is ours: exponential backoff with jitter,
 * stopped cleanly by close().
 */
import { createHash } from "node:crypto";
import { createClient } from "redis";
import type { Logger } from "../core/log.ts";

/** Commands waiting for Redis on one connection, at most; past it a command fails at once. */
export const MAX_QUEUED_COMMANDS = 10_000;

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/**
 * How long to wait before reconnect attempt `attempt` (0-based): doubling from 100 ms up to 5 s,
 * then between half and all of that at random, so instances cut off together do not all come
 * back in the same millisecond.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

type Client = ReturnType<typeof createClient>;
type State = "connecting" | "ready" | "waiting" | "closed";

export class RedisLink {
  readonly client: Client;
  #state: State = "waiting";
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #connecting: Promise<boolean> | undefined;
  #waiters = new Set<() => void>();

  /**
   * @param onChange told when the link goes up (true) or down (false).
   */
  constructor(
    url: string,
    private readonly name: string,
    private readonly log: Logger,
    private readonly onChange: (up: boolean) => void = () => {},
  ) {
    this.client = createClient({
      url,
      name: `scoreline-${name}`,
      disableOfflineQueue: true,
      commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
      socket: { reconnectStrategy: false, connectTimeout: 5_000 },
    });
    // Without a listener an 'error' event would throw. A lost connection shows up here; node-redis
    // marks the client closed right after emitting, so look once the emit is over.
    this.client.on("error", () => {
      if (this.#state === "ready") queueMicrotask(() => this.#checkLost());
    });
  }

  /** Up, as far as this process knows. */
  get up(): boolean {
    return this.#state === "ready" && this.client.isReady;
  }

  /** Connects for the first time; resolves with whether that worked (it keeps trying if not). */
  start(): Promise<boolean> {
    return this.#connect();
  }

  /** Resolves once the link is up, or closed. */
  whenUp(): Promise<void> {
    if (this.up || this.#state === "closed") return Promise.resolve();
    return new Promise((resolve) => this.#waiters.add(resolve));
  }

  /** Runs a Lua script by its SHA1, sending the source only when Redis does not have it yet. */
  async eval(script: Script, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.client.sendCommand(["EVALSHA", script.sha, ...tail]);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
      return await this.client.sendCommand(["EVAL", script.source, ...tail]);
    }
  }

  /** Stops reconnecting and drops the connection; commands still waiting fail. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#timer);
    await this.#connecting;
    if (this.client.isOpen) this.client.destroy();
    for (const resolve of this.#waiters) resolve();
    this.#waiters.clear();
  }

  #connect(): Promise<boolean> {
    this.#state = "connecting";
    this.#connecting = this.client.connect().then(
      () => {
        if (this.#state === "closed") return false;
        if (this.#attempt > 0) this.log.info("redis connection restored", { link: this.name });
        this.#state = "ready";
        this.#attempt = 0;
        for (const resolve of this.#waiters) resolve();
        this.#waiters.clear();
        this.onChange(true);
        return true;
      },
      (error) => {
        if (this.#state !== "closed") this.#retry(error);
        return false;
      },
    ).finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  #checkLost(): void {
    if (this.#state !== "ready" || this.client.isOpen) return;
    this.onChange(false);
    this.#retry(new Error("the connection was lost"));
  }

  #retry(error: unknown): void {
    const delay = reconnectDelay(this.#attempt++);
    if (this.#attempt === 1 || this.#attempt % 20 === 0) {
      this.log.warn("redis unreachable; retrying", {
        link: this.name,
        attempt: this.#attempt,
        retryInMs: delay,
        error: String((error as Error)?.message ?? error),
      });
    }
    this.#state = "waiting";
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state === "waiting") void this.#connect();
    }, delay);
  }
}

/** A Lua script and its SHA1, as EVALSHA wants it. */
export interface Script {
  source: string;
  sha: string;
}

export function script(source: string): Script {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}
