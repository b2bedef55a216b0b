/**
 * The wire messages, serialised once per change. Each format (SSE frame, NDJSON line, WebSocket
 * text, long-poll body) is derived on first use and cached on the Message, so ten thousand
 * subscribers share one Uint8Array instead of each paying for a JSON.stringify.
 */
import { diff, type Json } from "./json_patch.ts";
import { type Change, changeCompetition } from "./scoreboard.ts";
import type { Game } from "./schema.ts";
import type { Scope } from "./scope.ts";

const encoder = new TextEncoder();

const gameJsonCache = new WeakMap<Game, string>();

/**
 * A game's JSON, computed once per stored object. Stores hand out the same object until the game
 * changes, so this is one stringify per version however many readers ask.
 */
export function gameJson(game: Game): string {
  let json = gameJsonCache.get(game);
  if (json === undefined) {
    json = JSON.stringify(game);
    gameJsonCache.set(game, json);
  }
  return json;
}

export type MessageType = "snapshot" | "update" | "removed" | "patch" | "viewers";

/** Where the number of patches computed is kept (the hub's counters): proof they are shared. */
export interface PatchCounter {
  patches: number;
}

export class Message {
  #sse: Uint8Array<ArrayBuffer> | undefined;
  #ndjson: Uint8Array<ArrayBuffer> | undefined;
  #pollPrefix: Uint8Array<ArrayBuffer> | undefined;
  /** The `patch` form: undefined until a delta subscriber asks, null when there is none. */
  #patch: Message | null | undefined;
  /** The game's state before this change, held only until the patch is made. */
  #base: Game | undefined;
  /** The game an `update` carries: what its patch leads to (let go once the patch is made). */
  #game: Game | undefined;
  #counter: PatchCounter | undefined;

  constructor(
    readonly type: MessageType,
    /**
     * The cursor a client holds after this message; -1 for a `viewers` message, which moves no
     * cursor.
     */
    readonly version: number,
    /** The game it is about; null for a snapshot of several games. Conflation keys on it. */
    readonly gameId: string | null,
    /** The message as JSON text: the WebSocket frame as it is. */
    readonly json: string,
    /** The competition of the game it is about (a removal: the one it had); feeds filter on it. */
    readonly competition: string | null = null,
    game?: Game,
  ) {
    this.#game = game;
  }

  /**
   * Gives an `update` the game's previous state, from which its patch is made when first asked
   * for. Only the hub's message cache calls this, and only with the state every live subscriber
   * holds (see MessageCache.announce): a patch against anything else would corrupt clients.
   */
  setBase(base: Game, counter: PatchCounter): void {
    if (this.type !== "update" || this.#patch !== undefined || base.version >= this.version) return;
    this.#base = base;
    this.#counter = counter;
  }

  /**
   * What a `?delta=1` subscriber that holds the game at its previous version is sent: the
   * `patch` message, computed on the first such subscriber and then the same object (and bytes)
   * for every other; the message itself when there is no patch (no previous state is known: the
   * game's first sight, or a removal, or a snapshot).
   */
  get delta(): Message {
    if (this.#patch === undefined) this.#patch = this.#makePatch();
    return this.#patch ?? this;
  }

  #makePatch(): Message | null {
    const base = this.#base;
    const game = this.#game;
    // Let both states go: the patch is all that is needed of them from now on.
    this.#base = undefined;
    this.#game = undefined;
    if (!base || !game || this.gameId === null) return null;
    if (this.#counter) this.#counter.patches++;
    const ops = diff(base as unknown as Json, game as unknown as Json);
    const json = `{"type":"patch","version":${this.version},"id":${
      JSON.stringify(this.gameId)
    },"base":${base.version},"ops":${JSON.stringify(ops)}}`;
    return new Message("patch", this.version, this.gameId, json, this.competition);
  }

  /**
   * `event:`, `id:` and `data:` lines; JSON never holds a raw newline, so one data line. A message
   * without a version has no `id:`, so EventSource keeps the last cursor it had.
   */
  get sse(): Uint8Array<ArrayBuffer> {
    return this.#sse ??= encoder.encode(
      `event: ${this.type}\n${
        this.version < 0 ? "" : `id: ${this.version}\n`
      }data: ${this.json}\n\n`,
    );
  }

  get ndjson(): Uint8Array<ArrayBuffer> {
    return this.#ndjson ??= encoder.encode(`${this.json}\n`);
  }

  /**
   * A long-poll answer holding only this message, up to its `time`: what a storm of polls
   * answered with one snapshot shares, so only the time is encoded per answer.
   */
  get pollPrefix(): Uint8Array<ArrayBuffer> {
    return this.#pollPrefix ??= encoder.encode(
      `{"cursor":${this.version},"messages":[${this.json}]`,
    );
  }
}

/** `update` for a new state, `removed` for a deletion. */
export function changeMessage(change: Change): Message {
  const competition = changeCompetition(change) ?? null;
  if (change.type === "update") {
    const json = `{"type":"update","version":${change.version},"game":${gameJson(change.game)}}`;
    return new Message("update", change.version, change.game.id, json, competition, change.game);
  }
  const json = `{"type":"removed","version":${change.version},"id":${JSON.stringify(change.id)}}`;
  return new Message("removed", change.version, change.id, json, competition);
}

/**
 * A one-game snapshot (`game`), or the snapshot of several (`games`, sorted by id): all games, a
 * `games=` list or a competition, possibly none of them yet.
 */
export function snapshotMessage(version: number, scope: Scope, games: Game[]): Message {
  if (scope.kind === "game") {
    const game = games[0];
    if (!game) throw new Error("a one-game snapshot needs its game");
    const json = `{"type":"snapshot","version":${version},"game":${gameJson(game)}}`;
    return new Message("snapshot", version, scope.id, json);
  }
  const json = `{"type":"snapshot","version":${version},"games":[${
    games.map(gameJson).join(",")
  }]}`;
  return new Message("snapshot", version, null, json);
}

/**
 * A long-poll answer: `{"cursor": C, "messages": [...], "time": T}`, C the version of the last
 * message and T the server's time of the answer (epoch ms, for clients' running timers). One
 * answer is shared by every poll a batch wakes alike, so its body is encoded once. An answer of
 * viewer counts alone moves no cursor: it gives back `keep`, the cursor the poll came with.
 */
export class PollAnswer {
  #body: Uint8Array<ArrayBuffer> | undefined;

  constructor(
    readonly messages: readonly Message[],
    readonly time: number,
    readonly keep?: number,
  ) {
    if (messages.length === 0) throw new Error("a long-poll answer needs at least one message");
  }

  get cursor(): number {
    return this.keep ?? this.messages[this.messages.length - 1]!.version;
  }

  get body(): Uint8Array<ArrayBuffer> {
    if (this.#body) return this.#body;
    const time = `,"time":${this.time}}`;
    if (this.messages.length === 1 && this.keep === undefined) {
      const prefix = this.messages[0]!.pollPrefix;
      const suffix = encoder.encode(time);
      const body = new Uint8Array(prefix.length + suffix.length);
      body.set(prefix);
      body.set(suffix, prefix.length);
      return this.#body = body;
    }
    return this.#body = encoder.encode(
      `{"cursor":${this.cursor},"messages":[${this.messages.map((m) => m.json).join(",")}]${time}`,
    );
  }
}

/**
 * A heartbeat, `{"type":"ping","time":T}` with the server's time (epoch ms), so a client can
 * run a timer on the server's clock. It carries no version and moves no cursor: in SSE it is
 * `event: ping` with no `id:` line. Made once per heartbeat tick and shared by every stream.
 */
export class Ping {
  readonly json: string;
  #sse: Uint8Array<ArrayBuffer> | undefined;
  #ndjson: Uint8Array<ArrayBuffer> | undefined;

  constructor(readonly time: number) {
    this.json = `{"type":"ping","time":${time}}`;
  }

  get sse(): Uint8Array<ArrayBuffer> {
    return this.#sse ??= encoder.encode(`event: ping\ndata: ${this.json}\n\n`);
  }

  get ndjson(): Uint8Array<ArrayBuffer> {
    return this.#ndjson ??= encoder.encode(`${this.json}\n`);
  }
}
