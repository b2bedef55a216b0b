/** Which client a request comes from, for the per-address caps. */
import type { Context } from "hono";
import type { AppEnv } from "./env.ts";

/**
 * The address a cap counts against: the peer, or with SCORELINE_TRUST_PROXY the first
 * X-Forwarded-For hop (the client as the proxy saw it). Without trust, the header is ignored,
 * since any client can write it.
 */
export function clientAddress(c: Context<AppEnv>, trustProxy: boolean): string {
  if (trustProxy) {
    const first = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (first) return first.slice(0, 64);
  }
  const addr = c.env?.remoteAddr;
  return addr && "hostname" in addr ? addr.hostname : "unknown";
}
