/**
 * Read-only WebSocket: one text frame per message. What a client sends is ignored, and a client
 * that sends more than 4 KiB in all is closed with 1008, so the socket cannot be used to make
 * the server read and buffer without end. `bufferedAmount` is the socket's queue for the hub.
 */
import type { Context } from "hono";
import type { AppEnv } from "../http/env.ts";
import type { Scope } from "../core/scope.ts";
import type { Subscription } from "../core/stream_subscribers.ts";
import { cursor, deltaFlag } from "../http/params.ts";
import { viewersParam } from "../http/scope_params.ts";
import { HttpProblem } from "../http/problem.ts";
import type { FeedContext } from "./feed_context.ts";

/** Bytes a client may send in total before the socket is closed. */
export const WS_MAX_RECEIVED = 4 * 1024;
/** Bytes buffered for one socket before the hub starts holding back (and conflating). */
export const WS_HIGH_WATER = 64 * 1024;

/** 1012 (service restart) on a reset: the client should reconnect with its cursor at once. */
const CLOSE_CODES = { shutdown: 1001, slow: 1013, error: 1011, reset: 1012 } as const;

export function wsFeed(feed: FeedContext, c: Context<AppEnv>, scope: Scope): Response {
  const since = cursor(c.req.query("since"), "since");
  const viewers = viewersParam(c.req.query("viewers"));
  const delta = deltaFlag(c.req.query("delta"));
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new HttpProblem("upgrade-required", "this route speaks WebSocket only", {
      headers: { upgrade: "websocket" },
    });
  }
  const release = feed.acquire(c);
  let upgraded: { socket: WebSocket; response: Response };
  try {
    upgraded = Deno.upgradeWebSocket(c.req.raw, { idleTimeout: feed.wsIdleTimeoutSeconds });
  } catch (error) {
    release();
    throw new HttpProblem(
      "validation",
      `not a valid WebSocket handshake: ${String(error).slice(0, 120)}`,
    );
  }
  const { socket, response } = upgraded;
  let subscription: Subscription | undefined;
  let received = 0;
  socket.onopen = () => {
    subscription = feed.hub.subscribe(scope, since, {
      transport: "ws",
      send: (message) => socket.send(message.json),
      ping: (ping) => socket.send(ping.json),
      writable: () => socket.readyState === WebSocket.OPEN && socket.bufferedAmount < WS_HIGH_WATER,
      close: (reason) => socket.close(CLOSE_CODES[reason], `feed closed: ${reason}`),
    }, { delta, viewers });
  };
  socket.onmessage = (event) => {
    received += byteLength(event.data);
    if (received > WS_MAX_RECEIVED && socket.readyState === WebSocket.OPEN) {
      socket.close(1008, "this socket is read-only");
    }
  };
  socket.onclose = () => {
    release();
    subscription?.cancel();
    // Deno 2.9.6 keeps a closed server socket alive until its idle timer runs out (up to
    // SCORELINE_WS_IDLE_TIMEOUT): let go of the handlers, so what it keeps is its own ~3 KiB and not
    // this request, its context and the subscription too. A reconnect storm costs that much less.
    subscription = undefined;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
  };
  socket.onerror = () => {}; // a close event follows; logging every dropped phone is noise
  return response;
}

function byteLength(data: unknown): number {
  if (typeof data === "string") return new TextEncoder().encode(data).byteLength;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return 0;
}
