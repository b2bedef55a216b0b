/**
 * `deno task demo`: plays a few simulated live games against a running Scoreline through its
 * public write API (the match timer, goals as timeline events with their scorers, periods and
 * statuses, in one competition), so a newcomer sees the kiosk, the widget, the console and every
 * feed move within seconds. Bounded: it stops by itself after `--duration` seconds (or `--ticks`
 * minutes of play), and on Ctrl-C.
 *
 *   deno task demo --token <token>          # the token `deno task start` printed
 *   deno task demo --url http://host:8080 --token <token> --interval 0.5 --duration 120
 *
 * The token may also come from SCORELINE_TOKEN, or the first entry of SCORELINE_TOKENS (so the
 * service and the demo can share one environment). Each write carries an Idempotency-Key and is
 * retried with the same key if its answer is lost, as every client of the API should.
 */
import { parseArgs } from "node:util";
import { splitTokenEntry } from "../core/token_entries.ts";
import {
  DEMO_COMPETITION,
  DEMO_MATCHES,
  type DemoWrite,
  Match,
  seededRandom,
} from "./demo_match.ts";

export interface DemoOptions {
  url: string;
  token: string;
  /** How many of the demo matches to play (1–4). */
  games: number;
  /** Milliseconds between ticks (one minute of play each). */
  intervalMs: number;
  /** Stop after this many ticks... */
  ticks: number;
  /** ...or this many milliseconds, whichever comes first. */
  durationMs: number;
  seed: number;
  /** Where progress lines go. */
  print: (line: string) => void;
  /** Stops the demo early (Ctrl-C). */
  signal?: AbortSignal;
}

export class DemoError extends Error {}

/** Plays the demo until it is done or aborted. Resolves with the number of writes made. */
export async function runDemo(options: DemoOptions): Promise<number> {
  const { url, print, signal } = options;
  await reachable(url);
  const random = seededRandom(options.seed);
  const matches = DEMO_MATCHES.slice(0, options.games).map((plan) => new Match(plan, random));
  print(banner(options, matches.map((m) => m.plan.id)));

  let writes = 0;
  const send = async (match: Match, write: DemoWrite) => {
    await writeOnce(options, match.plan.id, write);
    writes++;
  };
  for (const match of matches) {
    // Kick-off as the demo will play it, so the boards show it for the scheduled games.
    const kickOff = new Date(Date.now() + match.plan.startsAfter * options.intervalMs);
    for (const write of match.create(kickOff.toISOString())) await send(match, write);
  }

  const started = performance.now();
  for (let tick = 1; tick <= options.ticks; tick++) {
    if (signal?.aborted || performance.now() - started >= options.durationMs) break;
    for (const match of matches) {
      for (const write of match.tick()) {
        await send(match, write);
        if (
          write.kind === "event" || write.kind === "put" ||
          write.kind === "patch" && "status" in write.body
        ) {
          const { home, away } = write.score;
          print(`  ${match.plan.id.padEnd(16)} ${write.note.padEnd(40)} ${home}–${away}`);
        }
      }
    }
    await sleep(options.intervalMs, signal);
  }
  print(`demo finished: ${writes} writes`);
  return writes;
}

async function reachable(url: string): Promise<void> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
    if (response.ok) return;
    throw new DemoError(`${url}/healthz answered ${response.status}`);
  } catch (error) {
    if (error instanceof DemoError) throw error;
    throw new DemoError(
      `cannot reach Scoreline at ${url} (${(error as Error).message}). ` +
        "Start it with `deno task start`, or pass --url.",
    );
  }
}

/** One write, retried with the same Idempotency-Key while no answer arrives or the store is busy. */
async function writeOnce(options: DemoOptions, id: string, write: DemoWrite): Promise<void> {
  const key = crypto.randomUUID();
  const path = write.kind === "event" ? `/api/games/${id}/events` : `/api/games/${id}`;
  const body = write.kind === "remove" ? undefined : JSON.stringify(write.body);
  const method = { remove: "DELETE", put: "PUT", patch: "PATCH", event: "POST" }[write.kind];
  for (let attempt = 1;; attempt++) {
    let status: number;
    let text = "";
    try {
      const response = await fetch(options.url + path, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          "idempotency-key": key,
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      if (attempt >= 3) throw new DemoError(`${method} ${path}: ${(error as Error).message}`);
      await sleep(500 * attempt);
      continue;
    }
    if (status < 300) return;
    if (write.kind === "remove" && status === 404) return; // nothing left from an earlier run
    if (status === 401 || status === 403) {
      throw new DemoError(
        `the token was refused (${status}). Use the token the service printed at start-up ` +
          "(--token, SCORELINE_TOKEN or SCORELINE_TOKENS), one that may write every game.",
      );
    }
    if ((status === 409 || status === 429 || status >= 500) && attempt < 3) {
      await sleep(500 * attempt);
      continue;
    }
    throw new DemoError(`${method} ${path} answered ${status}: ${text.slice(0, 300)}`);
  }
}

function banner(options: DemoOptions, ids: string[]): string {
  const { url } = options;
  const first = ids[0] ?? "demo-cup-final";
  const seconds = (options.intervalMs / 1000).toString();
  return [
    `Scoreline demo: ${ids.length} simulated games on ${url}, one minute of play every ` +
    `${seconds} s, for at most ${Math.round(options.durationMs / 1000)} s (Ctrl-C stops).`,
    "Watch them move:",
    `  kiosk, every game     ${url}/`,
    `  kiosk, the demo games ${url}/?competition=${DEMO_COMPETITION}`,
    `  kiosk, one game       ${url}/games/${first}`,
    `  widget in an iframe   ${url}/embed/games/${first}`,
    `  scorer console        ${url}/console#${first}`,
    `  Server-Sent Events    curl -N ${url}/api/events`,
    `  NDJSON stream         curl -N ${url}/api/stream`,
    `  long poll             curl '${url}/api/poll?timeout=25'`,
    `  WebSocket             ${url.replace(/^http/, "ws")}/api/ws`,
    `  metrics               ${url}/metrics`,
  ].join("\n");
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}

/** Reads flags and environment into options; throws DemoError with a usable message. */
/**
 * The token of the first entry of SCORELINE_TOKENS, read with the service's own entry syntax, so
 * base64 padding stays part of the token.
 */
function firstToken(tokens: string | undefined): string | undefined {
  const entry = tokens?.split(",").map((s) => s.trim()).find((s) => s !== "");
  if (entry === undefined) return undefined;
  return splitTokenEntry(entry)?.token ?? entry;
}

export function demoOptions(
  args: string[],
  env: (name: string) => string | undefined,
): Omit<DemoOptions, "print" | "signal"> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      games: { type: "string", default: String(DEMO_MATCHES.length) },
      interval: { type: "string", default: "1" },
      duration: { type: "string", default: "300" },
      ticks: { type: "string", default: "100000" },
      seed: { type: "string", default: String(Date.now() % 100_000) },
    },
    strict: true,
  });
  const number = (name: string, raw: string, min: number, max: number) => {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new DemoError(`--${name} must be a number from ${min} to ${max} (got "${raw}")`);
    }
    return value;
  };
  const url = (values.url ?? env("SCORELINE_URL") ?? `http://localhost:${env("PORT") || 8080}`)
    .replace(/\/+$/, "");
  const token = values.token ?? env("SCORELINE_TOKEN") ?? firstToken(env("SCORELINE_TOKENS"));
  if (!token) {
    throw new DemoError(
      "no token: pass --token <token> (the one `deno task start` printed), or set " +
        "SCORELINE_TOKEN or SCORELINE_TOKENS.",
    );
  }
  return {
    url,
    token,
    games: number("games", values.games, 1, DEMO_MATCHES.length),
    intervalMs: number("interval", values.interval, 0, 60) * 1000,
    durationMs: number("duration", values.duration, 1, 86_400) * 1000,
    ticks: number("ticks", values.ticks, 1, 10_000_000),
    seed: number("seed", values.seed, 0, 2 ** 31),
  };
}

if (import.meta.main) {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const options = demoOptions(Deno.args, (name) => Deno.env.get(name));
    await runDemo({ ...options, print: (line) => console.log(line), signal: stop.signal });
  } catch (error) {
    if (!(error instanceof DemoError) && !(error instanceof TypeError)) throw error;
    console.error(`demo: ${error.message}`);
    Deno.exitCode = 2;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}
