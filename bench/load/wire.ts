/**
 * The load generator's side of the wire: a minimal HTTP/1.1 response reader (head, chunked or
 * sized bodies), SSE / NDJSON framing and WebSocket frames, working on bytes. A viewer in the
 * benchmark must cost far less than a viewer in the server, so nothing here decodes a message into
 * a string or allocates per message: it finds each message's `"version":` and reads the digits.
 */

const CR = 13;
const LF = 10;

/**
 * Where a byte pattern starts in `buf[from, to)`, or -1. A plain loop: for patterns of a few
 * bytes in frames of a few hundred, it beats calling the built-in indexOf for every candidate.
 */
export function indexOfBytes(buf: Uint8Array, pattern: Uint8Array, from: number, to: number) {
  const first = pattern[0]!;
  const last = to - pattern.length;
  outer: for (let i = from; i <= last; i++) {
    if (buf[i] !== first) continue;
    for (let k = 1; k < pattern.length; k++) if (buf[i + k] !== pattern[k]) continue outer;
    return i;
  }
  return -1;
}

// Without their opening quote, so that the first byte is a rare one (not the quote every JSON
// string starts with); the quote is checked before each match.
const TYPE = new TextEncoder().encode('type":"');
const VERSION = new TextEncoder().encode('version":');
const ID_LINE = new TextEncoder().encode("id:");
const QUOTE = 34;

/** A key pattern (see TYPE) that really is a key: preceded by its opening quote. */
function findKey(buf: Uint8Array, key: Uint8Array, from: number, to: number): number {
  for (let at = from; at < to;) {
    const i = indexOfBytes(buf, key, at, to);
    if (i === -1 || (i > 0 && buf[i - 1] === QUOTE)) return i;
    at = i + 1;
  }
  return -1;
}

/**
 * Calls `found` with the version of every message in `buf[start, end)`: each `"type":"` opens a
 * message, and the first `"version":` after it is its version (a game inside the message has its
 * own `version`, which is the same number and is skipped). A ping has a type and no version.
 */
export function eachVersion(
  buf: Uint8Array,
  start: number,
  end: number,
  found: (version: number) => void,
): void {
  let at = start;
  while (at < end) {
    const type = findKey(buf, TYPE, at, end);
    if (type === -1) return;
    const nextType = findKey(buf, TYPE, type + TYPE.length, end);
    const limit = nextType === -1 ? end : nextType;
    const v = findKey(buf, VERSION, type + TYPE.length, limit);
    if (v !== -1) {
      let n = 0;
      let i = v + VERSION.length;
      while (i < limit && buf[i] === 32) i++;
      const digits = i;
      for (; i < limit; i++) {
        const d = buf[i]! - 48;
        if (d < 0 || d > 9) break;
        n = n * 10 + d;
      }
      if (i > digits) found(n);
    }
    at = limit;
  }
}

/** The value of an SSE frame's `id:` line, or null when it has none. */
export function sseId(buf: Uint8Array, start: number, end: number): string | null {
  let i = start;
  while (i < end) {
    let eol = buf.indexOf(LF, i);
    if (eol === -1 || eol > end) eol = end;
    if (eol - i >= 3 && indexOfBytes(buf, ID_LINE, i, i + 3) === i) {
      let s = i + 3;
      if (buf[s] === 32) s++;
      return new TextDecoder().decode(buf.subarray(s, eol));
    }
    i = eol + 1;
  }
  return null;
}

/** Splits a byte stream into frames ending with a delimiter ("\n\n" for SSE, "\n" for NDJSON). */
export class Framer {
  #carry = new Carry();

  constructor(
    readonly delimiter: Uint8Array,
    readonly onFrame: (buf: Uint8Array, start: number, end: number) => void,
  ) {}

  push(input: Uint8Array, start: number, end: number): void {
    let buf: Uint8Array;
    [buf, start, end] = this.#carry.join(input, start, end);
    let at = start;
    while (at < end) {
      const d = indexOfBytes(buf, this.delimiter, at, end);
      if (d === -1) break;
      if (d > at) this.onFrame(buf, at, d);
      at = d + this.delimiter.length;
    }
    if (at < end) this.#carry.keep(buf, at, end);
  }
}

/** Decodes `Transfer-Encoding: chunked`, handing the payload on as it arrives. */
export class ChunkedDecoder {
  /** Payload bytes left in the current chunk; -1 while reading a size line; -2 after a chunk. */
  #left = -1;
  #size = 0;
  #sawDigit = false;
  #inExtension = false;
  ended = false;

  constructor(readonly onData: (buf: Uint8Array, start: number, end: number) => void) {}

  push(buf: Uint8Array, start: number, end: number): void {
    let i = start;
    while (i < end && !this.ended) {
      if (this.#left > 0) {
        const take = Math.min(this.#left, end - i);
        this.onData(buf, i, i + take);
        this.#left -= take;
        i += take;
        if (this.#left === 0) this.#left = -2;
      } else if (this.#left === -2) {
        // The CRLF after a chunk's payload.
        if (buf[i] === LF) this.#left = -1;
        i++;
      } else {
        const b = buf[i++]!;
        if (b === LF) {
          if (!this.#sawDigit) continue;
          if (this.#size === 0) {
            this.ended = true;
            return;
          }
          this.#left = this.#size;
          this.#size = 0;
          this.#sawDigit = false;
          this.#inExtension = false;
        } else if (b === CR || this.#inExtension) {
          continue;
        } else if (b === 59 /* ; */) {
          this.#inExtension = true;
        } else {
          const h = hexValue(b);
          if (h < 0) throw new Error(`bad chunk size byte ${b}`);
          this.#size = this.#size * 16 + h;
          this.#sawDigit = true;
        }
      }
    }
  }
}

function hexValue(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  if (b >= 97 && b <= 102) return b - 87;
  if (b >= 65 && b <= 70) return b - 55;
  return -1;
}

export interface ResponseHead {
  status: number;
  headers: Map<string, string>;
}

const HEAD_END = new Uint8Array([CR, LF, CR, LF]);

/**
 * Collects a response head. `push` returns the index where the body starts once the head is
 * complete (the head is then in `head`), or -1 while it needs more bytes.
 */
export class HeadReader {
  #carry = new Carry();
  head: ResponseHead | null = null;
  /** The buffer the body index refers to (a copy when the head spanned reads). */
  buffer: Uint8Array = new Uint8Array(0);

  push(input: Uint8Array, start: number, end: number): number {
    let buf: Uint8Array;
    [buf, start, end] = this.#carry.join(input, start, end);
    const at = indexOfBytes(buf, HEAD_END, start, end);
    if (at === -1) {
      if (end - start > 64 * 1024) throw new Error("response head over 64 KiB");
      this.#carry.keep(buf, start, end);
      return -1;
    }
    this.head = parseHead(new TextDecoder().decode(buf.subarray(start, at)));
    this.buffer = buf;
    return at + HEAD_END.length;
  }

  reset(): void {
    this.#carry = new Carry();
    this.head = null;
  }
}

function parseHead(text: string): ResponseHead {
  const lines = text.split("\r\n");
  const status = Number(lines[0]?.split(" ")[1]);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
  }
  return { status, headers };
}

/**
 * Server-to-client WebSocket frames (never masked). Text frames go to `onText`; a ping is
 * answered through `pong`; a close frame ends the reader.
 */
export class WsReader {
  #carry = new Carry();
  closed = false;

  constructor(
    readonly onText: (buf: Uint8Array, start: number, end: number) => void,
    readonly pong: (payload: Uint8Array) => void,
  ) {}

  push(input: Uint8Array, start: number, end: number): void {
    let buf: Uint8Array;
    [buf, start, end] = this.#carry.join(input, start, end);
    let i = start;
    while (i < end && !this.closed) {
      if (end - i < 2) break;
      const opcode = buf[i]! & 0x0f;
      let len = buf[i + 1]! & 0x7f;
      let h = 2;
      if (len === 126) {
        if (end - i < 4) break;
        len = (buf[i + 2]! << 8) | buf[i + 3]!;
        h = 4;
      } else if (len === 127) {
        if (end - i < 10) break;
        len = 0;
        for (let k = 2; k < 10; k++) len = len * 256 + buf[i + k]!;
        h = 10;
      }
      if (end - i < h + len) break;
      const s = i + h;
      if (opcode === 1 || opcode === 0) this.onText(buf, s, s + len);
      else if (opcode === 9) this.pong(buf.slice(s, s + len));
      else if (opcode === 8) this.closed = true;
      i = s + len;
    }
    if (i < end && !this.closed) this.#carry.keep(buf, i, end);
  }
}

/** A client frame: masked (with a zero key, which RFC 6455 allows), for pongs and closes. */
export function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(6 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | payload.length;
  frame.set(payload, 6);
  return frame;
}

/**
 * What a parser could not use yet (a frame cut by the end of a read), copied out of the shared
 * receive buffer and put in front of the next read.
 */
class Carry {
  #bytes: Uint8Array | null = null;

  keep(buf: Uint8Array, start: number, end: number): void {
    this.#bytes = buf.slice(start, end);
  }

  /** The bytes to parse now: what was kept, then `input[start, end)`. */
  join(input: Uint8Array, start: number, end: number): [Uint8Array, number, number] {
    const kept = this.#bytes;
    if (!kept) return [input, start, end];
    this.#bytes = null;
    const out = new Uint8Array(kept.length + end - start);
    out.set(kept, 0);
    out.set(input.subarray(start, end), kept.length);
    return [out, 0, out.length];
  }
}
