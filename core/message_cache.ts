/**
 * The messages the hub has already encoded, kept so that a catch-up (a reconnect storm included)
 * costs no re-encoding: each game's latest message, and the last few snapshots. Both describe the
 * source's history, so when the source loses it (a reset) they go too. Beside them, each game's
 * last announced state: the base of the `patch` its next change is sent as to delta subscribers.
 */
import { changeMessage, type Message, type PatchCounter, snapshotMessage } from "./messages.ts";
import { type Change, changeId, type Resume } from "./scoreboard.ts";
import type { Game } from "./schema.ts";
import type { Scope } from "./scope.ts";

/** Snapshots kept: one per (scope, version) asked for recently, the oldest dropped first. */
const SNAPSHOT_CACHE = 64;

/** What a subscriber is sent first, and the version it then stands at. */
export interface CatchUp {
  messages: Message[];
  /** Everything up to this version is in `messages`: live changes at or below it are dropped. */
  delivered: number;
}

export class MessageCache {
  /** Each game's latest message: what a resuming subscriber is sent, already encoded. */
  readonly #latest = new Map<string, Message>();
  /**
   * Snapshots by scope and version: a reconnect storm without cursors asks for the same one
   * thousands of times, and it is encoded once.
   */
  readonly #snapshots = new Map<string, Message>();
  /**
   * Each game's state as of the last change announced to subscribers (`announce`), the base of
   * its next patch. Only announced changes go in: a catch-up may read a state from the source
   * that is newer than what live subscribers were sent, and a patch from it would not apply.
   */
  readonly #announced = new Map<string, Game>();
  /** The version of the last announced change, to see a hole in the announcements. */
  #lastAnnounced: number | null = null;
  readonly #counter: PatchCounter;

  constructor(counter: PatchCounter = { patches: 0 }) {
    this.#counter = counter;
  }

  /**
   * The Message for a change, made once. Resume sends each game's latest change, so keeping the
   * latest message per game serves every catch-up (a reconnect storm included) without
   * re-encoding, in memory bounded by the number of games, not by the rate of changes.
   */
  forChange(change: Change): Message {
    const id = change.type === "update" ? change.game.id : change.id;
    const cached = this.#latest.get(id);
    if (cached?.version === change.version) return cached;
    const message = changeMessage(change);
    if (!cached || cached.version < change.version) this.#latest.set(id, message);
    return message;
  }

  /**
   * The Messages for a committed batch, as the hub fans it out: each `update` gets the game's
   * previously announced state as the base of its patch. A live subscriber has been sent every
   * announced change of its scope in order (or a catch-up that is at least as new, which with
   * no hole comes to the same state: see stream_subscribers.ts), so it holds exactly that state.
   *
   * Versions are consecutive, one per change. When one is skipped (a Redis instance that fell
   * behind its stream resynchronises from state, announcing only each game's latest change),
   * the skipped changes may have touched any game, so every base is forgotten: each game's next
   * change goes out whole, as an `update`. A game's first sight (created, re-created after a
   * removal, or first seen since this instance started) has no base either.
   */
  announce(changes: readonly Change[]): Message[] {
    return changes.map((change) => {
      const last = this.#lastAnnounced;
      if (last !== null && change.version !== last + 1) this.#announced.clear();
      this.#lastAnnounced = change.version;
      const message = this.forChange(change);
      const id = changeId(change);
      if (change.type === "update") {
        const base = this.#announced.get(id);
        if (base) message.setBase(base, this.#counter);
        this.#announced.set(id, change.game);
      } else {
        this.#announced.delete(id);
      }
      return message;
    });
  }

  /**
   * What a subscriber is sent first, by the resume rule. A feed of several games gets their
   * snapshot, even of none (a `games=` list or a competition whose games do not exist yet). A
   * one-game feed whose game does not exist gets nothing and waits; but if it came with a
   * cursor, it may still show a game that was deleted meanwhile, so it is told `removed` at the
   * current version.
   */
  catchUp(scope: Scope, cursor: number | null, resume: Resume): CatchUp {
    if (resume.kind === "changes") {
      return {
        messages: resume.changes.map((c) => this.forChange(c)),
        delivered: resume.version,
      };
    }
    if (scope.kind !== "game" || resume.games.length > 0) {
      return {
        messages: [this.#snapshotFor(resume.version, scope, resume)],
        delivered: resume.version,
      };
    }
    if (cursor === null) return { messages: [], delivered: resume.version };
    // Not through forChange: this message stands for no change of this game, only "not here".
    const removed = changeMessage({
      type: "removed",
      version: resume.version,
      id: scope.id,
      removedAt: 0,
    });
    return { messages: [removed], delivered: resume.version };
  }

  /**
   * Forgets every message: after a reset they may name games and versions the source no longer
   * has, and a catch-up served from them would show viewers a history that is gone.
   */
  clear(): void {
    this.#latest.clear();
    this.#snapshots.clear();
    this.#announced.clear();
    this.#lastAnnounced = null;
  }

  #snapshotFor(
    version: number,
    scope: Scope,
    resume: Resume & { kind: "snapshot" },
  ): Message {
    const key = `${scope.key}@${version}`;
    let message = this.#snapshots.get(key);
    if (!message) {
      message = snapshotMessage(version, scope, resume.games);
      this.#snapshots.set(key, message);
      if (this.#snapshots.size > SNAPSHOT_CACHE) {
        this.#snapshots.delete(this.#snapshots.keys().next().value!);
      }
    }
    return message;
  }
}
