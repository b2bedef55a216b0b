/**
 * Import: games from an export (one per line) stored again as they were, but re-stamped. Each
 * imported game is a new change of the board: it takes the next global version, `updatedAt` is
 * the import's commit time, and every version inside it (its timeline's events) becomes that
 * version too, so that no version from another board (or from before a restore) is ever served
 * again. What a line may hold is the PUT rules plus a required id (importGameSchema).
 */
import type { AuditNote } from "./audit.ts";
import { bodyOf, materialize } from "./scoreboard.ts";
import { type FieldError, type Game, type GameBody, importGameSchema, validate } from "./schema.ts";
import { eventOf } from "./timeline.ts";
import { timerOf } from "./timer.ts";

/** One game of an import, validated. */
export interface ImportedGame {
  id: string;
  body: GameBody;
  /** Its history entry (a summary of the import, not the whole body). */
  audit?: AuditNote;
}

/** What a store answers for a committed import: each game's new version, in the import's order. */
export interface ImportOutcome {
  /** The board's version after the import (the last game's version; unchanged when empty). */
  version: number;
  games: { id: string; version: number; kind: "created" | "saved" }[];
}

/**
 * An import line's value checked against the rules; errors name fields within the line. A timer
 * without `at` (a file written by hand) counts from `nowMs`, the time the line was read.
 */
export function importedGame(
  value: unknown,
  nowMs: number,
): { ok: true; game: ImportedGame } | { ok: false; errors: FieldError[] } {
  const result = validate(importGameSchema, value);
  if (!result.ok) return result;
  const { id, version: _v, updatedAt: _u, timer, events, lastEventId, ...writable } = result.value;
  const last = Math.max(lastEventId ?? 0, ...(events ?? []).map((event) => event.id));
  const body = bodyOf({
    ...writable,
    timer: timer && timerOf({ ...timer, at: timer.at ?? new Date(nowMs).toISOString() }),
    // As the timeline would have stored them; their versions are re-stamped at the commit.
    events: events?.map((event) =>
      eventOf(event, event.id, event.elapsedMs ?? null, Date.parse(event.time))
    ),
    lastEventId: events?.length || lastEventId !== undefined ? last : undefined,
  });
  return { ok: true, game: { id, body } };
}

/**
 * Where a template holds a version. JSON.stringify writes every control character as an escape,
 * so a raw U+0000 cannot appear anywhere else in its output: replacing it cannot touch text.
 */
export const VERSION_SLOT = "\u0000";

/**
 * The game as it will be stored, as JSON text with VERSION_SLOT wherever the change's version
 * goes: the game's own `version` and each event's. One definition for every store: the
 * in-process stores fill it here (fillTemplate), the Redis store fills it inside its script,
 * where the version is taken from the counter.
 */
export function importTemplate(game: ImportedGame, nowMs: number): string {
  return versionTemplate(materialize(game.id, game.body, 0, nowMs));
}

/** A stored game's JSON with VERSION_SLOT at its `version` and at each of its events'. */
export function versionTemplate(game: Game): string {
  return withSlots(game as unknown as Record<string, unknown>, true);
}

export function fillTemplate(template: string, version: number): Game {
  return JSON.parse(template.replaceAll(VERSION_SLOT, String(version))) as Game;
}

function withSlots(value: Record<string, unknown>, top: boolean): string {
  const parts: string[] = [];
  for (const [key, field] of Object.entries(value)) {
    if (field === undefined) continue;
    const name = JSON.stringify(key);
    if (key === "version" && typeof field === "number") {
      parts.push(`${name}:${VERSION_SLOT}`);
    } else if (top && key === "events" && Array.isArray(field)) {
      const events = field.map((event) =>
        typeof event === "object" && event !== null && !Array.isArray(event)
          ? withSlots(event as Record<string, unknown>, false)
          : JSON.stringify(event)
      );
      parts.push(`${name}:[${events.join(",")}]`);
    } else {
      parts.push(`${name}:${JSON.stringify(field)}`);
    }
  }
  return `{${parts.join(",")}}`;
}
