/**
 * The scoreboard's rules, with no I/O: what a write decides, how a change gets its version, how
 * deletions leave tombstones, and how "since N" is answered from state instead of from a log.
 * The memory and SQLite stores keep a Board as their state; the Redis store applies the same
 * decisions (the `Mutation`s below) and keeps the same shape in Redis.
 */
import { competitionChange, keepCompetition } from "./competition.ts";
import type { Rejection } from "./errors.ts";
import { mergePatch } from "./merge_patch.ts";
import { inScope, type Scope } from "./scope.ts";
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

/**
 * One committed change: the game's whole new state, or its removal. A removal carries the
 * competition the game had, so that it still reaches (and resumes within) that competition's feeds.
 */
export type Change =
  | { type: "update"; version: number; game: Game }
  | { type: "removed"; version: number; id: string; removedAt: number; competition?: string };

/** The competition a change is about: the game's, or for a removal the one the game had. */
export function changeCompetition(change: Change): string | undefined {
  return change.type === "update" ? change.game.competition : change.competition;
}

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
  return (current, nowMs) => {
    const failed = preconditionFailure(current, conditions);
    if (failed) return failed;
    const timer = input.timer && writtenTimer(input.timer, current?.timer, nowMs);
    const body = inputBody(input, timer, current, nowMs);
    const next = input.competition === undefined ? keepCompetition(current, body) : body;
    return competitionChange(current, next) ?? { kind: "put", body: next };
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
    const next = inputBody(merged.value, written, current, nowMs);
    return competitionChange(current, next) ?? { kind: "put", body: next };
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
  if (game.competition !== undefined) body.competition = game.competition;
  if (game.startsAt !== undefined) body.startsAt = game.startsAt;
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
  #competitionHorizon: number;
  #sorted: Game[] | undefined;
  /** Each competition's live games, sorted by id; computed once per version, when first asked. */
  #competitions: Map<string, Game[]> | undefined;

  constructor(
    init: {
      version: number;
      horizon: number;
      competitionHorizon?: number;
      changes?: Iterable<Change>;
    },
  ) {
    this.#version = init.version;
    this.#horizon = init.horizon;
    this.#competitionHorizon = init.competitionHorizon ?? 0;
    const changes = [...(init.changes ?? [])].sort((a, b) => a.version - b.version);
    for (const change of changes) this.#latest.set(changeId(change), change);
  }

  get version(): number {
    return this.#version;
  }

  get horizon(): number {
    return this.#horizon;
  }

  /**
   * Like the horizon, for competition feeds only: a cursor below it gets a snapshot there
   * (see Draft.competitionHorizon).
   */
  get competitionHorizon(): number {
    return this.#competitionHorizon;
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

  /** The live games in a scope, sorted by id. */
  gamesIn(scope: Scope): Game[] {
    switch (scope.kind) {
      case "all":
        return this.games();
      case "game": {
        const game = this.get(scope.id);
        return game ? [game] : [];
      }
      case "games": // the ids are sorted, so the games are too
        return scope.ids.map((id) => this.get(id)).filter((g) => g !== undefined);
      case "competition":
        return this.#competitionGames().get(scope.id) ?? [];
    }
  }

  /** Answers "since cursor" within a scope, by the contract's rule. */
  resume(cursor: number | null, scope: Scope): Resume {
    const version = this.#version;
    const horizon = scope.kind === "competition"
      ? Math.max(this.#horizon, this.#competitionHorizon)
      : this.#horizon;
    if (cursor === null || cursor > version || cursor < horizon) {
      return { kind: "snapshot", version, games: this.gamesIn(scope) };
    }
    const changes: Change[] = [];
    if (cursor >= version) return { kind: "changes", version, changes };
    if (scope.kind === "game" || scope.kind === "games") {
      const ids = scope.kind === "game" ? [scope.id] : scope.ids;
      for (const id of ids) {
        const change = this.#latest.get(id);
        if (change && change.version > cursor) changes.push(change);
      }
      changes.sort((a, b) => a.version - b.version);
    } else {
      for (const change of this.#latest.values()) {
        if (
          change.version > cursor && inScope(scope, changeId(change), changeCompetition(change))
        ) {
          changes.push(change);
        }
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
    if (changes.length > 0) {
      this.#sorted = undefined;
      this.#competitions = undefined;
    }
  }

  /** Raises the competition horizon (see Draft.competitionHorizon). */
  raiseCompetitionHorizon(version: number): void {
    this.#competitionHorizon = Math.max(this.#competitionHorizon, version);
  }

  #competitionGames(): Map<string, Game[]> {
    if (!this.#competitions) {
      this.#competitions = new Map();
      for (const game of this.games()) {
        if (game.competition === undefined) continue;
        const list = this.#competitions.get(game.competition);
        if (list) list.push(game);
        else this.#competitions.set(game.competition, [game]);
      }
    }
    return this.#competitions;
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
  #competitionHorizon: number;

  constructor(private readonly board: Board, private readonly nowMs: number) {
    this.#version = board.version;
    this.#competitionHorizon = board.competitionHorizon;
  }

  get version(): number {
    return this.#version;
  }

  /**
   * The competition horizon these writes need. A game deleted from one competition and created
   * again in another replaces its tombstone: the old competition's feeds could no longer learn of
   * the removal by "since N", exactly as if the tombstone had been forgotten for them, so their
   * cursors from before the removal get a snapshot. Feeds of all games, of the game or of a
   * `games=` list follow the game by its id and are not concerned.
   */
  get competitionHorizon(): number {
    return this.#competitionHorizon;
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
      this.#raiseOverTombstone(id, game);
    } else {
      change = tombstone(version, id, this.nowMs, current?.competition);
      outcome = { kind: "deleted", id, version };
    }
    this.#overlay.set(id, change);
    this.changes.push(change);
    return { outcome, change };
  }

  /** A game created over its tombstone in another competition: see competitionHorizon. */
  #raiseOverTombstone(id: string, game: Game): void {
    const before = this.#overlay.get(id) ?? this.board.latest(id);
    if (before?.type === "removed" && before.competition !== game.competition) {
      this.#competitionHorizon = Math.max(this.#competitionHorizon, before.version);
    }
  }

  /**
   * Stores `make(version)` as the game's next change, whatever it was before: an imported game,
   * re-stamped with the version it gets here.
   */
  replace(
    id: string,
    make: (version: number) => Game,
  ): { kind: "created" | "saved"; version: number } {
    const kind = this.current(id) ? "saved" : "created";
    const version = ++this.#version;
    const change: Change = { type: "update", version, game: make(version) };
    this.#raiseOverTombstone(id, change.game);
    this.#overlay.set(id, change);
    this.changes.push(change);
    return { kind, version };
  }
}

/** A removal, with the competition the game had when it has one (and no such key when not). */
export function tombstone(
  version: number,
  id: string,
  removedAt: number,
  competition: string | undefined,
): Extract<Change, { type: "removed" }> {
  const change: Extract<Change, { type: "removed" }> = { type: "removed", version, id, removedAt };
  if (competition !== undefined) change.competition = competition;
  return change;
}
