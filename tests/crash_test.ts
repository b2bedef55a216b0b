/**
 * Crash safety: four clients score goals, each with its own Idempotency-Key, while the real
 * main.ts (SQLite in a temp dir) is killed at random moments, restarted and written to again,
 * ten times over; once with SIGKILL, once with SIGTERM, and once with SIGKILL on the Redis store.
 * A client that got no answer retries after the restart with the same key, as a real scorer's app
 * would. A goal is either a `POST .../score` or a timeline event with a point
 * (`POST .../events`, its key as its text), so an event and its points are held to the same rule.
 *
 * "Applied twice" and "lost" are both observable: each client alone scores on its own game, one
 * goal per key, so the score in every answer must equal the number of that client's goals so far,
 * exactly. A goal applied twice shows as one too many; an acknowledged goal lost shows as one too
 * few in a later answer. A shared game, scored by every client, must end at the number of keys
 * sent to it. The moments of the kills come from a seed (printed; CRASH_SEED replays it).
 */
import assert from "node:assert/strict";
import { skipWithout } from "./support/binaries.ts";
import { type Child, spawnMain } from "./support/process.ts";
import { Random, runSeed } from "./support/random.ts";
import { startRedis } from "./support/redis.ts";
import { CLAIM_TTL_MS } from "../store/redis.ts";

const TOKEN = "crash-test-token-00000";
const CLIENTS = 4;
const CYCLES = 10;
/** On Redis each restart also waits out the claims the killed instance held: fewer cycles. */
const REDIS_CYCLES = 5;
/** A request that takes this long on a live instance is a hang, not a crash: the test fails. */
const HANG_MS = 15_000;

interface Goal {
  key: string;
  client: number;
  /** The client's own game, or the shared one. */
  game: string;
  /** How many goals of this client on its own game, this one included (own-game goals only). */
  ownCount: number | null;
  /** A score write, or a timeline event carrying the point. */
  route: "score" | "events";
}

interface Answered extends Goal {
  version: number;
  score: number;
  replayed: boolean;
  /** Attempts that got no answer (the instance died under them) before this one answered. */
  retries: number;
  /** The version of an answer the service sent but the client never saw (lost in the crash). */
  lostVersion?: number;
}

/** The instances, one after another: clients wait here for the next one when theirs died. */
class Instances {
  #current: { generation: number; child: Child } | undefined;
  #waiting: (() => void)[] = [];
  generation = 0;

  get current() {
    return this.#current;
  }

  up(child: Child): void {
    this.#current = { generation: ++this.generation, child };
    for (const wake of this.#waiting.splice(0)) wake();
  }

  down(): void {
    this.#current = undefined;
  }

  /** Resolves with an instance newer than `generation`. */
  async after(generation: number) {
    while (!this.#current || this.#current.generation <= generation) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    return this.#current;
  }
}

const crowd = "crowd";
const own = (client: number) => `team-${client}`;
const headers = (key: string) => ({
  authorization: `Bearer ${TOKEN}`,
  "content-type": "application/json",
  "idempotency-key": key,
});

/**
 * Sends one goal until some instance answers it, always with the same key and body. A refused
 * connection, a reset, or a 503 from a dying instance mean "no answer": wait for the next one.
 * `onAnswer` says whether this answer is lost on its way (the one that triggers a kill is: the
 * process dies with the answer on the wire), which leaves the client to retry, as if unanswered.
 */
async function score(
  instances: Instances,
  goal: Goal,
  onAnswer: () => "seen" | "lost",
): Promise<Answered> {
  const body = goalBody(goal);
  let generation = 0;
  let lostVersion: number | undefined;
  let busySince: number | undefined;
  for (let retries = 0;; retries++) {
    const instance = await instances.after(generation);
    generation = instance.generation;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${instance.child.url}/api/games/${goal.game}/${goal.route}`, {
        method: "POST",
        headers: headers(goal.key),
        body,
        signal: AbortSignal.timeout(HANG_MS),
      });
      text = await response.text();
    } catch (error) {
      if ((error as Error).name === "TimeoutError") {
        throw new Error(`${goal.key}: no answer within ${HANG_MS} ms from a live instance`);
      }
      continue; // the instance died under this request: not acknowledged
    }
    if (response.status === 503) continue; // shutting down: refused, nothing changed
    if (response.status === 409) {
      // Redis keeps the claim a killed instance held on this key until it lapses (CLAIM_TTL_MS):
      // until then the key is "in progress", and the client retries as Retry-After says, on this
      // same instance. Nothing announces the lapse, so this is a bounded poll.
      busySince ??= performance.now();
      if (performance.now() - busySince > CLAIM_TTL_MS + HANG_MS) {
        throw new Error(`${goal.key}: still 409 long after a claim must have lapsed: ${text}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      generation = instance.generation - 1;
      continue;
    }
    assert.equal(response.status, goal.route === "events" ? 201 : 200, `${goal.key}: ${text}`);
    const game = JSON.parse(text);
    if (lostVersion === undefined && onAnswer() === "lost") {
      lostVersion = game.version;
      continue;
    }
    return {
      ...goal,
      version: game.version,
      score: goal.game === crowd ? game.away.score : game.home.score,
      replayed: response.headers.get("idempotent-replayed") === "true",
      retries,
      lostVersion,
    };
  }
}

/** A goal's request body: the same bytes on every attempt, as a retry must send. */
function goalBody(goal: Goal): string {
  const side = goal.game === crowd ? "away" : "home";
  return JSON.stringify(
    goal.route === "events"
      ? { kind: "goal", side, points: 1, text: goal.key }
      : { side, points: 1 },
  );
}

async function runCycles(
  signal: "SIGKILL" | "SIGTERM",
  seed: number,
  store: Record<string, string> = {},
  cycles = CYCLES,
) {
  // One stream for the kill schedule and one per client, so a seed replays the same schedule and
  // the same choices of game whatever the interleaving of this run.
  const schedule = new Random(seed);
  const dir = await Deno.makeTempDir({ prefix: "scoreline-crash-" });
  const env = {
    SCORELINE_DATA: `${dir}/scoreline.db`,
    SCORELINE_TOKENS: TOKEN,
    SCORELINE_WRITE_RATE: "0",
    ...store,
  };
  const instances = new Instances();
  const answered: Answered[] = [];
  let stop = false;
  let sinceStart = 0;
  let killAt = Infinity;
  let killNow: () => void = () => {};
  try {
    let child = await spawnMain(env);
    for (const game of [crowd, ...Array.from({ length: CLIENTS }, (_, i) => own(i))]) {
      const created = await fetch(`${child.url}/api/games/${game}`, {
        method: "PUT",
        headers: headers(`create-${game}`),
        body: JSON.stringify({ status: "live", home: { name: "Home" }, away: { name: "Away" } }),
      });
      assert.equal(created.status, 201, await created.text());
    }
    instances.up(child);

    const clients = Array.from({ length: CLIENTS }, async (_, client) => {
      const random = new Random(seed + client + 1);
      let ownCount = 0;
      for (let n = 0; !stop; n++) {
        const game = random.chance(0.5) ? own(client) : crowd;
        const goal: Goal = {
          key: `c${client}-${n}`,
          client,
          game,
          ownCount: game === crowd ? null : ++ownCount,
          route: random.chance(0.5) ? "events" : "score",
        };
        answered.push(
          await score(instances, goal, () => {
            if (++sinceStart < killAt) return "seen";
            killNow();
            return "lost";
          }),
        );
      }
    });

    const moments: number[] = [];
    for (let cycle = 0; cycle < cycles; cycle++) {
      // The moment: after a seeded number of answers on this instance, with writes in flight.
      killAt = schedule.int(5, 60);
      moments.push(killAt);
      await new Promise<void>((resolve) => (killNow = resolve));
      killAt = Infinity;
      instances.down();
      child.kill(signal);
      const status = await child.exited;
      if (signal === "SIGTERM") assert.equal(status.code, 0, child.lines.join("\n"));
      sinceStart = 0;
      child = await spawnMain(env);
      instances.up(child);
    }
    console.log(`${signal}: killed after ${moments.join(", ")} answers`);
    // Let every client finish the goal it is on, against the last instance.
    stop = true;
    await Promise.all(clients);
    await verify(child.url, answered, cycles);
  } finally {
    stop = true;
    const last = instances.current?.child;
    if (last) {
      last.kill("SIGTERM");
      await last.exited;
    }
    await Deno.remove(dir, { recursive: true });
  }
}

async function verify(url: string, answered: Answered[], cycles: number) {
  const retried = answered.filter((a) => a.retries > 0);
  const lost = answered.filter((a) => a.lostVersion !== undefined);
  console.log(
    `${answered.length} goals answered; ${retried.length} retried after a kill, ` +
      `${retried.filter((a) => a.replayed).length} of them replayed; ` +
      `${lost.length} answers lost in a crash`,
  );
  assert.ok(lost.length >= cycles, "every kill lost at least one answer");
  // An answer lost in the crash was durable: the retry after the restart is its replay.
  for (const goal of lost) {
    assert.ok(goal.replayed, `${goal.key} was applied before the crash, so its retry is a replay`);
    assert.equal(goal.version, goal.lostVersion, `${goal.key} replays the answer it lost`);
  }

  // Applied exactly once: every answer on a client's own game shows exactly its goals so far.
  const wrong = answered.filter((a) => a.ownCount !== null && a.score !== a.ownCount)
    .map((a) => `${a.key}: score ${a.score}, goals so far ${a.ownCount}`);
  assert.deepEqual(wrong, [], "no goal applied twice, no acknowledged goal lost");

  // No version repeats: every key's change has its own version, rising in each client's order.
  const versions = answered.map((a) => a.version);
  assert.equal(new Set(versions).size, versions.length, "every change has its own version");
  for (let client = 0; client < CLIENTS; client++) {
    const mine = answered.filter((a) => a.client === client).map((a) => a.version);
    assert.deepEqual(mine, [...mine].sort((a, b) => a - b), `client ${client}: versions rise`);
  }

  // Every acknowledged write is there, after the last restart.
  const board = await (await fetch(`${url}/api/games`)).json();
  const byId = new Map<
    string,
    { version: number; home: { score: number }; away: { score: number } }
  >(
    board.games.map((g: { id: string }) => [g.id, g]),
  );
  const crowdGoals = answered.filter((a) => a.game === crowd);
  assert.equal(byId.get(crowd)?.away.score, crowdGoals.length, "the shared game counts each once");
  for (let client = 0; client < CLIENTS; client++) {
    const goals = answered.filter((a) => a.game === own(client));
    assert.equal(byId.get(own(client))?.home.score, goals.length, `${own(client)} final score`);
  }
  for (const [id, game] of byId) {
    const last = Math.max(...answered.filter((a) => a.game === id).map((a) => a.version));
    assert.equal(game.version, last, `${id} is at the version of its last acknowledged goal`);
  }

  // Every event exactly once: each event goal's key is the text of exactly one event of its
  // game, at the version its answer gave, and ids count 1, 2, 3… in version order.
  for (const [id, game] of byId) {
    const sent = answered.filter((a) => a.game === id && a.route === "events");
    const events: { id: number; text: string; version: number; points: number }[] =
      (game as { events?: [] }).events ?? [];
    assert.deepEqual(
      events.map((e) => e.text).sort(),
      sent.map((a) => a.key).sort(),
      `${id}: every event once, and no other`,
    );
    for (const a of sent) {
      assert.equal(events.find((e) => e.text === a.key)?.version, a.version, a.key);
    }
    assert.deepEqual(events.map((e) => e.id), events.map((_, i) => i + 1), `${id}: ids 1, 2, 3…`);
  }

  // Every key, sent again now, is answered from its record: same version, nothing applied.
  for (const goal of answered) {
    const again = await fetch(`${url}/api/games/${goal.game}/${goal.route}`, {
      method: "POST",
      headers: headers(goal.key),
      body: goalBody(goal),
    });
    const game = await again.json();
    assert.equal(again.headers.get("idempotent-replayed"), "true", goal.key);
    assert.equal(game.version, goal.version, `${goal.key} replays its first answer`);
  }
  const after = await (await fetch(`${url}/api/games`)).json();
  assert.deepEqual(after, board, "replaying every key changed nothing");
}

for (const signal of ["SIGKILL", "SIGTERM"] as const) {
  Deno.test(`${signal} at ten random moments loses no acknowledged goal or event and applies no retried one twice`, async () => {
    await runCycles(signal, runSeed(`CRASH_SEED_${signal}`));
  });
}

Deno.test({
  name:
    "SIGKILL at five random moments on the Redis store loses no acknowledged goal or event and applies no retried one twice",
  ignore: skipWithout("redis-server"),
  async fn() {
    await using redis = await startRedis();
    const env = { SCORELINE_REDIS_URL: redis.url };
    await runCycles("SIGKILL", runSeed("CRASH_SEED_REDIS"), env, REDIS_CYCLES);
  },
});
