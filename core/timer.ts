/**
 * The match timer, with no I/O: a timer is stored as where it stood and when (`elapsedMs` at
 * `at`, the commit time of its last change) and never ticks on the server; whoever shows it
 * computes the time from the time now. Nothing is pushed once a second. The kiosk pages render
 * with `timerMs`, and the client library's `timerMs` is meant to mirror it line for line, so a
 * wall screen and a phone agree.
 */
import {
  type FieldError,
  type Game,
  MAX_TIMER_MS,
  type Timer,
  type TimerAction,
  type TimerInput,
} from "./schema.ts";

/**
 * The time counted at `now`: `elapsedMs`, plus the time since `at` while running, held at
 * `limitMs` (or at 24 hours without one, so that a stop can always store what it shows). A
 * negative run (an `at` slightly ahead of this instance's clock, stamped by another instance)
 * counts as none, so the time never runs backwards.
 */
export function countedMs(timer: Timer, now: number): number {
  const running = timer.running ? Math.max(0, now - Date.parse(timer.at)) : 0;
  return Math.min(timer.elapsedMs + running, timer.limitMs ?? MAX_TIMER_MS);
}

/**
 * What a game's timer shows at server time `now` (epoch ms): the time counted, or for a `down`
 * timer the time left (`limitMs` minus the time counted). Null for a game without a timer.
 */
export function timerMs(game: Pick<Game, "timer">, now: number): number | null {
  const { timer } = game;
  if (!timer) return null;
  const counted = countedMs(timer, now);
  return timer.direction === "down" ? (timer.limitMs ?? MAX_TIMER_MS) - counted : counted;
}

/**
 * Milliseconds as a scoreboard reads them, `mm:ss` with the minutes uncapped (`93:12`). A timer
 * counting up shows whole seconds gone, one counting down whole seconds left, rounded up: it reads
 * `00:01` until the very end, and `00:00` only when the time is out.
 */
export function formatTimer(ms: number, direction: Timer["direction"] = "up"): string {
  const seconds = shownSeconds(ms, direction);
  const minutes = Math.floor(seconds / 60);
  return `${String(minutes).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`;
}

/** The whole seconds a timer reads (see formatTimer): what a screen's text changes with. */
export function shownSeconds(ms: number, direction: Timer["direction"] = "up"): number {
  return direction === "down" ? Math.ceil(ms / 1000) : Math.floor(ms / 1000);
}

/** A timer in the order every response gives its fields. */
export function timerOf(timer: Timer): Timer {
  const out: Timer = {
    running: timer.running,
    elapsedMs: timer.elapsedMs,
    at: timer.at,
    direction: timer.direction,
  };
  if (timer.limitMs !== undefined) out.limitMs = timer.limitMs;
  return out;
}

function stamp(now: number): string {
  return new Date(now).toISOString();
}

/**
 * The timer a PUT or PATCH writes. One sent back with the same running, elapsedMs, direction and
 * limitMs as stored is the stored timer, `at` included: a client that reads a game and writes it
 * back unchanged must not restart or jump a running timer (it would, stamped anew with the old
 * elapsedMs). Any other is a change, counted from the commit time `now`.
 */
export function writtenTimer(input: TimerInput, stored: Timer | undefined, now: number): Timer {
  if (
    stored && stored.running === input.running && stored.elapsedMs === input.elapsedMs &&
    stored.direction === input.direction && stored.limitMs === input.limitMs
  ) {
    return stored;
  }
  const { running, elapsedMs, direction, limitMs } = input;
  return timerOf({ running, elapsedMs, at: stamp(now), direction, limitMs });
}

/** The timer stopped at `now`, showing what it showed then. */
export function stoppedAt(timer: Timer, now: number): Timer {
  return timerOf({ ...timer, running: false, elapsedMs: countedMs(timer, now), at: stamp(now) });
}

/** What a timer action does: a new timer, nothing at all, or a refusal naming the field. */
export type TimerStep =
  | { kind: "timer"; timer: Timer }
  | { kind: "unchanged" }
  | { kind: "invalid"; error: FieldError };

/**
 * `POST .../timer` at commit time `now`. A start of a running timer and a stop of a stopped one
 * (or of none) change nothing; `set` keeps the timer running or stopped as it was, and creates a
 * stopped one where there is none; `start` creates a running one counting up from zero.
 */
export function timerStep(timer: Timer | undefined, action: TimerAction, now: number): TimerStep {
  switch (action.action) {
    case "start":
      if (timer?.running) return { kind: "unchanged" };
      return {
        kind: "timer",
        timer: timer
          ? timerOf({ ...timer, running: true, at: stamp(now) })
          : { running: true, elapsedMs: 0, at: stamp(now), direction: "up" },
      };
    case "stop":
      return timer?.running
        ? { kind: "timer", timer: stoppedAt(timer, now) }
        : { kind: "unchanged" };
    case "set": {
      const elapsedMs = action.elapsedMs ?? 0;
      if (timer?.limitMs !== undefined && elapsedMs > timer.limitMs) {
        return {
          kind: "invalid",
          error: {
            path: "elapsedMs",
            message: `must be at most the timer's limitMs (${timer.limitMs})`,
          },
        };
      }
      return {
        kind: "timer",
        timer: timer
          ? timerOf({ ...timer, elapsedMs, at: stamp(now) })
          : { running: false, elapsedMs, at: stamp(now), direction: "up" },
      };
    }
  }
}
