/**
 * The zod schemas are the single source of the Game type, of request validation and of the
 * OpenAPI document (routes/openapi.ts). Nothing else in the code base re-states these rules.
 */
// zod as @hono/zod-openapi extends it: zod 4 gives a schema the ability to be named in the
// document when the schema is made, so the extension must come before any schema here, whatever
// module happens to be imported first. It changes no validation.
import { z } from "@hono/zod-openapi";

export const GAME_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const STATUSES = ["scheduled", "live", "break", "final", "postponed", "cancelled"] as const;
export const MAX_SCORE = 1_000_000;
export const MAX_POINTS = 100;

/** Counts Unicode code points, so "characters" means what a reader sees, not UTF-16 units. */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * A display string. Control characters (C0, DEL, C1) and lone surrogates are refused: no
 * scoreboard shows them, and they are how log injection and broken UTF-8 output get in.
 */
function displayText(min: number, max: number, options: { trim?: boolean } = {}) {
  const base = options.trim ? z.string().trim() : z.string();
  return base
    .refine((s) => !/\p{Cc}/u.test(s), "must not contain control characters")
    .refine((s) => s.isWellFormed(), "must be valid Unicode text")
    .refine(
      (s) => characterCount(s) >= min,
      min === 1 ? "must not be empty" : `must be at least ${min} characters`,
    )
    .refine((s) => characterCount(s) <= max, `must be at most ${max} characters`)
    .meta({ minLength: min, maxLength: max });
}

export const gameIdSchema = z.string().regex(
  GAME_ID_PATTERN,
  "must be 1 to 64 characters of a-z, 0-9 and '-', starting with a letter or digit",
);

export const statusSchema = z.enum(STATUSES, {
  error: `must be one of ${STATUSES.join(", ")}`,
});

/**
 * A kick-off time: an RFC 3339 date-time with its offset (`T` and `Z` upper-case, seconds given),
 * stored normalised to UTC as `updatedAt` is written, so that times sort as text and every store
 * and screen reads one form. Years outside 0000–9999 once in UTC are refused: no screen can
 * show them.
 */
export const startsAtSchema = z.iso.datetime({
  offset: true,
  error: "must be an RFC 3339 date-time with a time zone, like 2026-12-07T17:00:00Z",
}).transform((text) => new Date(text).toISOString())
  .refine((iso) => /^[0-9]{4}-/.test(iso), "must fall in the years 0000 to 9999 in UTC");

export const scoreSchema = z.int("must be an integer")
  .min(0, "must not be negative")
  .max(MAX_SCORE, `must be at most ${MAX_SCORE}`);

// ---- The match (v2): a running timer and a timeline of events -------------------------------

/** The most a timer counts (24 hours), and the most events a game's timeline holds. */
export const MAX_TIMER_MS = 86_400_000;
export const MAX_EVENTS = 500;
export const EVENT_KIND_PATTERN = /^[a-z][a-z0-9-]{0,23}$/;
export const SIDES = ["home", "away"] as const;
export const TIMER_DIRECTIONS = ["up", "down"] as const;
export const TIMER_ACTIONS = ["start", "stop", "set"] as const;

export const sideNameSchema = z.enum(SIDES, { error: "must be home or away" });

/** Points added to (or taken off) a score in one change: the score route's and an event's. */
export const pointsSchema = z.int("must be an integer")
  .min(-MAX_POINTS, `must be at least -${MAX_POINTS}`)
  .max(MAX_POINTS, `must be at most ${MAX_POINTS}`)
  .refine((n) => n !== 0, "must not be zero");

const timerMsSchema = z.int("must be an integer")
  .min(0, "must not be negative")
  .max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} (24 hours)`);

/**
 * A timer as PUT and PATCH write it: whole, never merged field by field (a stop written as
 * `{"running": false}` alone would otherwise jump back to the time of the last change). `at` is
 * the server's: accepted back as received and ignored.
 */
export const timerInputSchema = z.strictObject({
  running: z.boolean("must be true or false"),
  elapsedMs: timerMsSchema,
  at: z.string("must be a string").max(64, "must be at most 64 characters").optional(),
  direction: z.enum(TIMER_DIRECTIONS, { error: "must be up or down" }).default("up"),
  limitMs: z.int("must be an integer")
    .min(1, "must be at least 1")
    .max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} (24 hours)`)
    .optional(),
}).superRefine((timer, ctx) => {
  if (timer.direction === "down" && timer.limitMs === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["limitMs"],
      message: "is required when direction is down",
    });
  }
  if (timer.limitMs !== undefined && timer.limitMs < timer.elapsedMs) {
    ctx.addIssue({
      code: "custom",
      path: ["limitMs"],
      message: `must not be below elapsedMs (${timer.elapsedMs})`,
    });
  }
});

/** A timer as stored and sent: where it stood (`elapsedMs`) at `at`, the commit time. */
export const timerSchema = z.strictObject({
  running: z.boolean(),
  elapsedMs: z.int(),
  at: z.string(),
  direction: z.enum(TIMER_DIRECTIONS),
  limitMs: z.int().optional(),
}).describe(
  "Where the timer stood (`elapsedMs`) at `at`, the commit time of its last change. It shows " +
    "elapsedMs + (running ? now - at : 0), held at limitMs; a down timer shows limitMs minus that.",
);

/** The body of `POST /api/games/{id}/timer`. */
export const timerActionSchema = z.strictObject({
  action: z.enum(TIMER_ACTIONS, { error: "must be start, stop or set" }),
  elapsedMs: timerMsSchema.optional(),
}).superRefine((body, ctx) => {
  if (body.action === "set" && body.elapsedMs === undefined) {
    ctx.addIssue({ code: "custom", path: ["elapsedMs"], message: "is required with action set" });
  }
  if (body.action !== "set" && body.elapsedMs !== undefined) {
    ctx.addIssue({ code: "custom", path: ["elapsedMs"], message: "goes only with action set" });
  }
});

/** The body of `POST /api/games/{id}/events`. */
export const eventInputSchema = z.strictObject({
  kind: z.string("must be a string").regex(
    EVENT_KIND_PATTERN,
    "must be 1 to 24 characters of a-z, 0-9 and '-', starting with a letter",
  ),
  side: sideNameSchema.optional(),
  points: pointsSchema.optional(),
  text: displayText(1, 80).optional(),
  clock: displayText(0, 16).optional(),
}).superRefine((event, ctx) => {
  if (event.points !== undefined && event.side === undefined) {
    ctx.addIssue({ code: "custom", path: ["side"], message: "is required when points is given" });
  }
});

/**
 * An event as stored and sent. `id` counts per game and is never reused (the game's
 * `lastEventId` remembers the last one given); `version` is the change that added it, `time` its
 * commit time, `elapsedMs` what the timer showed then.
 */
export const eventSchema = z.strictObject({
  id: z.int(),
  kind: z.string(),
  side: z.enum(SIDES).optional(),
  points: z.int().optional(),
  text: z.string().optional(),
  clock: z.string().optional(),
  elapsedMs: z.int().optional(),
  version: z.int(),
  time: z.string(),
}).describe(
  "A timeline event. `id` counts per game, never reused; `version` is the change that added " +
    "it, `time` its commit time, `elapsedMs` what the timer showed then (absent without one).",
);

/**
 * The timeline and its counter, as a client sends them back with a game it read: accepted and
 * ignored, because only the timeline routes write them.
 */
const timelineEcho = {
  events: z.array(z.unknown(), "must be an array").optional(),
  lastEventId: z.int("must be an integer").min(0, "must not be negative").optional(),
};

// ---- end of the match block -----------------------------------------------------------------

/** Fields the server assigns: accepted back as received (GET, change, PUT) and ignored. */
const serverAssigned = {
  id: gameIdSchema.optional(),
  version: z.int("must be an integer").min(0, "must not be negative").optional(),
  updatedAt: z.string().max(64, "must be at most 64 characters").optional(),
  ...timelineEcho,
};

export const sideSchema = z.strictObject({
  name: displayText(1, 64, { trim: true }),
  score: scoreSchema.default(0),
  detail: displayText(0, 32).optional(),
});

/** The body of `PUT /api/games/{id}`: a whole game. */
export const gameInputSchema = z.strictObject({
  ...serverAssigned,
  title: displayText(1, 120).optional(),
  status: statusSchema.default("scheduled"),
  period: displayText(0, 32).optional(),
  clock: displayText(0, 16).optional(),
  competition: gameIdSchema.optional(),
  startsAt: startsAtSchema.optional(),
  timer: timerInputSchema.optional(),
  home: sideSchema,
  away: sideSchema,
});

/**
 * An event as an import gives it back, as it was stored: the rules of a new event, with its id,
 * its commit time and what the timer showed then; its `version` is taken and re-stamped.
 */
export const importEventSchema = eventInputSchema.extend({
  id: z.int("must be an integer").min(1, "must be at least 1"),
  version: z.int("must be an integer").min(0, "must not be negative").optional(),
  time: startsAtSchema,
  elapsedMs: timerMsSchema.optional(),
});

/**
 * One line of `POST /api/import`: a game as `GET /api/export` wrote it. The PUT rules, with the id
 * required (it names the game); `version` and `updatedAt` are accepted and re-stamped. Unlike a
 * PUT, the timeline is taken (every event checked, ids distinct, at most MAX_EVENTS) and so is
 * the timer's `at`: a running timer goes on counting from where it stood, across the move.
 */
export const importGameSchema = gameInputSchema.extend({
  id: gameIdSchema,
  timer: timerInputSchema.safeExtend({ at: startsAtSchema.optional() }).optional(),
  events: z.array(importEventSchema, "must be an array")
    .max(MAX_EVENTS, `must hold at most ${MAX_EVENTS} events`)
    .superRefine((events, ctx) => {
      const seen = new Set<number>();
      events.forEach((event, i) => {
        if (seen.has(event.id)) {
          ctx.addIssue({ code: "custom", path: [i, "id"], message: "is the id of another event" });
        }
        seen.add(event.id);
      });
    })
    .optional(),
  lastEventId: z.int("must be an integer").min(0, "must not be negative").optional(),
}).superRefine((game, ctx) => {
  const last = Math.max(0, ...(game.events ?? []).map((event) => event.id));
  if (game.lastEventId !== undefined && game.lastEventId < last) {
    ctx.addIssue({
      code: "custom",
      path: ["lastEventId"],
      message: `must not be below the id of an event (${last})`,
    });
  }
});

/** The side of a game as stored and sent. */
export const sideOutputSchema = z.strictObject({
  name: z.string(),
  score: z.int(),
  detail: z.string().optional(),
});

/** A game as stored and sent: the input plus the server-assigned fields. */
export const gameSchema = z.strictObject({
  id: gameIdSchema,
  title: z.string().optional(),
  status: statusSchema,
  period: z.string().optional(),
  clock: z.string().optional(),
  competition: gameIdSchema.optional(),
  startsAt: z.string().meta({ format: "date-time" }).optional(),
  timer: timerSchema.optional(),
  home: sideOutputSchema,
  away: sideOutputSchema,
  events: z.array(eventSchema).optional().describe(
    "The timeline, oldest first; absent when empty.",
  ),
  lastEventId: z.int().optional().describe(
    "The id the last event added got (the next gets one more), kept when events are removed.",
  ),
  version: z.int(),
  updatedAt: z.string(),
});

/** A field a merge patch may remove with `null`. */
function removable<T extends z.ZodType>(schema: T) {
  return schema.nullable().optional();
}

export const sidePatchSchema = z.strictObject({
  name: displayText(1, 64, { trim: true }).optional(),
  score: scoreSchema.optional(),
  detail: removable(displayText(0, 32)),
});

/**
 * The body of `PATCH /api/games/{id}`: an RFC 7386 merge patch, field by field. `null` removes
 * the optional fields; on a required one it is refused (see fieldErrors), not turned into a default.
 */
export const gamePatchSchema = z.strictObject({
  ...serverAssigned,
  title: removable(displayText(1, 120)),
  status: statusSchema.optional(),
  period: removable(displayText(0, 32)),
  clock: removable(displayText(0, 16)),
  competition: removable(gameIdSchema),
  startsAt: removable(startsAtSchema),
  timer: removable(timerInputSchema),
  home: sidePatchSchema.optional(),
  away: sidePatchSchema.optional(),
});

/** The body of `POST /api/games/{id}/score`. */
export const scoreDeltaSchema = z.strictObject({
  side: sideNameSchema,
  points: pointsSchema,
});

/** A cursor: a non-negative integer in decimal digits, nothing else. */
export const cursorSchema = z.string().regex(/^[0-9]+$/, "must be a non-negative integer")
  .transform(Number)
  .refine(Number.isSafeInteger, "is too large");

export type Status = z.infer<typeof statusSchema>;
export type GameInput = z.infer<typeof gameInputSchema>;
export type GamePatch = z.infer<typeof gamePatchSchema>;
export type ScoreDelta = z.infer<typeof scoreDeltaSchema>;
export type SideName = z.infer<typeof sideNameSchema>;
export type Timer = z.infer<typeof timerSchema>;
export type TimerInput = z.infer<typeof timerInputSchema>;
export type TimerAction = z.infer<typeof timerActionSchema>;
export type EventInput = z.infer<typeof eventInputSchema>;
export type GameEvent = z.infer<typeof eventSchema>;
export type Side = z.infer<typeof sideOutputSchema>;
export type Game = z.infer<typeof gameSchema>;
/** A game without its server-assigned fields: what a write decides, before the store commits. */
export type GameBody = Omit<Game, "id" | "version" | "updatedAt">;

/** One field's validation failure, as problem+json lists it. */
export interface FieldError {
  path: string;
  message: string;
}

/** Parses with the input reported on each issue, which fieldErrors needs to tell null from absent. */
export function validate<T extends z.ZodType>(
  schema: T,
  value: unknown,
): { ok: true; value: z.output<T> } | { ok: false; errors: FieldError[] } {
  const result = schema.safeParse(value, { reportInput: true });
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, errors: fieldErrors(result.error) };
}

/** Turns zod issues into `{path, message}` pairs that name the field, one per unknown key. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({ path: base ? `${base}.${key}` : key, message: "unknown field" });
      }
    } else if (issue.code === "invalid_type" && issue.input === undefined) {
      out.push({ path: base, message: "is required" });
    } else if (
      (issue.code === "invalid_type" || issue.code === "invalid_value") && issue.input === null
    ) {
      out.push({ path: base, message: "cannot be null: the field is required" });
    } else if (issue.code === "invalid_type" && base === "") {
      out.push({ path: base, message: `request body must be a JSON ${issue.expected}` });
    } else if (issue.code === "invalid_type") {
      // zod's own wording starts "Invalid input"; a schema's custom message is kept as written.
      const message = issue.message.startsWith("Invalid input")
        ? `must be ${article(issue.expected)}`
        : issue.message;
      out.push({ path: base, message });
    } else {
      out.push({ path: base, message: issue.message });
    }
  }
  return out;
}

function article(expected: string): string {
  if (expected === "int") return "an integer";
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
