/**
 * Reading a JSON request body safely: the media type first (Hono's validator would quietly yield
 * `{}` for a wrong one), then at most 16 KiB however the client frames it, within a deadline,
 * then strict UTF-8 and JSON. Each failure is its own status, so a client knows which part of its
 * request to fix.
 */
import type { Clock } from "../core/clock.ts";
import { HttpProblem } from "./problem.ts";

export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The whole body must arrive within this long once reading starts. A body dribbled a byte at a
 * time (slowloris on the body) would otherwise hold its connection and its request for as long as
 * it likes. 16 KiB in 10 s is 13 kbit/s: a phone on 2G still makes it, and a real write body is
 * under 1 KiB.
 */
export const BODY_TIMEOUT_MS = 10_000;

const JSON_TYPES = ["application/json", "application/merge-patch+json"];

export interface JsonBody {
  /** The body exactly as received: an idempotent retry is compared on it. */
  text: string;
  value: unknown;
}

export interface BodyOptions {
  /** Where the deadline's timer comes from (injected, so tests need not wait 10 s). */
  clock: Clock;
  limit?: number;
  timeoutMs?: number;
}

export async function readJsonBody(request: Request, options: BodyOptions): Promise<JsonBody> {
  const limit = options.limit ?? MAX_BODY_BYTES;
  await requireMediaType(request, JSON_TYPES);
  await refuseDeclaredOver(request, limit);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of bodyChunks(request, options.clock, options.timeoutMs)) {
    total += chunk.byteLength;
    if (total > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(concat(chunks, total));
  } catch {
    throw new HttpProblem("malformed-json", "the request body is not valid UTF-8");
  }
  if (text.trim() === "") throw new HttpProblem("malformed-json", "the request body is empty");
  try {
    return { text, value: JSON.parse(text) };
  } catch (error) {
    const reason = error instanceof SyntaxError ? `: ${error.message.slice(0, 200)}` : "";
    throw new HttpProblem("malformed-json", `the request body is not well-formed JSON${reason}`);
  }
}

/**
 * 415 unless the request's media type is one of `types` (in UTF-8, when a charset is given).
 * The body is cancelled first, so a refused upload is not read.
 */
export async function requireMediaType(request: Request, types: readonly string[]): Promise<void> {
  const contentType = request.headers.get("content-type") ?? "";
  const [mediaType = "", ...params] = contentType.split(";").map((part) =>
    part.trim().toLowerCase()
  );
  if (!types.includes(mediaType)) {
    await request.body?.cancel();
    const got = contentType ? `, not ${contentType.slice(0, 100)}` : " (none was sent)";
    throw new HttpProblem("unsupported-media-type", `Content-Type must be ${types[0]}${got}`);
  }
  const charset = params.find((p) => p.startsWith("charset="))?.slice(8).replace(/"/g, "");
  if (charset !== undefined && charset !== "utf-8") {
    await request.body?.cancel();
    throw new HttpProblem("unsupported-media-type", "Content-Type: the charset must be utf-8");
  }
}

/** 413 at once when the declared Content-Length is over the limit, before a byte is read. */
export async function refuseDeclaredOver(request: Request, limit: number): Promise<void> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > limit) {
    await request.body?.cancel();
    throw tooLarge(limit);
  }
}

/**
 * The body's chunks as they arrive, until `timeoutMs` has passed since the first read, however
 * steadily bytes are still trickling (slowloris on the body): then 408. A client that goes away
 * mid-body is a 400. Stopping early (a limit) cancels the rest of the body.
 */
export async function* bodyChunks(
  request: Request,
  clock: Clock,
  timeoutMs = BODY_TIMEOUT_MS,
): AsyncGenerator<Uint8Array> {
  if (!request.body) return;
  const reader = request.body.getReader();
  let expire!: (problem: HttpProblem) => void;
  const expired = new Promise<never>((_, reject) => (expire = reject));
  const stop = clock.every(timeoutMs, () => expire(timedOut(timeoutMs)));
  let done = false;
  try {
    while (!done) {
      const read = await Promise.race([reader.read(), expired]).catch((error) => {
        if (error instanceof HttpProblem) throw error;
        // The client went away mid-body: its problem, not ours, and not worth an error log line
        // each time a scorer's phone loses signal.
        throw new HttpProblem("incomplete-body", "the connection broke before the body arrived");
      });
      done = read.done;
      if (!read.done) yield read.value;
    }
  } finally {
    stop();
    if (!done) await reader.cancel().catch(() => {});
  }
}

/** Chunks joined into one array of `total` bytes. */
export function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

export function tooLarge(limit: number, what = "the request body"): HttpProblem {
  return new HttpProblem("payload-too-large", `${what} is larger than ${limit} bytes`);
}

function timedOut(timeoutMs: number): HttpProblem {
  // `Connection: close`, as RFC 9110 asks with a 408: the rest of the body may still be coming,
  // and the connection is not worth keeping for a client this slow.
  return new HttpProblem(
    "request-timeout",
    `the request body did not arrive within ${timeoutMs / 1000} s`,
    { headers: { connection: "close" } },
  );
}
