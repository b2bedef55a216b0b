/**
 * The Store contract (store/store.ts), as tests. Every implementation runs this same suite:
 * `storeConformance("sqlite", harness)` in its own *_test.ts file.
 */
import assert from "node:assert/strict";
import type { Clock } from "../core/clock.ts";
import { StoreUnavailableError } from "../core/errors.ts";
import { IDEMPOTENCY_TTL_MS } from "../core/idempotency.ts";
import {
  addPoints,
  type Change,
  deleteGame,
  type Mutation,
  patchGame,
  replaceGame,
  TOMBSTONE_TTL_MS,
} from "../core/scoreboard.ts";
import {
  type EventInput,
  eventInputSchema,
  type GameInput,
  gameInputSchema,
  MAX_EVENTS,
  validate,
} from "../core/schema.ts";
import { addEvent, changeTimer, removeEvent } from "../core/timeline.ts";
import { ALL_GAMES, competitionScope, gameScope, gamesScope, type Scope } from "../core/scope.ts";
import type { IdempotencyKey, Store } from "../store/store.ts";
import { ManualClock } from "./support/clock.ts";

export interface StoreHarness {
  /** Opens the store; for a persistent store, on the same data every time. */
  open(clock: Clock): Promise<Store>;
  /** Whether what was written survives close() and open(). */
  persistent: boolean;
  /** Removes whatever the harness created. */
  cleanup(): Promise<void>;
}

function game(home = 0, away = 0, extra: Record<string, unknown> = {}): GameInput {
  const result = validate(gameInputSchema, {
    status: "live",
    home: { name: "Lions", score: home },
    away: { name: "Tigers", score: away },
    ...extra,
  });
  if (!result.ok) throw new Error("bad fixture");
  return result.value;
}

const put = (store: Store, id: string, mutate: Mutation = replaceGame(game(), {})) =>
  store.write({ id, mutate });

const plusOne: Mutation = addPoints({ side: "home", points: 1 }, {});

function event(value: unknown): EventInput {
  const result = validate(eventInputSchema, value);
  if (!result.ok) throw new Error(`bad fixture: ${JSON.stringify(result.errors)}`);
  return result.value;
}

const goal = (text: string, side: "home" | "away" = "home") =>
  addEvent(event({ kind: "goal", side, points: 1, text }), {});

/** The game a write left, for writes that must have saved one. */
function saved(outcome: Awaited<ReturnType<Store["write"]>>) {
  if (outcome.kind !== "saved" && outcome.kind !== "created") {
    throw new Error(`expected a saved game, got ${JSON.stringify(outcome)}`);
  }
  return outcome.game;
}

export function storeConformance(
  name: string,
  makeHarness: () => Promise<StoreHarness>,
  options: { ignore?: boolean } = {},
): void {
  const test = (title: string, fn: (h: StoreHarness, clock: ManualClock) => Promise<void>) =>
    Deno.test({
      name: `${name} store: ${title}`,
      ignore: options.ignore,
      async fn() {
        const harness = await makeHarness();
        try {
          await fn(harness, new ManualClock());
        } finally {
          await harness.cleanup();
        }
      },
    });

  test(
    "every change of any game takes the next version, and listeners see them in order",
    async (h, clock) => {
      const store = await h.open(clock);
      const seen: Change[] = [];
      store.onCommit((changes) => seen.push(...changes));
      const a = await put(store, "a");
      const b = await put(store, "b");
      const a2 = await store.write({ id: "a", mutate: plusOne });
      const gone = await store.write({ id: "b", mutate: deleteGame({}) });
      assert.equal(a.kind, "created");
      assert.equal(b.kind, "created");
      assert.equal(a2.kind, "saved");
      assert.equal(gone.kind, "deleted");
      const v = a.kind === "created" ? a.game.version : NaN;
      assert.equal(b.kind === "created" && b.game.version, v + 1);
      assert.equal(a2.kind === "saved" && a2.game.version, v + 2);
      assert.equal(gone.kind === "deleted" && gone.version, v + 3);
      assert.deepEqual(seen.map((c) => [c.type, c.version]), [
        ["update", v],
        ["update", v + 1],
        ["update", v + 2],
        ["removed", v + 3],
      ]);
      const snapshot = await store.snapshot();
      assert.equal(snapshot.version, v + 3);
      assert.deepEqual(snapshot.games.map((g) => [g.id, g.version, g.home.score]), [[
        "a",
        v + 2,
        1,
      ]]);
      await store.close();
    },
  );

  test("a fresh store starts its versions from the clock", async (h, clock) => {
    const store = await h.open(clock);
    const outcome = await put(store, "a");
    assert.ok(outcome.kind === "created" && outcome.game.version > clock.now() * 1000 - 1);
    assert.equal(
      outcome.kind === "created" && outcome.game.updatedAt,
      new Date(clock.now()).toISOString(),
    );
    await store.close();
  });

  test(
    "concurrent writes to one game are applied one after another, none lost",
    async (h, clock) => {
      const store = await h.open(clock);
      await put(store, "a");
      const outcomes = await Promise.all(
        Array.from({ length: 200 }, () => store.write({ id: "a", mutate: plusOne })),
      );
      const versions = outcomes.map((o) => (o.kind === "saved" ? o.game.version : NaN));
      assert.equal(new Set(versions).size, 200, "no version repeats");
      assert.equal((await store.get("a"))?.home.score, 200);
      await store.close();
    },
  );

  test("a failed If-Match changes nothing and uses no version", async (h, clock) => {
    const store = await h.open(clock);
    const created = await put(store, "a");
    const version = created.kind === "created" ? created.game.version : NaN;
    const stale = await store.write({
      id: "a",
      mutate: addPoints({ side: "home", points: 1 }, { ifMatch: [version - 1] }),
    });
    assert.equal(stale.kind === "rejected" && stale.rejection.code, "precondition_failed");
    const ok = await store.write({
      id: "a",
      mutate: addPoints({ side: "home", points: 1 }, { ifMatch: [version] }),
    });
    assert.equal(ok.kind === "saved" && ok.game.version, version + 1);
    await store.close();
  });

  test(
    "competition and startsAt come back from every read exactly as written, in the contract's order",
    async (h, clock) => {
      const store = await h.open(clock);
      const seen: Change[] = [];
      store.onCommit((changes) => seen.push(...changes));
      const extra = { competition: "cup", startsAt: "2026-12-07T18:00:00+01:00", clock: "1" };
      const written = await put(store, "a", replaceGame(game(1, 2, extra), {}));
      assert.ok(written.kind === "created");
      const text = JSON.stringify(written.game);
      assert.match(text, /"clock":"1","competition":"cup","startsAt":"2026-12-07T17:00:00.000Z",/);
      const resumed = await store.resume(null, competitionScope("cup"));
      const reads = [
        await store.get("a"),
        (await store.snapshot()).games[0],
        resumed.kind === "snapshot" ? resumed.games[0] : undefined,
        seen[0]?.type === "update" ? seen[0].game : undefined,
      ];
      for (const read of reads) assert.equal(JSON.stringify(read), text);
      await store.close();
    },
  );

  test(
    "resume within a competition or a games= list: games in scope only, a removal in the competition the game had",
    async (h, clock) => {
      const store = await h.open(clock);
      const seen: Change[] = [];
      store.onCommit((changes) => seen.push(...changes));
      const inCup = replaceGame(game(0, 0, { competition: "cup" }), {});
      const first = await put(store, "a", inCup);
      const start = first.kind === "created" ? first.game.version : NaN;
      await put(store, "b", replaceGame(game(0, 0, { competition: "league" }), {}));
      await put(store, "c", inCup);
      await put(store, "d");
      await store.write({ id: "a", mutate: deleteGame({}) });
      await store.write({ id: "b", mutate: plusOne });
      await put(store, "e", inCup);
      const removal = seen.find((c) => c.type === "removed");
      assert.deepEqual(
        removal && { ...removal, removedAt: 0 },
        { type: "removed", version: start + 4, id: "a", removedAt: 0, competition: "cup" },
      );
      const shown = async (cursor: number | null, scope: Scope) => {
        const resume = await store.resume(cursor, scope);
        return resume.kind === "snapshot"
          ? resume.games.map((g) => g.id)
          : resume.changes.map((c) => c.type === "update" ? c.game.id : `-${c.id}`);
      };
      assert.deepEqual(await shown(null, competitionScope("cup")), ["c", "e"]);
      assert.deepEqual(await shown(start + 1, competitionScope("cup")), ["c", "-a", "e"]);
      assert.deepEqual(await shown(start + 4, competitionScope("cup")), ["e"]);
      assert.deepEqual(await shown(null, competitionScope("nobody")), []);
      const list = gamesScope(["e", "a", "b", "not-yet"]);
      assert.deepEqual(await shown(null, list), ["b", "e"]);
      assert.deepEqual(await shown(start + 1, list), ["-a", "b", "e"]);
      assert.deepEqual(await shown(start, gameScope("a")), ["-a"]);
      const resume = await store.resume(start, competitionScope("cup"));
      const gone = resume.kind === "changes" ? resume.changes[1] : undefined;
      assert.equal(gone?.type === "removed" && gone.competition, "cup");
      await store.close();
    },
  );

  test(
    "a game created again in another competition sends its old competition's older cursors to a snapshot",
    async (h, clock) => {
      const store = await h.open(clock);
      const first = await put(store, "a", replaceGame(game(0, 0, { competition: "cup" }), {}));
      const start = first.kind === "created" ? first.game.version : NaN;
      await put(store, "x", replaceGame(game(0, 0, { competition: "cup" }), {}));
      await store.write({ id: "a", mutate: deleteGame({}) });
      await put(store, "a", replaceGame(game(0, 0, { competition: "league" }), {}));
      const check = async (s: Store) => {
        assert.equal((await s.resume(start + 1, competitionScope("cup"))).kind, "snapshot");
        assert.equal((await s.resume(start + 2, competitionScope("cup"))).kind, "changes");
        assert.equal((await s.resume(start + 1, ALL_GAMES)).kind, "changes");
        assert.equal((await s.resume(start + 1, gamesScope(["a", "x"]))).kind, "changes");
      };
      await check(store);
      await store.close();
      if (!h.persistent) return;
      const again = await h.open(clock);
      await check(again);
      await again.close();
    },
  );

  test(
    "viewer counts: feeds by scope become counts per game, a competition naming its live games",
    async (h, clock) => {
      const store = await h.open(clock);
      const inCup = replaceGame(game(0, 0, { competition: "cup" }), {});
      await put(store, "a", inCup);
      await put(store, "b", inCup);
      await put(store, "c", inCup);
      await store.write({ id: "c", mutate: deleteGame({}) });
      await put(store, "d");
      const counts = await store.countViewers(
        new Map([
          [ALL_GAMES.key, 5],
          [competitionScope("cup").key, 2],
          [gameScope("d").key, 1],
          [gamesScope(["a", "d", "later"]).key, 3],
          [competitionScope("empty").key, 1],
        ]),
      );
      assert.equal(counts.total, 12);
      assert.deepEqual(
        Object.fromEntries([...counts.games].sort()),
        { a: 5, b: 2, d: 4, later: 3 },
      );
      assert.deepEqual(counts.members.get("cup"), ["a", "b"]);
      assert.deepEqual(counts.members.get("empty"), []);
      await store.close();
    },
  );

  test("a mutation that throws fails alone", async (h, clock) => {
    const store = await h.open(clock);
    const results = await Promise.allSettled([
      put(store, "a"),
      store.write({
        id: "b",
        mutate: () => {
          throw new Error("bug");
        },
      }),
      put(store, "c"),
    ]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.deepEqual((await store.snapshot()).games.map((g) => g.id), ["a", "c"]);
    await store.close();
  });

  test("deletions leave tombstones that resume reports, in version order", async (h, clock) => {
    const store = await h.open(clock);
    const first = await put(store, "a");
    const start = first.kind === "created" ? first.game.version : NaN;
    await put(store, "b");
    await put(store, "c");
    await store.write({ id: "b", mutate: deleteGame({}) });
    await store.write({ id: "a", mutate: patchGame({ title: "Renamed" }, {}) });
    const resume = await store.resume(start + 1, ALL_GAMES);
    assert.equal(resume.kind, "changes");
    assert.deepEqual(
      resume.kind === "changes" &&
        resume.changes.map((c) => [c.type, c.version, c.type === "update" ? c.game.id : c.id]),
      [["update", start + 2, "c"], ["removed", start + 3, "b"], ["update", start + 4, "a"]],
    );
    const one = await store.resume(start, gameScope("b"));
    assert.deepEqual(one.kind === "changes" && one.changes.map((c) => c.type), ["removed"]);
    assert.equal(await store.get("b"), undefined);
    await store.close();
  });

  test(
    "resume answers with a snapshot without a cursor, for a future cursor and below the horizon",
    async (h, clock) => {
      const store = await h.open(clock);
      await put(store, "b");
      await put(store, "a");
      const { version } = await store.snapshot();
      for (const cursor of [null, version + 1, 0]) {
        const resume = await store.resume(cursor, ALL_GAMES);
        assert.equal(resume.kind, "snapshot", `cursor ${cursor}`);
        assert.equal(resume.version, version);
        assert.deepEqual(resume.kind === "snapshot" && resume.games.map((g) => g.id), ["a", "b"]);
      }
      const one = await store.resume(null, gameScope("a"));
      assert.deepEqual(one.kind === "snapshot" && one.games.map((g) => g.id), ["a"]);
      const missing = await store.resume(null, gameScope("zz"));
      assert.deepEqual(missing, { kind: "snapshot", version, games: [] });
      assert.deepEqual(await store.resume(version, ALL_GAMES), {
        kind: "changes",
        version,
        changes: [],
      });
      await store.close();
    },
  );

  test(
    "tombstones are kept 24 hours; after they are forgotten an older cursor gets a snapshot",
    async (h, clock) => {
      const store = await h.open(clock);
      const first = await put(store, "a");
      const start = first.kind === "created" ? first.game.version : NaN;
      await store.write({ id: "a", mutate: deleteGame({}) });
      clock.advance(TOMBSTONE_TTL_MS - 1000);
      await put(store, "b");
      assert.equal(
        (await store.resume(start, ALL_GAMES)).kind,
        "changes",
        "still remembered before 24 h",
      );
      clock.advance(60 * 60 * 1000); // stores may forget lazily, but within the hour
      await put(store, "c");
      const resume = await store.resume(start, ALL_GAMES);
      assert.equal(resume.kind, "snapshot", "forgotten some time after 24 h");
      assert.deepEqual(resume.kind === "snapshot" && resume.games.map((g) => g.id), ["b", "c"]);
      assert.equal(
        (await store.resume(start + 1, ALL_GAMES)).kind,
        "changes",
        "a cursor at the horizon still resumes",
      );
      await store.close();
    },
  );

  test(
    "an Idempotency-Key replays the first outcome, refuses another request, and is busy while running",
    async (h, clock) => {
      const store = await h.open(clock);
      await put(store, "a");
      const key: IdempotencyKey = { scope: "scorer", key: "goal-1" };
      assert.deepEqual(await store.claim(key, "fp1"), { kind: "new" });
      assert.deepEqual(await store.claim(key, "fp1"), { kind: "in_progress" });
      assert.deepEqual(await store.claim(key, "fp2"), { kind: "mismatch" });
      const first = await store.write({
        id: "a",
        mutate: plusOne,
        idempotency: { key, fingerprint: "fp1" },
      });
      const replay = await store.claim(key, "fp1");
      assert.deepEqual(replay, { kind: "replay", outcome: first });
      assert.deepEqual(await store.claim(key, "fp2"), { kind: "mismatch" });
      assert.deepEqual(
        await store.claim({ scope: "other", key: "goal-1" }, "fp2"),
        { kind: "new" },
        "keys are per scope",
      );
      assert.equal((await store.get("a"))?.home.score, 1);
      await store.close();
    },
  );

  test("a rejected outcome is recorded under its key too", async (h, clock) => {
    const store = await h.open(clock);
    const key: IdempotencyKey = { scope: "scorer", key: "k" };
    assert.deepEqual(await store.claim(key, "fp"), { kind: "new" });
    const outcome = await store.write({
      id: "nope",
      mutate: plusOne,
      idempotency: { key, fingerprint: "fp" },
    });
    assert.equal(outcome.kind === "rejected" && outcome.rejection.code, "not_found");
    assert.deepEqual(await store.claim(key, "fp"), { kind: "replay", outcome });
    await store.close();
  });

  test("a released claim can be taken again", async (h, clock) => {
    const store = await h.open(clock);
    const key: IdempotencyKey = { scope: "scorer", key: "k" };
    assert.deepEqual(await store.claim(key, "fp"), { kind: "new" });
    await store.release(key);
    assert.deepEqual(await store.claim(key, "fp"), { kind: "new" });
    await store.close();
  });

  test("idempotency records expire after 24 hours", async (h, clock) => {
    const store = await h.open(clock);
    await put(store, "a");
    const key: IdempotencyKey = { scope: "scorer", key: "k" };
    await store.claim(key, "fp");
    await store.write({ id: "a", mutate: plusOne, idempotency: { key, fingerprint: "fp" } });
    clock.advance(IDEMPOTENCY_TTL_MS - 1000);
    assert.equal((await store.claim(key, "fp")).kind, "replay");
    clock.advance(2000);
    assert.deepEqual(await store.claim(key, "fp"), { kind: "new" });
    await store.close();
  });

  test(
    "after close every method refuses with StoreUnavailableError and no listener is called",
    async (h, clock) => {
      const store = await h.open(clock);
      await put(store, "a");
      let calls = 0;
      store.onCommit(() => calls++);
      await store.close();
      assert.equal(await store.ready(), false);
      for (
        const attempt of [
          () => store.get("a"),
          () => store.snapshot(),
          () => store.resume(null, ALL_GAMES),
          () => put(store, "b"),
          () => store.claim({ scope: "s", key: "k" }, "fp"),
        ]
      ) {
        await assert.rejects(async () => await attempt(), StoreUnavailableError);
      }
      assert.equal(calls, 0);
    },
  );

  test("writes accepted before close are committed, not dropped", async (h, clock) => {
    const store = await h.open(clock);
    await put(store, "a");
    const pending = Array.from({ length: 20 }, () => store.write({ id: "a", mutate: plusOne }));
    await store.close();
    const outcomes = await Promise.all(pending);
    assert.ok(outcomes.every((o) => o.kind === "saved"));
    if (!h.persistent) return;
    const again = await h.open(clock);
    assert.equal((await again.get("a"))?.home.score, 20);
    await again.close();
  });

  test(
    "state, tombstones, idempotency records and the counter survive a restart",
    async (h, clock) => {
      const store = await h.open(clock);
      await put(store, "a");
      await put(store, "b");
      const key: IdempotencyKey = { scope: "scorer", key: "k" };
      await store.claim(key, "fp");
      const scored = await store.write({
        id: "a",
        mutate: plusOne,
        idempotency: { key, fingerprint: "fp" },
      });
      const gone = await store.write({ id: "b", mutate: deleteGame({}) });
      const before = await store.snapshot();
      await store.close();
      // A persistent store keeps its counter, so even a clock set back cannot make versions repeat;
      // a fresh memory store relies on the clock having moved on.
      clock.advance(h.persistent ? -60_000 : 1);
      const again = await h.open(clock);
      if (h.persistent) {
        assert.deepEqual(await again.snapshot(), before);
        assert.deepEqual(await again.claim(key, "fp"), { kind: "replay", outcome: scored });
        const resume = await again.resume(before.version - 1, ALL_GAMES);
        assert.deepEqual(resume.kind === "changes" && resume.changes.map((c) => c.type), [
          "removed",
        ]);
        assert.equal(gone.kind === "deleted" && gone.version, before.version);
      }
      const next = await put(again, "c");
      assert.ok(
        next.kind === "created" && next.game.version > before.version,
        "versions continue upward",
      );
      await again.close();
    },
  );

  // ---- The match: timer and timeline ------------------------------------------------------

  test(
    "a timer change and an event are each one version stamped with the commit time, and the event's points land with it",
    async (h, clock) => {
      const store = await h.open(clock);
      const seen: Change[] = [];
      store.onCommit((changes) => seen.push(...changes));
      await put(store, "a", replaceGame(game(2, 1), {}));
      const started = saved(
        await store.write({ id: "a", mutate: changeTimer({ action: "start" }, {}) }),
      );
      assert.deepEqual(started.timer, {
        running: true,
        elapsedMs: 0,
        at: new Date(clock.now()).toISOString(),
        direction: "up",
      });
      clock.advance(61_000);
      const scored = saved(await store.write({ id: "a", mutate: goal("Okafor") }));
      assert.equal(scored.version, started.version + 1);
      assert.equal(scored.home.score, 3, "the points are in the same change");
      assert.deepEqual(scored.events, [{
        id: 1,
        kind: "goal",
        side: "home",
        points: 1,
        text: "Okafor",
        elapsedMs: 61_000,
        version: scored.version,
        time: scored.updatedAt,
      }]);
      assert.equal(scored.lastEventId, 1);
      assert.deepEqual(await store.get("a"), scored, "stored exactly as answered");
      assert.deepEqual(
        seen.map((c) => c.version),
        [started.version - 1, started.version, scored.version],
        "one change each",
      );
      const { changes } = await store.resume(started.version, gameScope("a")) as {
        changes: Change[];
      };
      assert.deepEqual(changes, [{ type: "update", version: scored.version, game: scored }]);
      await store.close();
    },
  );

  test(
    "removing an event takes its points back; ids are never reused, not even after the last event went",
    async (h, clock) => {
      const store = await h.open(clock);
      await put(store, "a", replaceGame(game(0, 0), {}));
      await store.write({ id: "a", mutate: goal("one") });
      await store.write({ id: "a", mutate: goal("two", "away") });
      const first = saved(await store.write({ id: "a", mutate: removeEvent(1, {}) }));
      assert.deepEqual([first.home.score, first.away.score], [0, 1]);
      assert.deepEqual(first.events?.map((e) => e.id), [2]);
      const empty = saved(await store.write({ id: "a", mutate: removeEvent(2, {}) }));
      assert.equal(empty.events, undefined, "an empty timeline is left out");
      assert.equal(empty.lastEventId, 2);
      const missing = await store.write({ id: "a", mutate: removeEvent(2, {}) });
      assert.equal(missing.kind === "rejected" && missing.rejection.code, "not_found");
      const next = saved(await store.write({ id: "a", mutate: goal("three") }));
      assert.deepEqual(next.events?.map((e) => e.id), [3]);
      await store.close();
    },
  );

  test(
    "a start of a running timer changes nothing: no version, no listener call, its answer recorded under its key",
    async (h, clock) => {
      const store = await h.open(clock);
      await put(store, "a");
      const started = saved(
        await store.write({ id: "a", mutate: changeTimer({ action: "start" }, {}) }),
      );
      let calls = 0;
      store.onCommit(() => calls++);
      clock.advance(5_000);
      const key: IdempotencyKey = { scope: "scorer", key: "start-again" };
      assert.deepEqual(await store.claim(key, "fp"), { kind: "new" });
      const again = await store.write({
        id: "a",
        mutate: changeTimer({ action: "start" }, {}),
        idempotency: { key, fingerprint: "fp" },
      });
      assert.deepEqual(again, { kind: "unchanged", game: started });
      const stop = await store.write({ id: "a", mutate: changeTimer({ action: "stop" }, {}) });
      assert.equal(saved(stop).timer?.elapsedMs, 5_000);
      assert.equal(calls, 1, "only the stop was a change");
      assert.deepEqual(await store.claim(key, "fp"), { kind: "replay", outcome: again });
      const stopAgain = await store.write({ id: "a", mutate: changeTimer({ action: "stop" }, {}) });
      assert.equal(stopAgain.kind, "unchanged");
      assert.equal((await store.snapshot()).version, saved(stop).version);
      await store.close();
    },
  );

  test(
    "a PUT keeps the timeline and its counter, and a timer written back unchanged keeps its at",
    async (h, clock) => {
      const store = await h.open(clock);
      await put(store, "a");
      await store.write({ id: "a", mutate: changeTimer({ action: "start" }, {}) });
      const scored = saved(await store.write({ id: "a", mutate: goal("Okafor") }));
      clock.advance(30_000);
      const { id: _id, version: _v, updatedAt: _u, ...back } = scored;
      const input = validate(gameInputSchema, { ...back, title: "Renamed" });
      if (!input.ok) throw new Error(JSON.stringify(input.errors));
      const replaced = saved(await store.write({ id: "a", mutate: replaceGame(input.value, {}) }));
      assert.equal(replaced.title, "Renamed");
      assert.deepEqual(replaced.events, scored.events);
      assert.equal(replaced.lastEventId, 1);
      assert.deepEqual(replaced.timer, scored.timer, "the running timer did not jump");
      await store.close();
    },
  );

  test(
    "the 501st event is refused as timeline_full, and 500 concurrent events get ids 1 to 500",
    async (h, clock) => {
      const store = await h.open(clock);
      await put(store, "a");
      const outcomes = await Promise.all(
        Array.from(
          { length: MAX_EVENTS },
          (_, i) =>
            store.write({ id: "a", mutate: addEvent(event({ kind: "note", text: `n${i}` }), {}) }),
        ),
      );
      assert.ok(outcomes.every((o) => o.kind === "saved"));
      const full = (await store.get("a"))!;
      assert.deepEqual(full.events?.map((e) => e.id), Array.from({ length: 500 }, (_, i) => i + 1));
      const refused = await store.write({ id: "a", mutate: goal("too many") });
      assert.equal(refused.kind === "rejected" && refused.rejection.code, "timeline_full");
      assert.deepEqual(await store.get("a"), full, "nothing changed");
      await store.close();
    },
  );

  test(
    "events, their points and the event counter survive a restart, and a key retried after it adds nothing",
    async (h, clock) => {
      const store = await h.open(clock);
      await put(store, "a");
      const key: IdempotencyKey = { scope: "scorer", key: "goal-1" };
      await store.claim(key, "fp");
      const first = await store.write({
        id: "a",
        mutate: goal("Okafor"),
        idempotency: { key, fingerprint: "fp" },
      });
      await store.write({ id: "a", mutate: goal("Mensah") });
      await store.write({ id: "a", mutate: removeEvent(2, {}) });
      const before = await store.get("a");
      await store.close();
      clock.advance(1);
      const again = await h.open(clock);
      if (h.persistent) {
        assert.deepEqual(await again.get("a"), before);
        assert.deepEqual(await again.claim(key, "fp"), { kind: "replay", outcome: first });
        const next = saved(await again.write({ id: "a", mutate: goal("Diallo") }));
        assert.deepEqual(next.events?.map((e) => e.id), [1, 3], "the counter went on from 2");
        assert.equal(next.home.score, 2);
      }
      await again.close();
    },
  );
}
