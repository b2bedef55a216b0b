/** Which client a request comes from, for the per-address limits on feeds. */
import type { Context } from "hono";
import { type Cidr, clientKey, inCidrs, type Ip, parseIp } from "../core/address.ts";
import type { AppEnv } from "./env.ts";
import { invalid } from "./problem.ts";

export interface AddressPolicy {
  /** SCORELINE_TRUST_PROXY (v1): the first X-Forwarded-For hop is the client. */
  trustProxy: boolean;
  /** SCORELINE_TRUSTED_PROXIES: the client is the rightmost X-Forwarded-For entry not in these. */
  trustedProxies: readonly Cidr[];
  /** SCORELINE_IPV6_PREFIX: an IPv6 client counts by this many leading bits. */
  ipv6Prefix: number;
}

const HEADER = "X-Forwarded-For";

/** One X-Forwarded-For entry, or a 400 naming the header: a limit never counts garbage. */
function hop(entry: string): Ip {
  const ip = parseIp(entry);
  if (!ip) {
    throw invalid(HEADER, `"${entry.trim().slice(0, 64)}" is not an IP address`);
  }
  return ip;
}

/**
 * The key a limit counts against. Without trust, the peer: the header is ignored, since any
 * client can write it. With trusted proxies, and only when the peer is one of them, the header is
 * read from the right (each proxy appends the address it saw) and the first address that is not a
 * trusted proxy is the client: what a client writes itself is further left and never read. With
 * SCORELINE_TRUST_PROXY alone (v1), the first hop. An entry that is not an address, where it is
 * read, is a 400 naming the header.
 */
export function clientAddress(c: Context<AppEnv>, policy: AddressPolicy): string {
  return clientAddressOf(c.env?.remoteAddr, () => c.req.header("x-forwarded-for"), policy);
}

/**
 * `clientAddress` from its parts, for the feeds served before Hono (feeds/direct.ts). The header
 * is read only when a policy would use it: reading a request's headers costs Deno an op and a
 * copy of all of them, and without trust the header is ignored anyway.
 */
export function clientAddressOf(
  remoteAddr: Deno.Addr | undefined,
  forwardedFor: () => string | undefined,
  policy: AddressPolicy,
  peers?: PeerKeys,
): string {
  const trusting = policy.trustedProxies.length > 0 || policy.trustProxy;
  const hostname = remoteAddr && "hostname" in remoteAddr ? remoteAddr.hostname : null;
  // Without trust the key is the peer's alone: the same for every request from it.
  if (!trusting && peers && hostname !== null) return peers.key(hostname, policy.ipv6Prefix);
  const peer = hostname !== null ? parseIp(hostname) : null;
  let client = peer;
  // An empty header says nothing, like a missing one.
  const header = trusting ? forwardedFor()?.trim() || undefined : undefined;
  if (header === undefined) {
    // No forwarded address (or none read): the peer is the client.
  } else if (policy.trustedProxies.length > 0) {
    if (peer && inCidrs(peer, policy.trustedProxies)) {
      const entries = header.split(",");
      for (let i = entries.length - 1; i >= 0; i--) {
        client = hop(entries[i]!);
        // Every hop trusted: the leftmost is as far as anyone can tell.
        if (!inCidrs(client, policy.trustedProxies)) break;
      }
    }
  } else if (policy.trustProxy) {
    client = hop(header.split(",")[0]!);
  }
  return client ? clientKey(client, policy.ipv6Prefix) : "unknown";
}

/**
 * Peer addresses already turned into keys: a long poll is a request per answer, and parsing the
 * same peer's address into bytes and back each time was 3 µs of every poll. Bounded: emptied when
 * full, so a crowd of addresses costs at most MAX_PEERS entries. Not core/lru.ts: its reordering
 * on every hit is a delete and a set per request, the kind of cost this cache is here to save.
 */
export class PeerKeys {
  static readonly MAX_PEERS = 4096;
  readonly #keys = new Map<string, string>();

  key(hostname: string, ipv6Prefix: number): string {
    let key = this.#keys.get(hostname);
    if (key === undefined) {
      const ip = parseIp(hostname);
      key = ip ? clientKey(ip, ipv6Prefix) : "unknown";
      if (this.#keys.size >= PeerKeys.MAX_PEERS) this.#keys.clear();
      this.#keys.set(hostname, key);
    }
    return key;
  }
}
