/**
 * The floor: the least a `Deno.serve` server can do to fan a change out over SSE, WebSocket and
 * long polling, so the benchmark can tell what Deno itself costs per delivery from what Scoreline
 * adds (issue 16). It speaks Scoreline's wire format (same routes, same messages, same sizes) so
 * the same load generator reads it:
 *
 * - SSE: one `ReadableStream` per viewer; each change is framed and encoded once and the same
 *   bytes are enqueued to every controller.
 * - WebSocket: `Deno.upgradeWebSocket`; each change is one string, `send` to every socket.
 * - Long polling: a waiting poll is a pending Response; a change answers every waiter with one
 *   shared body. A poll whose `since` is behind is answered at once with the latest state. One
 *   shared one-second sweep answers 204 to polls past their `timeout` (no timer per waiter).
 * - Writes: `PUT /api/games/{id}` and `POST /api/games/{id}/score` as Scoreline's, answered after
 *   the fan-out (as Scoreline's write is), with the version in the ETag.
 *
 * Deliberately left out, because each is something Scoreline pays for and the floor must not:
 * authentication (the bearer token is not checked), input validation, durability (state lives in
 * a Map), resume by cursor (a reconnecting viewer gets the current state), conflation and any
 * bound on a slow viewer's queue (a stuck viewer's queue grows without end), caps on feeds,
 * heartbeats, logs, metrics, CORS, problem+json errors and graceful shutdown. Never deploy it.
 *
 * With `BARE_CONTRACT=1` (the `bare-contract` peer) it also does what the contract and Scoreline's
 * documented behaviour ask of every feed answer that Deno charges for per request, and nothing
 * more: the headers Scoreline's answers carry (the request id, echoed or made, `nosniff`, the two
 * CORS headers, the streams' `no-transform` and `X-Accel-Buffering`) and a long poll's departure
 * noticed through `request.signal` (Deno tells it in no other way). What Scoreline spends beyond
 * that floor is its own work; what the floor spends beyond `bare` is Deno's price for the
 * contract (README, "The bare floor").
 *
 *   PORT=0 deno run --allow-net --allow-env bench/peers/bare_deno.ts
 */

interface Game {
  id: string;
  home: { name: string; score: number };
  away: { name: string; score: number };
  version: number;
  updatedAt: string;
  [field: string]: unknown;
}

class Waiter {
  /** Whether the client left (contract mode: `request.signal` said so). */
  gone = false;
  constructor(
    readonly resolve: (response: Response) => void,
    readonly deadline: number,
    /** Contract mode: the request's own headers (`common`). */
    readonly common: Record<string, string> | null,
  ) {}

  /** The abort listener: answered (Deno drops it), so the handler's promise does not stay open. */
  handleEvent(): void {
    this.gone = true;
    this.resolve(new Response(null, { status: 204 }));
  }
}

/** One game and everyone watching it, with the current state in each wire format. */
interface Channel {
  game: Game | null;
  sse: Set<ReadableStreamDefaultController<Uint8Array>>;
  ws: Set<WebSocket>;
  polls: Waiter[];
  /** `{"type":"snapshot",...}`: what a new viewer and a behind poll get. */
  snapshotJson: string;
  snapshotSse: Uint8Array<ArrayBuffer>;
  pollBody: Uint8Array<ArrayBuffer>;
}

const encoder = new TextEncoder();
const channels = new Map<string, Channel>();
// Microseconds, like Scoreline's versions, so every message has the same size.
let version = Date.now() * 1000;

const CONTRACT = Deno.env.get("BARE_CONTRACT") === "1";
const SSE_HEADERS: Record<string, string> = CONTRACT
  ? {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
  }
  : { "content-type": "text/event-stream", "cache-control": "no-cache" };
const POLL_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };
const NO_CHANGE_HEADERS = { "cache-control": "no-store" };
/** Scoreline's request ids: an incoming one of this shape is echoed (http/request_log.ts). */
const SANE_ID = /^[A-Za-z0-9._:@/+=~-]{1,128}$/;
/** Every feed answer's headers beyond its transport's, in contract mode: Scoreline's values. */
function common(request: Request): Record<string, string> {
  const incoming = request.headers.get("x-request-id");
  return {
    "x-request-id": incoming !== null && SANE_ID.test(incoming) ? incoming : crypto.randomUUID(),
    "x-content-type-options": "nosniff",
    "access-control-allow-origin": "*",
    "access-control-expose-headers":
      "ETag, Location, Retry-After, Idempotent-Replayed, X-Request-Id",
  };
}
const ROUTE = /^\/api\/games\/([a-z0-9-]+)(?:\/(events|ws|poll|score))?$/;

function channelOf(id: string): Channel {
  let channel = channels.get(id);
  if (!channel) {
    channel = {
      game: null,
      sse: new Set(),
      ws: new Set(),
      polls: [],
      snapshotJson: "",
      snapshotSse: new Uint8Array(0),
      pollBody: new Uint8Array(0),
    };
    channels.set(id, channel);
  }
  return channel;
}

/** A new state: encoded once per format, then the same bytes to every viewer. */
function publish(channel: Channel, game: Game): string {
  game.version = ++version;
  game.updatedAt = new Date().toISOString();
  channel.game = game;
  const gameJson = JSON.stringify(game);
  const update = `{"type":"update","version":${game.version},"game":${gameJson}}`;
  channel.snapshotJson = `{"type":"snapshot","version":${game.version},"game":${gameJson}}`;
  channel.snapshotSse = encoder.encode(
    `event: snapshot\nid: ${game.version}\ndata: ${channel.snapshotJson}\n\n`,
  );
  channel.pollBody = encoder.encode(`{"cursor":${game.version},"messages":[${update}]}`);
  const sse = encoder.encode(`event: update\nid: ${game.version}\ndata: ${update}\n\n`);
  for (const controller of channel.sse) controller.enqueue(sse);
  for (const socket of channel.ws) socket.send(update);
  const waiters = channel.polls;
  channel.polls = [];
  for (const waiter of waiters) {
    if (waiter.gone) continue;
    const headers = waiter.common ? { ...POLL_HEADERS, ...waiter.common } : POLL_HEADERS;
    waiter.resolve(new Response(channel.pollBody, { headers }));
  }
  return gameJson;
}

function written(gameJson: string, game: Game, status = 200): Response {
  return new Response(gameJson, {
    status,
    headers: { "content-type": "application/json", etag: `"${game.version}"` },
  });
}

function sse(channel: Channel, request: Request): Response {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      if (channel.game) c.enqueue(channel.snapshotSse);
      channel.sse.add(c);
    },
    cancel() {
      channel.sse.delete(controller);
    },
  });
  return new Response(body, {
    headers: CONTRACT ? { ...SSE_HEADERS, ...common(request) } : SSE_HEADERS,
  });
}

function ws(channel: Channel, request: Request): Response {
  // Read before the upgrade: read after it, the handshake was never answered (checked).
  const headers = CONTRACT ? common(request) : null;
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.onopen = () => {
    if (channel.game) socket.send(channel.snapshotJson);
    channel.ws.add(socket);
  };
  socket.onclose = () => channel.ws.delete(socket);
  if (headers) { for (const name in headers) response.headers.set(name, headers[name]!); }
  return response;
}

/**
 * A query parameter's raw value, or null. Enough for `since` and `timeout`; URLSearchParams costs
 * an op into Rust per request (about 5 µs a poll in a profile), more than the rest of a poll here.
 */
function param(query: string, name: string): string | null {
  for (const pair of query.split("&")) {
    if (pair.length > name.length && pair[name.length] === "=" && pair.startsWith(name)) {
      return pair.slice(name.length + 1);
    }
  }
  return null;
}

function poll(channel: Channel, request: Request, query: string): Response | Promise<Response> {
  const since = param(query, "since");
  const mine = CONTRACT ? common(request) : null;
  if (channel.game && (since === null || Number(since) < channel.game.version)) {
    return new Response(channel.pollBody, {
      headers: mine ? { ...POLL_HEADERS, ...mine } : POLL_HEADERS,
    });
  }
  const timeout = Number(param(query, "timeout") ?? 25);
  return new Promise((resolve) => {
    const waiter = new Waiter(resolve, Date.now() + timeout * 1000, mine);
    channel.polls.push(waiter);
    // Scoreline frees a departed poll's slot at once; the signal is how Deno tells it.
    if (CONTRACT) request.signal.addEventListener("abort", waiter, { once: true });
  });
}

/** Polls past their timeout get 204; one sweep a second for every channel. */
function expirePolls(): void {
  const now = Date.now();
  for (const channel of channels.values()) {
    if (channel.polls.length === 0 || channel.polls[0]!.deadline > now) continue;
    const keep: Waiter[] = [];
    for (const waiter of channel.polls) {
      if (waiter.gone) continue;
      if (waiter.deadline > now) {
        keep.push(waiter);
        continue;
      }
      const headers = waiter.common ? { ...NO_CHANGE_HEADERS, ...waiter.common } : undefined;
      waiter.resolve(new Response(null, { status: 204, headers }));
    }
    channel.polls = keep;
  }
}

async function handle(request: Request): Promise<Response> {
  const url = request.url;
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const q = url.indexOf("?", pathStart);
  const match = ROUTE.exec(url.slice(pathStart, q < 0 ? undefined : q));
  if (!match) return new Response("not found", { status: 404 });
  const channel = channelOf(match[1]!);
  const method = request.method;
  switch (match[2]) {
    case "events":
      return sse(channel, request);
    case "ws":
      return ws(channel, request);
    case "poll":
      return poll(channel, request, q < 0 ? "" : url.slice(q + 1));
    case "score": {
      const game = channel.game;
      if (method !== "POST" || !game) return new Response("not found", { status: 404 });
      const { side, points } = await request.json();
      (side === "away" ? game.away : game.home).score += points;
      return written(publish(channel, game), game);
    }
    default: {
      if (method !== "PUT") return new Response("not found", { status: 404 });
      const created = channel.game === null;
      const game = { ...(await request.json()), id: match[1]! } as Game;
      return written(publish(channel, game), game, created ? 201 : 200);
    }
  }
}

/**
 * Serves the floor on 127.0.0.1:`port` until `stop`. Exported for the profilers that run it in
 * their own process (bench/in_process.ts); run as a script, it serves on $PORT.
 */
export function serveFloor(port: number): { port: number; stop(): Promise<void> } {
  const sweep = setInterval(expirePolls, 1000);
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port,
    // Scoreline's backlog: with Deno's default of 511, 10,000 viewers connecting at once overflow
    // it and the kernel's SYN retries (1, 3, 7 s), not the server, would set the connect time.
    tcpBacklog: 4096,
    onListen: () => {},
  }, handle);
  return {
    port: server.addr.port,
    async stop() {
      clearInterval(sweep);
      await server.shutdown();
    },
  };
}

if (import.meta.main) {
  // Exit on SIGTERM (the benchmark's stop) rather than die of it, so `--cpu-prof` is written.
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  const { port } = serveFloor(Number(Deno.env.get("PORT") ?? 0));
  console.log(`listening on ${port}`);
}
