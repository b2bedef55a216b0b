/**
 * The Redis store, for several instances behind one load balancer: state, versions, tombstones,
 * idempotency records and change notification all live in Redis, so every instance serves the
 * same scoreboard with the same contract (tests/store_conformance.ts runs against it).
 *
 * Writes are optimistic. The `Mutation` is TypeScript, so it runs here against the game as read;
 * then one Lua script (store/redis_scripts.ts) checks the game is still at the version the
 * decision was made on, checks and records the Idempotency-Key, takes the next version, writes
 * the state or tombstone and appends to the change stream, all or nothing. If another instance
 * changed the game in between, the script answers with the game as it now is and the mutation
 * runs again. Within one instance, writes to one game queue up behind each other, so only
 * writes from other instances can conflict.
 *
 * Change notification: a StreamFollower (store/redis_follower.ts) reads the stream on its own
 * connection and tells the listeners of every commit, this instance's included, in version order.
 * A write resolves only once that has happened here, as the Store contract asks.
 *
 * A write is acknowledged once Redis has answered the script; it is durable only if Redis syncs
 * its append-only file before answering (`appendonly yes`, `appendfsync always`). The store checks
 * that at start and warns if Redis is configured otherwise.
 */
import {
  AUDIT_MAX_PER_GAME,
  AUDIT_TTL_MS,
  type AuditEntry,
  auditEntry,
  type AuditNote,
  visibleHistory,
} from "../core/audit.ts";
import type { Clock } from "../core/clock.ts";
import { storeClosedError, StoreUnavailableError } from "../core/errors.ts";
import { IDEMPOTENCY_TTL_MS } from "../core/idempotency.ts";
import { importTemplate } from "../core/import.ts";
import {
  bodyOf,
  byId,
  type Change,
  materialize,
  type Plan,
  planOf,
  type Resume,
  seedVersion,
  tombstone,
  TOMBSTONE_TTL_MS,
  type WriteOutcome,
} from "../core/scoreboard.ts";
import { ALL_GAMES, type Scope } from "../core/scope.ts";
import { countViewers, type ScopeTally, type ViewerCounts } from "../core/viewers.ts";
import type { Game } from "../core/schema.ts";
import { type Logger, silentLogger } from "../core/log.ts";
import { StreamFollower } from "./redis_follower.ts";
import { RedisLink, script } from "./redis_link.ts";
import {
  CLAIM_SCRIPT,
  IMPORT_SCRIPT,
  RESUME_SCRIPT,
  VERSION_SCRIPT,
  VIEWERS_SCRIPT,
  WRITE_SCRIPT,
} from "./redis_scripts.ts";
import type {
  Claim,
  IdempotencyKey,
  ImportOutcome,
  ImportRequest,
  Store,
  WriteRequest,
} from "./store.ts";

/** Entries the change stream keeps (approximately: MAXLEN ~). Older ones cost a resync. */
export const STREAM_LENGTH = 10_000;
/**
 * How long an in-progress mark on an Idempotency-Key lasts. A write never takes this long (it
 * fails first), so the mark only outlives its request when the instance died or Redis went away
 * before `release`; the key is then free again after this.
 */
export const CLAIM_TTL_MS = 5_000;
/** Conflicts of one write with other instances' writes to the same game, before a 503. */
const MAX_CONFLICTS = 20;
/**
 * How long an instance that lost a race on a game has the next turn on it (see WRITE_SCRIPT);
 * if it died meanwhile, the others wait this long at most.
 */
const TURN_TTL_MS = 100;
/** Tries while another instance has the turn, a millisecond or two apart, before a 503. */
const MAX_WAITS = 1_000;
/** Writes in flight on one instance, at most; past it a write is 503 (memory stays bounded). */
const MAX_IN_FLIGHT = 10_000;

const WRITE = script(WRITE_SCRIPT);
const RESUME = script(RESUME_SCRIPT);
const VERSION = script(VERSION_SCRIPT);
const CLAIM = script(CLAIM_SCRIPT);
const IMPORT = script(IMPORT_SCRIPT);
const VIEWERS = script(VIEWERS_SCRIPT);
/**
 * How long an instance's viewer report counts. Instances report every 5 s, so two reports may
 * be missed (a slow Redis, a busy event loop); an instance that stopped drops out of the sums
 * read after this, at most 15 s after its last report.
 */
export const VIEWERS_TTL_MS = 10_000;

export interface RedisStoreOptions {
  url: string;
  clock: Clock;
  log?: Logger;
  /** Prefix of every key, so that several boards (or tests) can share one Redis. */
  prefix?: string;
  /** MAXLEN of the change stream. */
  streamLength?: number;
  /** This instance's name in Redis's CLIENT LIST (`scoreline-<name>-commands`, `-stream`). */
  name?: string;
}

/** One game's queue of writes on this instance, and the game as its last write left it. */
interface Lane {
  tail: Promise<unknown>;
  size: number;
  known: { game: Game | undefined } | undefined;
}

export class RedisStore implements Store {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #keys: ReturnType<typeof boardKeys>;
  readonly #prefix: string;
  readonly #streamLength: number;
  readonly #link: RedisLink;
  readonly #follower: StreamFollower;
  #listeners = new Set<(changes: readonly Change[]) => void>();
  #resetListeners = new Set<() => void>();
  #lanes = new Map<string, Lane>();
  #inFlight = new Set<Promise<unknown>>();
  /** Claims whose release failed while Redis was away: released once it is back. */
  #unreleased = new Set<string>();
  /** Whether Redis's durability settings were looked at (once, on the first connection). */
  #checked = false;
  /** Tells this instance's writes apart from other instances' in Redis (turns). */
  readonly #token = crypto.randomUUID();
  #closed = false;

  constructor(options: RedisStoreOptions) {
    this.#clock = options.clock;
    this.#log = options.log ?? silentLogger;
    this.#prefix = options.prefix ?? "scoreline:";
    this.#keys = boardKeys(this.#prefix);
    this.#streamLength = options.streamLength ?? STREAM_LENGTH;
    const name = options.name ?? String(Deno.pid);
    this.#link = new RedisLink(options.url, `${name}-commands`, this.#log, (up) => {
      if (!up) return;
      if (!this.#checked) void this.#checkDurability();
      void this.#releaseLater();
    });
    this.#follower = new StreamFollower({
      link: new RedisLink(options.url, `${name}-stream`, this.#log),
      stream: this.#keys.stream,
      version: async (link, seed) =>
        Number(await link.eval(VERSION, this.#keys.all, [String(seed), "0"])),
      resume: async (link, cursor, seed) =>
        parseResume(
          await link.eval(RESUME, this.#keys.all, resumeArguments(cursor, ALL_GAMES, seed, cursor)),
        ),
      seed: (seen) => this.#seed(seen),
      publish: (changes) => this.#notify(changes),
      reset: () => {
        this.#log.warn("redis lost changes that cannot be replayed; every feed starts over");
        for (const listener of this.#resetListeners) listener();
      },
    });
  }

  /**
   * Connects, and learns the current version. Resolves either way: if Redis cannot be reached,
   * the store keeps trying, and answers StoreUnavailableError (and ready() false) meanwhile.
   */
  async start(): Promise<void> {
    const [up, following] = await Promise.all([this.#link.start(), this.#follower.start()]);
    if (!up || !following) return;
    await this.#follower.firstSync();
  }

  get(id: string): Promise<Game | undefined> {
    if (this.#closed) return Promise.reject(storeClosedError());
    return this.#read(id);
  }

  async snapshot(): Promise<{ version: number; games: Game[] }> {
    const resume = await this.resume(null, ALL_GAMES);
    if (resume.kind !== "snapshot") throw new Error("a resume without cursor is a snapshot");
    return { version: resume.version, games: resume.games };
  }

  resume(cursor: number | null, scope: Scope): Promise<Resume> {
    if (this.#closed) return Promise.reject(storeClosedError());
    return this.#call(async () => {
      const seen = this.#follower.seen ?? 0;
      return parseResume(
        await this.#link.eval(
          RESUME,
          this.#keys.all,
          resumeArguments(cursor, scope, this.#seed(seen), seen),
        ),
      );
    });
  }

  /** Reports this instance's feeds and reads the sum over every instance (VIEWERS_SCRIPT). */
  countViewers(tally: ScopeTally): Promise<ViewerCounts> {
    if (this.#closed) return Promise.reject(storeClosedError());
    return this.#call(async () => {
      const report = [...tally].flatMap(([key, n]) => [key, String(n)]);
      const [summed, members] = await this.#link.eval(
        VIEWERS,
        [
          this.#keys.viewers(this.#token),
          this.#keys.viewerSet,
          this.#keys.games,
          this.#keys.competitions,
        ],
        [String(this.#clock.now()), String(VIEWERS_TTL_MS), ...report],
      ) as [string[], string[]];
      const pairs: [string, number][] = [];
      for (let i = 0; i < summed.length; i += 2) pairs.push([summed[i]!, Number(summed[i + 1])]);
      const byCompetition = new Map<string, string[]>();
      for (let i = 0; i < members.length; i += 2) {
        byCompetition.set(members[i]!, members[i + 1] ? members[i + 1]!.split(",").sort() : []);
      }
      return countViewers(pairs, (id) => byCompetition.get(id) ?? []);
    });
  }

  write(request: WriteRequest): Promise<WriteOutcome> {
    if (this.#closed) return Promise.reject(storeClosedError());
    if (this.#inFlight.size >= MAX_IN_FLIGHT) {
      return Promise.reject(new StoreUnavailableError("too many writes are waiting for Redis"));
    }
    let lane = this.#lanes.get(request.id);
    if (!lane) {
      this.#lanes.set(request.id, lane = { tail: Promise.resolve(), size: 0, known: undefined });
    }
    const own = lane;
    own.size++;
    const run = own.tail.then(() => this.#commit(request, own));
    own.tail = run.catch(() => {});
    const done = run.finally(() => {
      if (--own.size === 0 && this.#lanes.get(request.id) === own) this.#lanes.delete(request.id);
      this.#inFlight.delete(done);
    });
    this.#inFlight.add(done);
    return done;
  }

  /** One IMPORT_SCRIPT: every game or none, then resolves once this instance's viewers have them. */
  async importGames(request: ImportRequest): Promise<ImportOutcome> {
    if (this.#closed) throw storeClosedError();
    const ids = request.games.map((game) => game.id);
    if (new Set(ids).size !== ids.length) throw new TypeError("an import names a game twice");
    const now = this.#clock.now();
    const args = [
      String(this.#seed(this.#follower.seen ?? 0)),
      String(this.#follower.seen ?? 0),
      String(this.#streamLength),
      String(AUDIT_MAX_PER_GAME),
      String(AUDIT_TTL_MS),
    ];
    for (const game of request.games) {
      args.push(
        game.id,
        importTemplate(game, now),
        auditTail(game.audit, now),
        game.body.competition ?? "",
      );
    }
    const keys = [...this.#keys.all, ...ids.map((id) => this.#auditKey(id))];
    const reply = await this.#call(() => this.#link.eval(IMPORT, keys, args)) as string[];
    if (reply[0] !== "committed") unexpected(reply);
    const first = Number(reply[1]);
    const kinds = reply[2] ?? "";
    const games = ids.map((id, i) => ({
      id,
      version: first + i,
      kind: kinds[i] === "s" ? "saved" as const : "created" as const,
    }));
    const version = ids.length > 0 ? first + ids.length - 1 : first - 1;
    if (ids.length > 0) await this.#follower.caughtUp(version);
    return { version, games };
  }

  history(id: string): Promise<AuditEntry[]> {
    if (this.#closed) return Promise.reject(storeClosedError());
    return this.#call(async () => {
      const items = await this.#link.client.lRange(this.#auditKey(id), 0, AUDIT_MAX_PER_GAME - 1);
      return visibleHistory(items.map((json) => JSON.parse(json) as AuditEntry), this.#clock.now());
    });
  }

  claim(key: IdempotencyKey, fingerprint: string): Promise<Claim> {
    if (this.#closed) return Promise.reject(storeClosedError());
    return this.#call(async () => {
      const notBefore = this.#clock.now() - IDEMPOTENCY_TTL_MS;
      const reply = await this.#link.eval(CLAIM, this.#idempotencyKeys(key), [
        fingerprint,
        String(notBefore),
        String(CLAIM_TTL_MS),
      ]) as string[];
      switch (reply[0]) {
        case "replay":
          return { kind: "replay", outcome: JSON.parse(reply[1]!) as WriteOutcome };
        case "mismatch":
          return { kind: "mismatch" };
        case "in_progress":
          return { kind: "in_progress" };
        default:
          return { kind: "new" };
      }
    });
  }

  /**
   * A release that cannot reach Redis is retried once Redis is back, so that a client retrying a
   * write that got 503 does not meet its own stale claim (409) until the mark expires. Releasing
   * late is safe: the write script itself refuses to apply a key twice.
   */
  release(key: IdempotencyKey): Promise<void> {
    if (this.#closed) return Promise.reject(storeClosedError());
    const marker = this.#idempotencyKeys(key)[1]!;
    return this.#call(async () => {
      await this.#link.client.del(marker);
    }).catch((error) => {
      if (this.#unreleased.size < MAX_IN_FLIGHT) this.#unreleased.add(marker);
      throw error;
    });
  }

  onCommit(listener: (changes: readonly Change[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** See ChangeSource.onReset: Redis came back without the history viewers were sent. */
  onReset(listener: () => void): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  ready(): Promise<boolean> {
    return Promise.resolve(!this.#closed && this.#link.up && this.#follower.live);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    this.#listeners.clear();
    this.#resetListeners.clear();
    await this.#follower.stop();
    await this.#link.close();
  }

  /** Writes waiting here (queued behind another write of the same game, or at Redis). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Decides and commits one write, again after each conflict with another instance. */
  async #commit(request: WriteRequest, lane: Lane): Promise<WriteOutcome> {
    const { id } = request;
    let state = lane.known;
    lane.known = undefined;
    /** Read from Redis during this request, not left by an earlier write of the lane. */
    let fresh = false;
    let conflicts = 0;
    let waits = 0;
    for (;;) {
      if (!state) {
        state = { game: await this.#read(id) };
        fresh = true;
      }
      const now = this.#clock.now();
      const plan = planOf(state.game, request.mutate(state.game, now));
      if ((plan.op === "reject" || plan.op === "keep") && !request.idempotency) {
        // A refusal (or a write that changes nothing) goes through no script, so no version
        // check guards it: it must rest on state read now, or another instance's write could be
        // refused as stale (a false 412), or a start of a timer just stopped elsewhere be lost.
        if (!fresh) {
          state = undefined;
          continue;
        }
        lane.known = state;
        return plan.outcome;
      }
      const reply = await this.#call(() =>
        this.#link.eval(
          WRITE,
          [
            ...this.#keys.all,
            `${this.#prefix}turn:${id}`,
            this.#auditKey(id),
            ...(request.idempotency ? this.#idempotencyKeys(request.idempotency.key) : []),
          ],
          writeArguments(id, state!.game, plan, now, {
            seen: this.#follower.seen ?? 0,
            seed: this.#seed(this.#follower.seen ?? 0),
            streamLength: this.#streamLength,
            fingerprint: request.idempotency?.fingerprint ?? "",
            token: this.#token,
            audit: auditTail(request.audit, now),
          }),
        )
      ) as (string | null)[];
      switch (reply[0]) {
        case "committed": {
          if (plan.op === "reject" || plan.op === "keep") unexpected(reply);
          const version = Number(reply[1]);
          const game = plan.op === "put" ? materialize(id, plan.body, version, now) : undefined;
          lane.known = { game };
          await this.#follower.caughtUp(version);
          if (plan.op === "put") return { kind: plan.kind, game: game! };
          return { kind: "deleted", id, version };
        }
        case "recorded":
          return plan.op === "reject" || plan.op === "keep" ? plan.outcome : unexpected(reply);
        case "replay":
          // The key's in-progress mark expired while this request ran and another request
          // with the key committed first: the recorded answer is the answer.
          if (reply[1] === request.idempotency?.fingerprint) {
            return JSON.parse(reply[2]!) as WriteOutcome;
          }
          throw new StoreUnavailableError("another request took this Idempotency-Key meanwhile");
        case "conflict":
          state = { game: reply[1] == null ? undefined : JSON.parse(reply[1]) as Game };
          fresh = true;
          if (++conflicts >= MAX_CONFLICTS) {
            throw new StoreUnavailableError("the game kept changing under this write; try again");
          }
          break;
        case "wait":
          if (++waits >= MAX_WAITS) {
            throw new StoreUnavailableError("another instance holds this game; try again");
          }
          await sleep(1 + Math.random());
          break;
        default:
          unexpected(reply);
      }
    }
  }

  #read(id: string): Promise<Game | undefined> {
    return this.#call(async () => {
      const json = await this.#link.client.hGet(this.#keys.games, id);
      return json == null ? undefined : JSON.parse(json) as Game;
    });
  }

  /**
   * Runs Redis calls, turning any failure to reach Redis into StoreUnavailableError. Not before
   * the follower knows the version: a viewer served earlier could miss the commits in between.
   * Public methods refuse once closed; writes accepted before close() still get here.
   */
  async #call<T>(work: () => Promise<T>): Promise<T> {
    if (!this.#follower.started) {
      throw new StoreUnavailableError("Redis has not been reachable since the service started");
    }
    try {
      return await work();
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(`Redis is unavailable: ${message(error)}`, 1, {
        cause: error,
      });
    }
  }

  async #releaseLater(): Promise<void> {
    const markers = [...this.#unreleased];
    this.#unreleased.clear();
    if (markers.length === 0) return;
    try {
      await this.#link.client.del(markers);
    } catch {
      // Gone again; the marks expire by themselves after CLAIM_TTL_MS.
    }
  }

  #notify(changes: readonly Change[]): void {
    for (const listener of this.#listeners) {
      try {
        listener(changes);
      } catch (error) {
        // A listener's bug must not stop the stream for every other listener.
        this.#log.error("commit listener failed", { error: String(error) });
      }
    }
  }

  /** A seed for a missing counter: the clock in µs, and above every version seen here. */
  #seed(seen: number): number {
    return Math.max(seedVersion(this.#clock.now()), seen + 1);
  }

  #auditKey(id: string): string {
    return `${this.#prefix}audit:${id}`;
  }

  #idempotencyKeys(key: IdempotencyKey): string[] {
    const name = `${encodeURIComponent(key.scope)}:${encodeURIComponent(key.key)}`;
    return [`${this.#prefix}idem:${name}`, `${this.#prefix}claim:${name}`];
  }

  /** Acknowledged writes survive a Redis crash only with an fsync per write; say so if not. */
  async #checkDurability(): Promise<void> {
    this.#checked = true;
    let config: Record<string, string>;
    try {
      config = await this.#link.client.configGet(["appendonly", "appendfsync", "maxmemory-policy"]);
    } catch (error) {
      this.#log.warn("cannot read the Redis configuration; make sure it syncs every write", {
        error: message(error),
      });
      return;
    }
    const wanted = { appendonly: "yes", appendfsync: "always", "maxmemory-policy": "noeviction" };
    for (const [name, value] of Object.entries(wanted)) {
      if (config[name] !== undefined && config[name] !== value) {
        this.#log.warn(
          `redis ${name} is ${config[name]}, not ${value}: an acknowledged write can be lost`,
        );
      }
    }
  }
}

/** Opens the Redis store (see RedisStore.start: it resolves even while Redis is away). */
export async function openRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const store = new RedisStore(options);
  await store.start();
  return store;
}

function boardKeys(prefix: string) {
  const keys = {
    version: `${prefix}version`,
    horizon: `${prefix}horizon`,
    games: `${prefix}games`,
    versions: `${prefix}versions`,
    removed: `${prefix}removed`,
    stream: `${prefix}changes`,
    competitions: `${prefix}competitions`,
    competitionHorizon: `${prefix}competition-horizon`,
  };
  return {
    ...keys,
    /** In the order the scripts expect them as KEYS[1..8]. */
    all: [
      keys.version,
      keys.horizon,
      keys.games,
      keys.versions,
      keys.removed,
      keys.stream,
      keys.competitions,
      keys.competitionHorizon,
    ],
    /** Viewer counts: each instance's report, and the set of instances reporting. */
    viewers: (instance: string) => `${prefix}viewers:${instance}`,
    viewerSet: `${prefix}viewers`,
  };
}

/** WRITE_SCRIPT's ARGV. */
function writeArguments(
  id: string,
  current: Game | undefined,
  plan: Plan,
  now: number,
  extra: {
    seen: number;
    seed: number;
    streamLength: number;
    fingerprint: string;
    token: string;
    audit: string;
  },
): string[] {
  let payload = "";
  if (plan.op === "put") {
    // The game's JSON up to its version; the script appends version and updatedAt (and puts
    // the version in events added by this change), so that the stored text is exactly
    // JSON.stringify(materialize(...)).
    payload = JSON.stringify({ id, ...bodyOf(plan.body) }).slice(0, -1);
  } else if (plan.op === "reject" || plan.op === "keep") {
    payload = JSON.stringify(plan.outcome);
  }
  return [
    id,
    String(current?.version ?? 0),
    // The script records a write that changes nothing exactly as it records a refusal.
    plan.op === "keep" ? "reject" : plan.op,
    payload,
    plan.op === "put" ? plan.kind : "",
    new Date(now).toISOString(),
    String(now),
    String(extra.seed),
    String(extra.streamLength),
    extra.fingerprint,
    String(IDEMPOTENCY_TTL_MS),
    String(TOMBSTONE_TTL_MS),
    JSON.stringify(id),
    extra.token,
    String(TURN_TTL_MS),
    String(extra.seen),
    plan.op === "put" ? plan.body.competition ?? "" : "",
    extra.audit,
    String(AUDIT_MAX_PER_GAME),
    String(AUDIT_TTL_MS),
  ];
}

/**
 * A history entry's JSON after its version ('"at":...}'), for a script to put its version in
 * front: entries read back are exactly core/audit.ts auditEntry's. '' for no entry.
 */
function auditTail(note: AuditNote | undefined, now: number): string {
  if (!note) return "";
  const { version: _version, ...rest } = auditEntry(note, 0, now);
  return JSON.stringify(rest).slice(1);
}

/** RESUME_SCRIPT's ARGV. */
function resumeArguments(cursor: number | null, scope: Scope, seed: number, seen: number) {
  const head = [cursor === null ? "" : String(cursor), "", String(seed), String(seen)];
  switch (scope.kind) {
    case "all":
      return head;
    case "game":
      head[1] = "game";
      return [...head, scope.id];
    case "games":
      head[1] = "games";
      return [...head, ...scope.ids];
    case "competition":
      head[1] = "competition";
      return [...head, scope.id];
  }
}

function parseResume(reply: unknown): Resume {
  const [kind, version, items] = reply as [string, string, string[]];
  if (kind === "snapshot") {
    const games = items.map((json) => JSON.parse(json) as Game).sort(byId);
    return { kind: "snapshot", version: Number(version), games };
  }
  return { kind: "changes", version: Number(version), changes: items.map(parseChange) };
}

/** RESUME_SCRIPT's 'u<game JSON>' or 'r<version> <removedAt> <id> <competition>'. */
function parseChange(item: string): Change {
  if (item.startsWith("u")) {
    const game = JSON.parse(item.slice(1)) as Game;
    return { type: "update", version: game.version, game };
  }
  const [version, removedAt, id, competition] = item.slice(1).split(" ");
  return tombstone(Number(version), id!, Number(removedAt), competition || undefined);
}

function unexpected(reply: unknown): never {
  throw new StoreUnavailableError(`unexpected answer from Redis: ${JSON.stringify(reply)}`);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
