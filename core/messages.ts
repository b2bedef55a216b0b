/**
 * The wire messages, serialised once per change. Each format (SSE frame, NDJSON line, WebSocket
 * text, long-poll body) is derived on first use and cached on the Message, so ten thousand
 * subscribers share one Uint8Array instead of each paying for a JSON.stringify.
 */
import type { Change } from "./scoreboard.ts";
import type { Game } from "./schema.ts";

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

export type MessageType = "snapshot" | "update" | "removed";

export class Message {
  #sse: Uint8Array<ArrayBuffer> | undefined;
  #ndjson: Uint8Array<ArrayBuffer> | undefined;
  #pollBody: Uint8Array<ArrayBuffer> | undefined;

  constructor(
    readonly type: MessageType,
    /** The cursor a client holds after this message. */
    readonly version: number,
    /** The game it is about; null for an all-games snapshot. Conflation keys on it. */
    readonly gameId: string | null,
    /** The message as JSON text: the WebSocket frame as it is. */
    readonly json: string,
  ) {}

  /** `event:`, `id:` and `data:` lines; JSON never holds a raw newline, so one data line. */
  get sse(): Uint8Array<ArrayBuffer> {
    return this.#sse ??= encoder.encode(
      `event: ${this.type}\nid: ${this.version}\ndata: ${this.json}\n\n`,
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
  if (change.type === "update") {
    const json = `{"type":"update","version":${change.version},"game":${gameJson(change.game)}}`;
    return new Message("update", change.version, change.game.id, json);
  }
  const json = `{"type":"removed","version":${change.version},"id":${JSON.stringify(change.id)}}`;
  return new Message("removed", change.version, change.id, json);
}

/** A one-game snapshot (`game`) or the all-games snapshot (`games`, sorted by id). */
export function snapshotMessage(version: number, scope: string | null, games: Game[]): Message {
  if (scope !== null) {
    const game = games[0];
    if (!game) throw new Error("a one-game snapshot needs its game");
    const json = `{"type":"snapshot","version":${version},"game":${gameJson(game)}}`;
    return new Message("snapshot", version, scope, json);
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

/** Heartbeats: the same bytes for every stream, made once. */
export const PING = {
  sse: encoder.encode(": ping\n\n"),
  ndjson: encoder.encode('{"type":"ping"}\n'),
  ws: '{"type":"ping"}',
} as const;
