/**
 * The delta property: a long seeded random sequence of writes goes through the real service
 * while `?delta=1` viewers on every transport (all games, and one game) keep a copy of the board
 * by applying every message, each patch with an independent RFC 6902 implementation
 * (fast-json-patch). After every message, the viewer's copy of that game must equal the game the
 * service answered for that version; after every step, the whole copy must equal `GET
 * /api/games`. DELTA_SEED=<seed> replays a run, DELTA_STEPS=<n> makes it longer.
 *
 * Each kind of write is one entry of WRITES: a name, a weight, and how to make a valid request
 * from the board as it is. The match's timer and timeline writes take part wherever the service
 * documents their routes in /openapi.json (they were built in parallel with deltas).
 */
import assert from "node:assert/strict";
import { canonical, DeltaClient } from "./support/delta_client.ts";
import { call } from "./support/http.ts";
import { Random, runSeed } from "./support/random.ts";
import { startServer, type TestServer, TOKEN } from "./support/server.ts";
import {
  longPollViewer,
  type Msg,
  ndjsonViewer,
  sseViewer,
  type Viewer,
  wsViewer,
} from "./support/viewers.ts";

const STEPS = Number(Deno.env.get("DELTA_STEPS") ?? 400);
const IDS = ["g1", "g2", "g3", "g4"];
/** The game the one-game viewers watch. */
const WATCHED = "g1";
const TEXT = 'abcxyz ~/"\\é🦁';
const STATUSES = ["scheduled", "live", "break", "final", "postponed", "cancelled"];

/** The board as the writes' answers left it: what the generator draws valid requests from. */
type Board = Map<string, Msg>;

interface Request {
  id: string;
  method: string;
  path: string;
  body?: unknown;
}

interface WriteKind {
  name: string;
  weight: number;
  /** The route it needs (method and path as /openapi.json names them), where not every build has it. */
  route?: [string, string];
  /** A valid request for the board as it is, or null when this kind has none to make now. */
  make(random: Random, board: Board): Request | null;
}

const text = (random: Random, min: number, max: number) =>
  random.text(random.int(min, max), TEXT).trim() || "x";

function side(random: Random) {
  const out: Msg = { name: text(random, 1, 12), score: random.int(0, 30) };
  if (random.chance(0.4)) out.detail = text(random, 0, 10);
  return out;
}

function wholeGame(random: Random) {
  const game: Msg = { status: random.pick(STATUSES), home: side(random), away: side(random) };
  if (random.chance(0.6)) game.title = text(random, 1, 30);
  if (random.chance(0.5)) game.period = text(random, 0, 10);
  if (random.chance(0.5)) game.clock = text(random, 0, 8);
  return game;
}

const existing = (random: Random, board: Board) =>
  board.size === 0 ? null : random.pick([...board.keys()]);

/** Every kind of write of the contract that changes a game. */
const WRITES: WriteKind[] = [
  {
    name: "put (create, re-create or replace)",
    weight: 3,
    make: (random) => {
      const id = random.pick(IDS);
      return { id, method: "PUT", path: `/api/games/${id}`, body: wholeGame(random) };
    },
  },
  {
    name: "patch",
    weight: 4,
    make(random, board) {
      const id = existing(random, board);
      if (id === null) return null;
      const patch: Msg = {};
      if (random.chance(0.3)) patch.title = random.chance(0.3) ? null : text(random, 1, 30);
      if (random.chance(0.3)) patch.status = random.pick(STATUSES);
      if (random.chance(0.4)) patch.period = random.chance(0.3) ? null : text(random, 0, 10);
      if (random.chance(0.4)) patch.clock = random.chance(0.3) ? null : text(random, 0, 8);
      for (const key of ["home", "away"]) {
        if (!random.chance(0.3)) continue;
        const part: Msg = {};
        if (random.chance(0.4)) part.name = text(random, 1, 12);
        if (random.chance(0.4)) part.score = random.int(0, 30);
        if (random.chance(0.4)) part.detail = random.chance(0.4) ? null : text(random, 0, 10);
        patch[key] = part;
      }
      return { id, method: "PATCH", path: `/api/games/${id}`, body: patch };
    },
  },
  {
    name: "score",
    weight: 6,
    make(random, board) {
      const id = existing(random, board);
      if (id === null) return null;
      const which = random.pick(["home", "away"] as const);
      const score = board.get(id)[which].score as number;
      const points = score > 0 && random.chance(0.3)
        ? -random.int(1, Math.min(score, 3))
        : random.int(1, 3);
      return { id, method: "POST", path: `/api/games/${id}/score`, body: { side: which, points } };
    },
  },
  {
    name: "delete",
    weight: 1,
    make(random, board) {
      const id = existing(random, board);
      return id === null ? null : { id, method: "DELETE", path: `/api/games/${id}` };
    },
  },
  {
    name: "timer (start, stop or set; a start on a running one changes nothing)",
    weight: 2,
    route: ["post", "/api/games/{id}/timer"],
    make(random, board) {
      const id = existing(random, board);
      if (id === null) return null;
      const body = random.chance(0.3)
        ? { action: "set", elapsedMs: random.int(0, 5_400_000) }
        : { action: random.pick(["start", "stop"]) };
      return { id, method: "POST", path: `/api/games/${id}/timer`, body };
    },
  },
  {
    name: "event (a goal with its points, or a card)",
    weight: 4,
    route: ["post", "/api/games/{id}/events"],
    make(random, board) {
      const id = existing(random, board);
      if (id === null || (board.get(id).events?.length ?? 0) >= 500) return null;
      const side = random.pick(["home", "away"]);
      const body: Msg = random.chance(0.7)
        ? { kind: "goal", side, points: random.int(1, 3) }
        : { kind: "card", side };
      if (random.chance(0.5)) body.text = text(random, 1, 20);
      return { id, method: "POST", path: `/api/games/${id}/events`, body };
    },
  },
  {
    name: "undo an event (its points come off the score)",
    weight: 2,
    route: ["delete", "/api/games/{id}/events/{eventId}"],
    make(random, board) {
      const id = existing(random, board);
      if (id === null) return null;
      const game = board.get(id);
      // Only one whose points the score can give back (a correction may have lowered it).
      const undoable = (game.events ?? []).filter((e: Msg) =>
        e.points === undefined || game[e.side].score >= e.points
      );
      if (undoable.length === 0) return null;
      const event = random.pick(undoable) as Msg;
      return { id, method: "DELETE", path: `/api/games/${id}/events/${event.id}` };
    },
  },
];

/** One committed change as the service answered it: the game at that version, or its removal. */
interface Committed {
  version: number;
  id: string;
  game: Msg | null;
}

/** The kinds of write this service has: those whose route it documents. */
async function writeKinds(url: string): Promise<WriteKind[]> {
  const paths = (await call(url, "/openapi.json")).json.paths;
  const kinds = WRITES.filter((kind) => !kind.route || paths[kind.route[1]]?.[kind.route[0]]);
  console.log(`write kinds: ${kinds.map((kind) => kind.name).join("; ")}`);
  return kinds.flatMap((kind) => Array<WriteKind>(kind.weight).fill(kind));
}

async function send(url: string, request: Request): Promise<Committed> {
  const answer = await call(url, request.path, {
    method: request.method,
    token: TOKEN,
    body: request.body,
  });
  assert.ok(
    [200, 201, 204].includes(answer.status),
    `${request.method} ${request.path} ${
      JSON.stringify(request.body)
    }: ${answer.status} ${answer.text}`,
  );
  const version = Number(answer.headers.get("etag")!.replaceAll('"', ""));
  return { version, id: request.id, game: answer.status === 204 ? null : answer.json };
}

/** A viewer, the copy of the board it keeps, and the newest version it has applied. */
interface Follower {
  name: string;
  scope: string | null;
  viewer: Viewer;
  client: DeltaClient;
  version: number;
}

/**
 * Applies what a follower receives up to `target`, checking after each change that its copy of
 * that game is exactly the game the service answered for that version.
 */
async function follow(f: Follower, target: number, history: Map<number, Committed>) {
  while (f.version < target) {
    const message = await f.viewer.inbox.next();
    f.client.apply(message);
    f.version = message.version;
    if (message.type === "snapshot") continue;
    const committed = history.get(message.version);
    assert.ok(committed, `${f.name}: ${message.type} ${message.version} is a version written`);
    const id = message.type === "update" ? message.game.id : message.id;
    assert.equal(id, committed.id, `${f.name}: version ${message.version} is ${committed.id}'s`);
    assert.equal(
      canonical(f.client.games.get(id) ?? null),
      canonical(committed.game),
      `${f.name}: ${id} at ${message.version} after a ${message.type}`,
    );
  }
}

async function openFollowers(server: TestServer): Promise<Follower[]> {
  const { url } = server;
  const open: [string, string | null, () => Promise<Viewer>][] = [
    ["sse", null, () => sseViewer(`${url}/api/events?delta=1`)],
    ["ndjson", null, () => ndjsonViewer(`${url}/api/stream?delta=1`)],
    ["ws", null, () => wsViewer(`${url}/api/ws?delta=1`)],
    ["long_poll", null, () => Promise.resolve(longPollViewer(url, "/api/poll?delta=1"))],
    ["sse", WATCHED, () => sseViewer(`${url}/api/games/${WATCHED}/events?delta=1`)],
    ["ndjson", WATCHED, () => ndjsonViewer(`${url}/api/games/${WATCHED}/stream?delta=1`)],
    ["ws", WATCHED, () => wsViewer(`${url}/api/games/${WATCHED}/ws?delta=1`)],
    [
      "long_poll",
      WATCHED,
      () => Promise.resolve(longPollViewer(url, `/api/games/${WATCHED}/poll?delta=1`)),
    ],
  ];
  const followers: Follower[] = [];
  for (const [transport, scope, make] of open) {
    followers.push({
      name: `${transport} ${scope ?? "all games"}`,
      scope,
      viewer: await make(),
      client: new DeltaClient(),
      version: -1,
    });
  }
  return followers;
}

Deno.test(`delta=1 on every transport: ${STEPS} seeded random writes, every patch applied by fast-json-patch, each viewer's copy equal to the server's game at every version`, async () => {
  const random = new Random(runSeed("DELTA_SEED"));
  // A long-poll viewer polls again after every write: hundreds of new feeds a second from one
  // address, which the feed rate would rightly refuse.
  await using server = await startServer({ env: { SCORELINE_FEED_RATE: "0" } });
  const { url } = server;
  const weighted = await writeKinds(url);
  const board: Board = new Map();
  const history = new Map<number, Committed>();
  for (const id of IDS.slice(0, 2)) {
    const created = await send(url, {
      id,
      method: "PUT",
      path: `/api/games/${id}`,
      body: wholeGame(random),
    });
    board.set(id, created.game);
  }
  const followers = await openFollowers(server);
  const start = (await call(url, "/api/games")).json.version;
  for (const f of followers) await follow(f, start, history);
  const targets = new Map<string | null, number>([[null, start], [WATCHED, start]]);

  for (let step = 0; step < STEPS; step++) {
    // Mostly one write at a time; now and then a burst committed together (one batch, several
    // changes, maybe of one game: a long poll gets them as a chain of patches).
    const burst = random.chance(0.15) ? random.int(2, 4) : 1;
    const requests: Request[] = [];
    for (let tries = 0; requests.length < burst && tries < 20; tries++) {
      const request = random.pick(weighted).make(random, board);
      // A burst touches each game once, so every request in it is valid whatever the order.
      if (request && !requests.some((r) => r.id === request.id)) requests.push(request);
    }
    // A long-poll viewer between two polls has no subscription (it gets the next change whole);
    // writing while both polls are in exercises its patches too.
    await server.opened("long_poll", 2);
    const committed = await Promise.all(requests.map((request) => send(url, request)));
    for (const change of committed) {
      history.set(change.version, change);
      if (change.game) board.set(change.id, change.game);
      else board.delete(change.id);
      targets.set(null, Math.max(targets.get(null)!, change.version));
      if (change.id === WATCHED) {
        targets.set(WATCHED, Math.max(targets.get(WATCHED)!, change.version));
      }
    }
    for (const f of followers) await follow(f, targets.get(f.scope)!, history);
    const list = (await call(url, "/api/games")).json.games as Msg[];
    for (const f of followers) {
      const expected = list.filter((g) => f.scope === null || g.id === f.scope);
      assert.equal(f.client.picture(), canonical(expected), `${f.name} after step ${step}`);
    }
  }

  for (const f of followers) {
    const { patch, update } = f.client.counts;
    // Most changes reach a live viewer as patches: a form that silently fell back to whole
    // games would pass the equality checks, so it is caught here.
    assert.ok(patch > update, `${f.name}: ${patch} patches, ${update} updates`);
    await f.viewer.close();
  }
  assert.ok(server.hub.counters.patches <= history.size, "at most one patch computed per change");
});
