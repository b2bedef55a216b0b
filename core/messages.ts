/**
 * The wire messages, serialised once per change. Each format (SSE frame, NDJSON line, WebSocket
 * text, long-poll body) is derived on first use and cached on the Message, so ten thousand
 * subscribers share one Uint8Array instead of each paying for a JSON.stringify.
 */
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

export type MessageType = "snapshot" | "update" | "removed" | "viewers";

export class Message {
  #sse: Uint8Array<ArrayBuffer> | undefined;
  #ndjson: Uint8Array<ArrayBuffer> | undefined;
  #pollBody: Uint8Array<ArrayBuffer> | undefined;

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
  ) {}

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

  /** A long-poll answer holding only this message, shared by every waiter it wakes. */
  get pollBody(): Uint8Array<ArrayBuffer> {
    return this.#pollBody ??= encoder.encode(
      `{"cursor":${this.version},"messages":[${this.json}]}`,
    );
  }
}

/** `update` for a new state, `removed` for a deletion. */
export function changeMessage(change: Change): Message {
  const competition = changeCompetition(change) ?? null;
  if (change.type === "update") {
    const json = `{"type":"update","version":${change.version},"game":${gameJson(change.game)}}`;
    return new Message("update", change.version, change.game.id, json, competition);
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

/** A long-poll answer: `{"cursor": C, "messages": [...]}`, C the version of the last message. */
export function pollBody(messages: readonly Message[]): Uint8Array<ArrayBuffer> {
  const [first] = messages;
  if (!first) throw new Error("a long-poll answer needs at least one message");
  if (messages.length === 1) return first.pollBody;
  const last = messages[messages.length - 1]!;
  return encoder.encode(
    `{"cursor":${last.version},"messages":[${messages.map((m) => m.json).join(",")}]}`,
  );
}

/**
 * A long-poll answer of a `viewers` message alone: it moves no cursor, so the answer gives back
 * the cursor the poll came with (framed per poll; the message itself is encoded once per scope).
 */
export function viewersPollBody(message: Message, cursor: number): Uint8Array<ArrayBuffer> {
  return encoder.encode(`{"cursor":${cursor},"messages":[${message.json}]}`);
}

/** Heartbeats: the same bytes for every stream, made once. */
export const PING = {
  sse: encoder.encode(": ping\n\n"),
  ndjson: encoder.encode('{"type":"ping"}\n'),
  ws: '{"type":"ping"}',
} as const;
