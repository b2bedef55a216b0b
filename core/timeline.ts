/**
 * The writes of the match, as Mutations like every other write (core/scoreboard.ts): the timer
 * route, and adding and removing timeline events. Each is one change of the game, decided inside
 * the store's commit: an event and its points land in the same version, the same durable commit
 * and the same message, or not at all.
 */
import {
  addToScore,
  bodyOf,
  type Conditions,
  type Mutation,
  NOT_FOUND,
  PENDING_VERSION,
  preconditionFailure,
  reject,
} from "./scoreboard.ts";
import { type EventInput, type GameEvent, MAX_EVENTS, type TimerAction } from "./schema.ts";
import { timerMs, timerStep } from "./timer.ts";

/** `POST .../timer`: start, stop or set the timer, at the commit time. */
export function changeTimer(action: TimerAction, conditions: Conditions): Mutation {
  return (current, nowMs) => {
    const failed = preconditionFailure(current, conditions);
    if (failed) return failed;
    if (!current) return NOT_FOUND;
    const step = timerStep(current.timer, action, nowMs);
    switch (step.kind) {
      case "unchanged":
        return { kind: "keep" };
      case "invalid":
        return {
          kind: "reject",
          rejection: { code: "invalid", detail: step.error.message, errors: [step.error] },
        };
      case "timer":
        return { kind: "put", body: bodyOf({ ...current, timer: step.timer }) };
    }
  };
}

/**
 * `POST .../events`: appends an event, with the next id of this game's counter (`lastEventId`,
 * kept in the game so that an id is never given twice, even after the last event was removed),
 * and adds its points to the side's score in the same change.
 */
export function addEvent(input: EventInput, conditions: Conditions): Mutation {
  return (current, nowMs) => {
    const failed = preconditionFailure(current, conditions);
    if (failed) return failed;
    if (!current) return NOT_FOUND;
    const events = current.events ?? [];
    if (events.length >= MAX_EVENTS) {
      return reject(
        "timeline_full",
        `the timeline already holds ${MAX_EVENTS} events; delete one before adding another`,
      );
    }
    const body = bodyOf(current);
    if (input.side !== undefined && input.points !== undefined) {
      const refused = addToScore(body, input.side, input.points);
      if (refused) return refused;
    }
    const id = (current.lastEventId ?? 0) + 1;
    body.events = [...events, eventOf(input, id, timerMs(current, nowMs), nowMs)];
    body.lastEventId = id;
    return { kind: "put", body };
  };
}

/** `DELETE .../events/{eventId}`: removes the event and takes its points back off the score. */
export function removeEvent(eventId: number, conditions: Conditions): Mutation {
  return (current) => {
    const failed = preconditionFailure(current, conditions);
    if (failed) return failed;
    if (!current) return NOT_FOUND;
    const events = current.events ?? [];
    const event = events.find((e) => e.id === eventId);
    if (!event) return reject("not_found", `no event ${eventId} in this game`);
    const body = bodyOf(current);
    if (event.side !== undefined && event.points !== undefined) {
      const refused = addToScore(body, event.side, -event.points);
      if (refused) return refused;
    }
    body.events = events.filter((e) => e !== event);
    return { kind: "put", body };
  };
}

/** An event in the order every response gives its fields; its version is the commit's. */
export function eventOf(
  input: EventInput,
  id: number,
  elapsedMs: number | null,
  nowMs: number,
): GameEvent {
  const event: GameEvent = { id, kind: input.kind } as GameEvent;
  if (input.side !== undefined) event.side = input.side;
  if (input.points !== undefined) event.points = input.points;
  if (input.text !== undefined) event.text = input.text;
  if (input.clock !== undefined) event.clock = input.clock;
  if (elapsedMs !== null) event.elapsedMs = elapsedMs;
  event.version = PENDING_VERSION;
  event.time = new Date(nowMs).toISOString();
  return event;
}
