/**
 * WebSocket by hand over TCP, for what a WebSocket client will not send: empty frames in a
 * flood, frames of any size, and a socket that never reads what the server sends.
 */
import { openRawFeed } from "./raw_http.ts";

/** The headers of a WebSocket handshake (the key is RFC 6455's example). */
export const WS_HANDSHAKE = {
  Upgrade: "websocket",
  Connection: "Upgrade",
  "Sec-WebSocket-Version": "13",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
};

/** Opens a WebSocket by hand; `status` is 101 when it was accepted. */
export function openRawWs(port: number, path: string, headers: Record<string, string> = {}) {
  return openRawFeed(port, path, { ...WS_HANDSHAKE, ...headers });
}

/**
 * The header of a client frame of `length` bytes: masked, as clients must, with a zero key
 * (RFC 6455 allows any), so the payload goes as it is.
 */
export function maskedHeader(opcode: number, length: number): Uint8Array {
  if (length < 126) return Uint8Array.of(0x80 | opcode, 0x80 | length, 0, 0, 0, 0);
  if (length < 65536) {
    return Uint8Array.of(0x80 | opcode, 0x80 | 126, length >> 8, length & 255, 0, 0, 0, 0);
  }
  const head = new Uint8Array(14);
  head[0] = 0x80 | opcode;
  head[1] = 0x80 | 127;
  new DataView(head.buffer).setBigUint64(2, BigInt(length));
  return head;
}

/** `count` empty frames of one opcode (1 text, 2 binary, 9 ping, 10 pong) back to back. */
export function emptyFrames(opcode: number, count: number): Uint8Array {
  const frame = maskedHeader(opcode, 0);
  const out = new Uint8Array(frame.length * count);
  for (let i = 0; i < count; i++) out.set(frame, i * frame.length);
  return out;
}

/** A frame the server sent, or how the connection ended: 0 without a close frame, -1 reset. */
type ServerFrame = { opcode: number; payload: Uint8Array } | { ended: 0 | -1 };

/** The frames the server sends on a WebSocket, to the connection's end. */
async function* serverFrames(conn: Deno.Conn, first: Uint8Array): AsyncGenerator<ServerFrame> {
  let carry: Uint8Array = first;
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    let i = 0;
    while (carry.length - i >= 2) {
      const opcode = carry[i]! & 0x0f;
      let length = carry[i + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (carry.length - i < 4) break;
        length = (carry[i + 2]! << 8) | carry[i + 3]!;
        header = 4;
      } else if (length === 127) {
        if (carry.length - i < 10) break;
        length = Number(new DataView(carry.buffer, carry.byteOffset + i + 2, 8).getBigUint64(0));
        header = 10;
      }
      if (carry.length - i < header + length) break;
      yield { opcode, payload: carry.slice(i + header, i + header + length) };
      i += header + length;
    }
    carry = carry.slice(i);
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch {
      yield { ended: -1 };
      return;
    }
    if (n === null) {
      yield { ended: 0 };
      return;
    }
    const more = new Uint8Array(carry.length + n);
    more.set(carry);
    more.set(buffer.subarray(0, n), carry.length);
    carry = more;
  }
}

/** The code of a close frame's payload (1005 when it has none). */
function codeOf(payload: Uint8Array): number {
  return payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : 1005;
}

/**
 * Reads what the server sends on a WebSocket to its end; resolves with the code of its close
 * frame, 0 when the connection ended without one, -1 when it was reset.
 */
export async function closeCode(
  conn: Deno.Conn,
  first: Uint8Array = new Uint8Array(),
): Promise<number> {
  for await (const frame of serverFrames(conn, first)) {
    if ("ended" in frame) return frame.ended;
    if (frame.opcode === 8) return codeOf(frame.payload);
  }
  return 0;
}

/**
 * Answers the server's pings with pongs, as a browser does, until `count` were answered (resolves
 * "open") or the server closes first (resolves with the close code, 0 or -1 as closeCode).
 */
export async function answerPings(
  conn: Deno.Conn,
  first: Uint8Array,
  count: number,
): Promise<"open" | number> {
  let answered = 0;
  for await (const frame of serverFrames(conn, first)) {
    if ("ended" in frame) return frame.ended;
    if (frame.opcode === 8) return codeOf(frame.payload);
    if (frame.opcode !== 9) continue;
    const pong = new Uint8Array(6 + frame.payload.length);
    pong.set(maskedHeader(0xa, frame.payload.length));
    pong.set(frame.payload, 6);
    await conn.write(pong);
    if (++answered === count) return "open";
  }
  return 0;
}
