/**
 * HTTP by hand over TCP, for what fetch will not send: control bytes in headers, broken request
 * lines, bodies that stop half way. Every exchange has a time limit that only turns a hang into a
 * failure; tests never wait on it otherwise.
 */

export interface RawAnswer {
  /** The status line's code; null when the server closed without answering. */
  status: number | null;
  /** The head (status line and headers) as Latin-1 text. */
  head: string;
  body: Uint8Array;
  /** True when the time limit ran out before the server closed the connection. */
  hung: boolean;
}

/** Latin-1 text to bytes, one byte per character, so any byte can be written in a string. */
export function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0) & 0xff);
}

/**
 * Reads from a connection until `enough(bytes)` says so, the server closes or resets it, or
 * `guardMs` passes (then `hung`, and the connection is closed).
 */
async function readUntil(
  conn: Deno.Conn,
  enough: (bytes: Uint8Array) => boolean,
  guardMs: number,
): Promise<{ bytes: Uint8Array; hung: boolean }> {
  let bytes = new Uint8Array();
  let hung = false;
  const guard = setTimeout(() => {
    hung = true;
    conn.close();
  }, guardMs);
  const buffer = new Uint8Array(64 * 1024);
  try {
    while (!enough(bytes)) {
      const n = await conn.read(buffer);
      if (n === null) break;
      const more = new Uint8Array(bytes.length + n);
      more.set(bytes);
      more.set(buffer.subarray(0, n), bytes.length);
      bytes = more;
    }
  } catch {
    // Reset by the server, or closed by the guard: either way the exchange is over.
  } finally {
    clearTimeout(guard);
  }
  return { bytes, hung };
}

/** Reads a connection until the server closes it (or resets it), or until `guardMs` passes. */
export function readToEnd(
  conn: Deno.Conn,
  guardMs = 10_000,
): Promise<{ bytes: Uint8Array; hung: boolean }> {
  return readUntil(conn, () => false, guardMs);
}

/**
 * Reads one answer with a Content-Length, leaving the connection open: for a server that answers
 * but keeps the connection (Deno does, while the request's own body is unfinished).
 */
export async function readResponse(conn: Deno.Conn, guardMs = 10_000): Promise<RawAnswer> {
  const complete = (bytes: Uint8Array) => {
    const answer = parseAnswer(bytes, false);
    const length = Number(headerOf(answer.head, "content-length") ?? NaN);
    return answer.status !== null && answer.body.length >= length;
  };
  const { bytes, hung } = await readUntil(conn, complete, guardMs);
  return parseAnswer(bytes, hung);
}

/** Splits what a server sent into its status, head and body. */
export function parseAnswer(bytes: Uint8Array, hung: boolean): RawAnswer {
  const text = new TextDecoder("latin1").decode(bytes);
  const end = text.indexOf("\r\n\r\n");
  const head = end < 0 ? text : text.slice(0, end);
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
  return {
    status: status ? Number(status) : null,
    head,
    body: end < 0 ? new Uint8Array() : bytes.slice(end + 4),
    hung,
  };
}

/** One request's bytes on a fresh connection; the answer once the server closes it. */
export async function rawExchange(
  port: number,
  request: Uint8Array,
  guardMs = 10_000,
): Promise<RawAnswer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(request);
  } catch {
    // The server may refuse and close before taking all of it; read what it said.
  }
  const answer = await readAnswer(conn, guardMs);
  try {
    conn.close();
  } catch {
    // Already closed by the guard.
  }
  return answer;
}

/** A header's value in a raw head, or null. */
export function headerOf(head: string, name: string): string | null {
  const match = new RegExp(`^${name}:[ \\t]*(.*)$`, "im").exec(head);
  return match ? match[1]!.trim() : null;
}

/** Reads the server's answer on an open connection, to the server's close. */
export async function readAnswer(conn: Deno.Conn, guardMs = 10_000): Promise<RawAnswer> {
  const { bytes, hung } = await readToEnd(conn, guardMs);
  return parseAnswer(bytes, hung);
}

/**
 * A feed (or any GET) opened by hand: the request, then its answer's head, the connection left
 * open with the rest unread, as a viewer that stopped reading leaves it. `rest` is what came
 * after the head in the same read.
 */
export async function openRawFeed(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ conn: Deno.TcpConn; status: number; head: string; rest: Uint8Array }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  await writeAll(conn, latin1(`GET ${path} HTTP/1.1\r\nHost: t\r\n${lines}\r\n`));
  const headEnd = (bytes: Uint8Array) =>
    new TextDecoder("latin1").decode(bytes).includes("\r\n\r\n");
  const { bytes } = await readUntil(conn, headEnd, 10_000);
  const answer = parseAnswer(bytes, false);
  return { conn, status: answer.status ?? 0, head: answer.head, rest: answer.body };
}

/** Conn.write may take only part of what it is given: this writes all of it. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}
