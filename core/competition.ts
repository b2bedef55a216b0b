/**
 * A game's competition is set when the game is created and fixed after: feeds filtered by
 * competition, their resume and the viewer counts all rest on a game staying where it was
 * created, so moving one is a deletion and a new creation, which every feed can follow.
 */
import type { Rejection } from "./errors.ts";
import type { Game, GameBody } from "./schema.ts";

/**
 * A PUT that leaves `competition` out keeps the game's: a client that reads a game, changes it
 * and writes it back expects nothing it did not touch to change, and dropping the field would be
 * a change the next rule refuses anyway.
 */
export function keepCompetition(current: Game | undefined, body: GameBody): GameBody {
  if (current?.competition === undefined) return body;
  return { ...body, competition: current.competition };
}

/** The refusal of a write that would change an existing game's competition, if it would. */
export function competitionChange(
  current: Game | undefined,
  next: GameBody,
): { kind: "reject"; rejection: Rejection } | undefined {
  if (!current || current.competition === next.competition) return undefined;
  const from = current.competition === undefined ? "none" : `"${current.competition}"`;
  return {
    kind: "reject",
    rejection: {
      code: "competition_fixed",
      detail: `the game's competition is ${from} and cannot change; delete the game and ` +
        "create it again to move it",
    },
  };
}
