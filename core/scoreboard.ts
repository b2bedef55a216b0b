/**
 * The scoreboard's rules, with no I/O: what a write decides, how a change gets its version, how
 * deletions leave tombstones, and how "since N" is answered from state instead of from a log.
 * The memory and SQLite stores keep a Board as their state; the Redis store applies the same
 * decisions (the `Mutation`s below) and keeps the same shape in Redis.
 */
import type { Rejection } from "./errors.ts";
import { mergePatch } from "./merge_patch.ts";
import {
  type Game,
  type GameBody,
  type GameInput,
  gameInputSchema,
  type GamePatch,
  MAX_SCORE,
  type ScoreDelta,
  type Side,
  type SideName,
  type Timer,
  validate,
} from "./schema.ts";
import { stoppedAt, writtenTimer } from "./timer.ts";

/** How long a deletion is remembered, so "since N" can still report it. */
export const TOMBSTONE_TTL_MS = 24 * 60 * 60 * 1000;

/** One committed change: the game's whole new state, or its removal. */
export type Change =
  | { type: "update"; version: number; game: Game }
  | { type: "removed"; version: number; id: string; removedAt: number };

/**
 * What a subscriber resuming from a cursor gets: the changes after it, in version order, or a
 * snapshot when the cursor cannot be trusted (no cursor, from the future, or older than what the
 * tombstones still remember). `version` is the counter the answer is consistent with.
 */
export type Resume =
  | { kind: "changes"; version: number; changes: Change[] }
  | { kind: "snapshot"; version: number; games: Game[] };

/** The outcome of one write, plain data so an idempotent retry can be answered with it again. */
export type WriteOutcome =
  | { kind: "created"; game: Game }
  | { kind: "saved"; game: Game }
  /** A write that changes nothing (a start of a running timer): no version, no message. */
  | { kind: "unchanged"; game: Game }
  | { kind: "deleted"; id: string; version: number }
  | { kind: "rejected"; rejection: Rejection };

/** What a write decides, given the game as it is now. */
export type Decision =
  | { kind: "put"; body: GameBody }
  | { kind: "delete" }
  | { kind: "keep" }
  | { kind: "reject"; rejection: Rejection };

/**
 * A write as a pure function of the current state. Stores call it inside their commit, so the
 * decision and the commit are atomic; optimistic stores may call it again after a conflict.
 * `nowMs` is the commit time (the change's updatedAt): a timer started or an event added is
 * stamped with it, not with the request's arrival, which may be long before a queued commit.
 */
export type Mutation = (current: Game | undefined, nowMs: number) => Decision;

/**
 * What a decision comes to for the game as it stands: the one rule every store applies (a put
 * creates or saves; deleting a game that is not there is 404), so that the Redis store's script
 * and the in-process Draft cannot disagree.
 */
export type Plan =
  | { op: "reject"; outcome: Extract<WriteOutcome, { kind: "rejected" }> }
  | { op: "keep"; outcome: Extract<WriteOutcome, { kind: "unchanged" }> }
  | { op: "put"; body: GameBody; kind: "created" | "saved" }
  | { op: "delete" };

export function planOf(current: Game | undefined, decision: Decision): Plan {
  switch (decision.kind) {
    case "reject":
      return { op: "reject", outcome: { kind: "rejected", rejection: decision.rejection } };
    case "delete":
      return current ? { op: "delete" } : { op: "reject", outcome: NOT_FOUND_OUTCOME };
    case "put":
      return { op: "put", body: decision.body, kind: current ? "saved" : "created" };
    case "keep":
      return current
        ? { op: "keep", outcome: { kind: "unchanged", game: current } }
        : { op: "reject", outcome: NOT_FOUND_OUTCOME };
  }
}

/** `If-Match` / `If-None-Match` as parsed from the request: `*` or a list of versions. */
export type EntityTags = "*" | number[];
export interface Conditions {
  ifMatch?: EntityTags;
  ifNoneMatch?: EntityTags;
}

/**
 * The first version of a fresh store: the clock in microseconds. Versions then only go up, so a
 * `:memory:` store that restarts, or a Redis that lost its data, never hands out a version a
 * client has already seen (unless it took over 1,000 writes a millisecond on average).
 */
export function seedVersion(nowMs: number): number {
  return Math.floor(nowMs) * 1000;
}

export function preconditionFailure(current: Game | undefined, conditions: Conditions) {
  const { ifMatch, ifNoneMatch } = conditions;
  if (ifMatch !== undefined) {
    if (!current) {
      return reject("precondition_failed", "If-Match: the game does not exist");
    }
    if (ifMatch !== "*" && !ifMatch.includes(current.version)) {
      return reject(
        "precondition_failed",
        `If-Match: the game is at version ${current.version}`,
      );
    }
  }
  if (ifNoneMatch !== undefined && current) {
    if (ifNoneMatch === "*" || ifNoneMatch.includes(current.version)) {
      return reject("precondition_failed", "If-None-Match: the game already exists");
    }
  }
  return undefined;
}

export function reject(code: Exclude<Rejection["code"], "invalid">, detail: string) {
  return { kind: "reject", rejection: { code, detail } } as const;
}

export const NOT_FOUND = reject("not_found", "no such game");
const NOT_FOUND_OUTCOME = { kind: "rejected", rejection: NOT_FOUND.rejection } as const;

/** `PUT`: create or replace the whole game (its timeline is kept: see inputBody). */
export function replaceGame(input: GameInput, conditions: Conditions): Mutation {
  return (current, nowMs) =>
    preconditionFailure(current, conditions) ?? {
      kind: "put",
      body: inputBody(
        input,
        input.timer && writtenTimer(input.timer, current?.timer, nowMs),
        current,
        nowMs,
      ),
    };
}

/**
 * `PATCH`: RFC 7386 merge of an already validated patch into the current game. The timer is
 * written whole (or removed with null), not merged; the timeline is not written at all.
 */
export function patchGame(patch: GamePatch, conditions: Conditions): Mutation {
  const { id: _id, version: _version, updatedAt: _updatedAt, timer, ...changes } = patch;
  return (current, nowMs) => {
    const failed = preconditionFailure(current, conditions);
    if (failed) return failed;
    if (!current) return NOT_FOUND;
    const { timer: stored, events: _events, lastEventId: _lastEventId, ...writable } = bodyOf(
      current,
    );
    const merged = validate(gameInputSchema, mergePatch(writable, changes));
    if (!merged.ok) {
      return {
        kind: "reject",
        rejection: {
          code: "invalid",
          detail: "the patched game is not valid",
          errors: merged.errors,
        },
      };
    }
    const written = timer === undefined
      ? stored
      : timer === null
      ? undefined
      : writtenTimer(timer, stored, nowMs);
    return { kind: "put", body: inputBody(merged.value, written, current, nowMs) };
  };
}

/**
 * The body a PUT or PATCH writes: the writable fields as sent, the timer as decided, and the
 * game's timeline and event counter as they are (only the timeline routes write those; what a
 * client sends back of them is ignored). A write that makes the game final stops a running
 * timer where it stands, so a finished game never shows a clock still counting.
 */
function inputBody(
  input: GameInput,
  timer: Timer | undefined,
  current: Game | undefined,
  nowMs: number,
): GameBody {
  const {
    id: _id,
    version: _version,
    updatedAt: _updatedAt,
    timer: _timer,
    events: _events,
    lastEventId: _lastEventId,
    ...writable
  } = input;
  const finishing = writable.status === "final" && current?.status !== "final";
  return bodyOf({
    ...writable,
    timer: timer?.running && finishing ? stoppedAt(timer, nowMs) : timer,
    events: current?.events,
    lastEventId: current?.lastEventId,
  });
}

/** `POST .../score`: add (or take away) points on one side. */
export function addPoints(delta: ScoreDelta, conditions: Conditions): Mutation {
  return (current) => {
    const failed = preconditionFailure(current, conditions);
    if (failed) return failed;
    if (!current) return NOT_FOUND;
    const body = bodyOf(current);
    return addToScore(body, delta.side, delta.points) ?? { kind: "put", body };
  };
}

/**
 * Adds points to one side of `body`, in place; or, when the score would leave 0–1,000,000,
 * leaves it alone and returns the refusal.
 */
export function addToScore(body: GameBody, side: SideName, points: number): Decision | undefined {
  const before = body[side];
  const score = before.score + points;
  if (score < 0) {
    return reject("score_out_of_range", `${side} score would fall below 0 (it is ${before.score})`);
  }
  if (score > MAX_SCORE) {
    return reject(
      "score_out_of_range",
      `${side} score would rise above ${MAX_SCORE} (it is ${before.score})`,
    );
  }
  body[side] = { ...before, score };
  return undefined;
}

/** `DELETE`: remove the game, leaving a tombstone. */
export function deleteGame(conditions: Conditions): Mutation {
  return (current) => {
    const failed = preconditionFailure(current, conditions);
    if (failed) return failed;
    return current ? { kind: "delete" } : NOT_FOUND;
  };
}

/**
 * The writable part of a game, in the field order every response uses. The timer and the
 * events are shared, not copied: stored objects are never changed in place.
 */
export function bodyOf(game: GameBody): GameBody {
  const body = {} as GameBody;
  if (game.title !== undefined) body.title = game.title;
  body.status = game.status;
  if (game.period !== undefined) body.period = game.period;
  if (game.clock !== undefined) body.clock = game.clock;
  if (game.timer !== undefined) body.timer = game.timer;
  body.home = sideOf(game.home);
  body.away = sideOf(game.away);
  if (game.events !== undefined && game.events.length > 0) body.events = game.events;
  if (game.lastEventId !== undefined) body.lastEventId = game.lastEventId;
  return body;
}

function sideOf(side: Side): Side {
  const out: Side = { name: side.name, score: side.score };
  if (side.detail !== undefined) out.detail = side.detail;
  return out;
}

/**
 * The `version` of an event added by a change that is not committed yet: its version is known
 * only in the commit (the Redis script takes it there), so `materialize` (and that script) put
 * it in. Committed versions start above 0, so this one can never be a real one.
 */
export const PENDING_VERSION = 0;

/** Stamps a body with its id, version and time: the game as stored and sent. */
export function materialize(id: string, body: GameBody, version: number, nowMs: number): Game {
  const game: Game = { id, ...bodyOf(body), version, updatedAt: new Date(nowMs).toISOString() };
  if (game.events?.some((event) => event.version === PENDING_VERSION)) {
    game.events = game.events.map((event) =>
      event.version === PENDING_VERSION ? { ...event, version } : event
    );
  }
  return game;
}

/**
 * The committed state: each game's latest change (its state, or its tombstone), the global
 * version and the horizon. Entries are kept in ascending version order, so "since N" is one pass
 * with no sort. The horizon is the newest version whose tombstone may have been forgotten: a
 * cursor below it gets a snapshot, because a deletion after it might otherwise be missed.
 */
export class Board {
  #latest = new Map<string, Change>();
  #version: number;
  #horizon: number;
  #sorted: Game[] | undefined;

  constructor(init: { version: number; horizon: number; changes?: Iterable<Change> }) {
    this.#version = init.version;
    this.#horizon = init.horizon;
    const changes = [...(init.changes ?? [])].sort((a, b) => a.version - b.version);
    for (const change of changes) this.#latest.set(changeId(change), change);
  }

  get version(): number {
    return this.#version;
  }

  get horizon(): number {
    return this.#horizon;
  }

  get(id: string): Game | undefined {
    const change = this.#latest.get(id);
    return change?.type === "update" ? change.game : undefined;
  }

  /** The latest change of one game, a tombstone included. */
  latest(id: string): Change | undefined {
    return this.#latest.get(id);
  }

  /** Every live game, sorted by id; computed once per version. */
  games(): Game[] {
    if (!this.#sorted) {
      const games: Game[] = [];
      for (const change of this.#latest.values()) {
        if (change.type === "update") games.push(change.game);
      }
      this.#sorted = games.sort(byId);
    }
    return this.#sorted;
  }

  /** Answers "since cursor" for all games (scope null) or one game, by the contract's rule. */
  resume(cursor: number | null, scope: string | null): Resume {
    const version = this.#version;
    if (cursor === null || cursor > version || cursor < this.#horizon) {
      const games = scope === null
        ? this.games()
        : [this.get(scope)].filter((g) => g !== undefined);
      return { kind: "snapshot", version, games };
    }
    const changes: Change[] = [];
    if (scope !== null) {
      const change = this.#latest.get(scope);
      if (change && change.version > cursor) changes.push(change);
    } else if (cursor < version) {
      for (const change of this.#latest.values()) {
        if (change.version > cursor) changes.push(change);
      }
    }
    return { kind: "changes", version, changes };
  }

  /** Makes committed changes visible. They must come in ascending version order. */
  apply(changes: readonly Change[]): void {
    for (const change of changes) {
      if (change.version <= this.#version) {
        throw new Error(`change ${change.version} is not after version ${this.#version}`);
      }
      const id = changeId(change);
      this.#latest.delete(id);
      this.#latest.set(id, change);
      this.#version = change.version;
    }
    if (changes.length > 0) this.#sorted = undefined;
  }

  /** Tombstones removed before `beforeMs`: the ones a store may now forget. */
  expiredTombstones(beforeMs: number): Extract<Change, { type: "removed" }>[] {
    const expired: Extract<Change, { type: "removed" }>[] = [];
    for (const change of this.#latest.values()) {
      if (change.type === "removed" && change.removedAt < beforeMs) expired.push(change);
    }
    return expired;
  }

  /** Forgets tombstones and raises the horizon past them. */
  forget(tombstones: readonly Extract<Change, { type: "removed" }>[]): void {
    for (const tombstone of tombstones) {
      if (this.#latest.get(tombstone.id) === tombstone) this.#latest.delete(tombstone.id);
      this.#horizon = Math.max(this.#horizon, tombstone.version);
    }
  }
}

/** The order of every game list: by id, code unit by code unit (ids are ASCII). */
export function byId(a: Game, b: Game): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function changeId(change: Change): string {
  return change.type === "update" ? change.game.id : change.id;
}

/**
 * Writes being decided before they are durable: an overlay on the Board, so a batch of writes
 * sees its own earlier changes, while readers of the Board still see only committed state.
 * The changes become visible with `board.apply(draft.changes)` after the commit.
 */
export class Draft {
  readonly changes: Change[] = [];
  #overlay = new Map<string, Change>();
  #version: number;

  constructor(private readonly board: Board, private readonly nowMs: number) {
    this.#version = board.version;
  }

  get version(): number {
    return this.#version;
  }

  current(id: string): Game | undefined {
    const change = this.#overlay.get(id);
    if (change) return change.type === "update" ? change.game : undefined;
    return this.board.get(id);
  }

  /** Decides one write and records its change, if any. */
  write(id: string, mutate: Mutation): { outcome: WriteOutcome; change?: Change } {
    const current = this.current(id);
    const plan = planOf(current, mutate(current, this.nowMs));
    if (plan.op === "reject" || plan.op === "keep") return { outcome: plan.outcome };
    const version = ++this.#version;
    let change: Change;
    let outcome: WriteOutcome;
    if (plan.op === "put") {
      const game = materialize(id, plan.body, version, this.nowMs);
      change = { type: "update", version, game };
      outcome = { kind: plan.kind, game };
    } else {
      change = { type: "removed", version, id, removedAt: this.nowMs };
      outcome = { kind: "deleted", id, version };
    }
    this.#overlay.set(id, change);
    this.changes.push(change);
    return { outcome, change };
  }
}
