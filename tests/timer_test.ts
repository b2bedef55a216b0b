/**
 * The timer's arithmetic (core/timer.ts), pure: what a timer shows at a given server time, how it
 * reads on a screen, and what each write does to it at a given commit time.
 */
import assert from "node:assert/strict";
import { MAX_TIMER_MS, type Timer, type TimerInput } from "../core/schema.ts";
import {
  countedMs,
  formatTimer,
  stoppedAt,
  timerMs,
  timerStep,
  writtenTimer,
} from "../core/timer.ts";

const T0 = Date.UTC(2026, 11, 7, 17, 0, 0);
const at = (ms: number) => new Date(ms).toISOString();

const running = (elapsedMs: number, extra: Partial<Timer> = {}): Timer => ({
  running: true,
  elapsedMs,
  at: at(T0),
  direction: "up",
  ...extra,
});

Deno.test("a running timer shows its elapsed time plus the time since its last change", () => {
  const timer = running(4_032_000);
  assert.equal(timerMs({ timer }, T0), 4_032_000);
  assert.equal(timerMs({ timer }, T0 + 1_500), 4_033_500);
  assert.equal(timerMs({ timer: { ...timer, running: false } }, T0 + 60_000), 4_032_000);
  assert.equal(timerMs({}, T0), null, "no timer, no time");
});

Deno.test("a timer is held at its limit, a down timer counts what is left, and neither runs backwards", () => {
  const up = running(5_390_000, { limitMs: 5_400_000 });
  assert.equal(timerMs({ timer: up }, T0 + 5_000), 5_395_000);
  assert.equal(timerMs({ timer: up }, T0 + 60_000), 5_400_000, "held at limitMs");
  const down = running(0, { direction: "down", limitMs: 720_000 });
  assert.equal(timerMs({ timer: down }, T0 + 20_000), 700_000);
  assert.equal(timerMs({ timer: down }, T0 + 900_000), 0, "a down timer stops at zero");
  // An `at` a little ahead of this clock (another instance stamped it) counts as no time yet.
  assert.equal(timerMs({ timer: running(1_000) }, T0 - 300), 1_000);
  // Without a limit a timer stops at 24 hours, the most elapsedMs can hold.
  assert.equal(countedMs(running(MAX_TIMER_MS - 10), T0 + 60_000), MAX_TIMER_MS);
});

Deno.test("a timer reads mm:ss with minutes uncapped; up counts whole seconds gone, down whole seconds left", () => {
  assert.equal(formatTimer(0), "00:00");
  assert.equal(formatTimer(59_999), "00:59");
  assert.equal(formatTimer(4_032_000), "67:12");
  assert.equal(formatTimer(5_592_000), "93:12");
  assert.equal(formatTimer(400, "down"), "00:01", "a down timer reads 00:00 only when time is out");
  assert.equal(formatTimer(0, "down"), "00:00");
  assert.equal(formatTimer(720_000, "down"), "12:00");
});

Deno.test("start creates a running timer from zero, restarts a stopped one, and leaves a running one alone", () => {
  const now = T0 + 10_000;
  assert.deepEqual(timerStep(undefined, { action: "start" }, now), {
    kind: "timer",
    timer: { running: true, elapsedMs: 0, at: at(now), direction: "up" },
  });
  const stopped: Timer = { ...running(60_000), running: false };
  assert.deepEqual(timerStep(stopped, { action: "start" }, now), {
    kind: "timer",
    timer: { running: true, elapsedMs: 60_000, at: at(now), direction: "up" },
  });
  assert.deepEqual(timerStep(running(0), { action: "start" }, now), { kind: "unchanged" });
});

Deno.test("stop keeps what the timer showed at the commit, and a stop of a stopped timer (or none) changes nothing", () => {
  const timer = running(60_000, { limitMs: 90_000 });
  assert.deepEqual(timerStep(timer, { action: "stop" }, T0 + 12_345), {
    kind: "timer",
    timer: {
      running: false,
      elapsedMs: 72_345,
      at: at(T0 + 12_345),
      direction: "up",
      limitMs: 90_000,
    },
  });
  assert.equal(stoppedAt(timer, T0 + 60_000).elapsedMs, 90_000, "stopped past its limit: at it");
  assert.deepEqual(timerStep({ ...timer, running: false }, { action: "stop" }, T0), {
    kind: "unchanged",
  });
  assert.deepEqual(timerStep(undefined, { action: "stop" }, T0), { kind: "unchanged" });
});

Deno.test("set keeps a timer running or stopped, creates a stopped one, and refuses a time past the limit", () => {
  const now = T0 + 5_000;
  assert.deepEqual(timerStep(running(1_000), { action: "set", elapsedMs: 2_700_000 }, now), {
    kind: "timer",
    timer: { running: true, elapsedMs: 2_700_000, at: at(now), direction: "up" },
  });
  assert.deepEqual(timerStep(undefined, { action: "set", elapsedMs: 300 }, now), {
    kind: "timer",
    timer: { running: false, elapsedMs: 300, at: at(now), direction: "up" },
  });
  const limited = running(0, { direction: "down", limitMs: 600_000 });
  assert.deepEqual(timerStep(limited, { action: "set", elapsedMs: 600_001 }, now), {
    kind: "invalid",
    error: { path: "elapsedMs", message: "must be at most the timer's limitMs (600000)" },
  });
});

Deno.test("a timer written back as it was read keeps its at; any change is stamped with the commit time", () => {
  const stored = running(4_032_000, { limitMs: 5_400_000 });
  const sentBack: TimerInput = { ...stored, at: "whatever the client says" };
  assert.equal(writtenTimer(sentBack, stored, T0 + 99_000), stored, "the very same timer");
  const moved = writtenTimer({ ...sentBack, elapsedMs: 0 }, stored, T0 + 99_000);
  assert.deepEqual(moved, {
    running: true,
    elapsedMs: 0,
    at: at(T0 + 99_000),
    direction: "up",
    limitMs: 5_400_000,
  });
  const fresh = writtenTimer({ running: false, elapsedMs: 10, direction: "up" }, undefined, T0);
  assert.deepEqual(Object.keys(fresh), ["running", "elapsedMs", "at", "direction"]);
});
