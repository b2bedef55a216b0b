/**
 * Reading an NDJSON request body (an import) line by line as it arrives, so that a season's worth
 * of games is never held twice and a hostile body is refused as early as it can be: past the
 * total limit at once (413), a line past its own limit without keeping it, and the whole body
 * within a deadline (408), like every other body (http/body.ts).
 */
import type { Clock } from "../core/clock.ts";
import { bodyChunks, concat, refuseDeclaredOver, tooLarge } from "./body.ts";

export interface NdjsonLimits {
  /** The whole body, in bytes. */
  bodyBytes: number;
  /** One line, in bytes, without its line break. */
  lineBytes: number;
  /** The whole body must arrive within this long once reading starts. */
  timeoutMs: number;
}

/** One line: its 1-based number, and its bytes (without `\n` or `\r\n`), or null when too long. */
export interface NdjsonLine {
  number: number;
  bytes: Uint8Array | null;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * The body's lines, numbered from 1, empty ones included (so numbers match an editor's). A line
 * longer than `lineBytes` is skipped to its end and given as null, so the caller can name it.
 */
export async function* ndjsonLines(
  request: Request,
  clock: Clock,
  limits: NdjsonLimits,
): AsyncGenerator<NdjsonLine> {
  await refuseDeclaredOver(request, limits.bodyBytes);
  let number = 1;
  let parts: Uint8Array[] = [];
  let length = 0;
  let tooLong = false;
  let total = 0;
  const line = (): NdjsonLine => {
    let bytes: Uint8Array | null = null;
    if (!tooLong) {
      bytes = parts.length === 1 ? parts[0]! : concat(parts, length);
      if (bytes.at(-1) === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1);
      if (bytes.byteLength > limits.lineBytes) bytes = null;
    }
    const out = { number: number++, bytes };
    parts = [];
    length = 0;
    tooLong = false;
    return out;
  };
  for await (const chunk of bodyChunks(request, clock, limits.timeoutMs)) {
    total += chunk.byteLength;
    if (total > limits.bodyBytes) throw tooLarge(limits.bodyBytes);
    let start = 0;
    while (start < chunk.byteLength) {
      const end = chunk.indexOf(NEWLINE, start);
      const stop = end < 0 ? chunk.byteLength : end;
      if (!tooLong) {
        // `\r` before `\n` is part of the line break, not of the line's length.
        length += stop - start;
        if (length > limits.lineBytes + 1) {
          tooLong = true;
          parts = [];
        } else {
          parts.push(chunk.subarray(start, stop));
        }
      }
      if (end < 0) break;
      yield line();
      start = end + 1;
    }
  }
  if (length > 0 || tooLong) yield line();
}
