/**
 * IP addresses as the per-address limits see them: parsed strictly (an `X-Forwarded-For` entry
 * is attacker-supplied text), matched against CIDR ranges (the trusted proxies), and grouped so
 * that addresses that are really one client count as one. An IPv6 client is given a whole /64
 * (RFC 6177), so counting full IPv6 addresses would let one client take every per-address slot
 * by picking a new source address for each connection.
 */

/** An address: 4 bytes (IPv4, IPv4-mapped IPv6 included) or 16 (IPv6). */
export type Ip = Uint8Array;

/** A range of addresses: the first `bits` bits of `base`. */
export interface Cidr {
  readonly base: Ip;
  readonly bits: number;
}

/** How many leading bits of an IPv6 address name one client (RFC 6177: a site gets a /64). */
export const DEFAULT_IPV6_PREFIX = 64;

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string): Ip | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => IPV4.test(p))) return null;
  return Uint8Array.from(parts, Number);
}

function parseIpv6(text: string): Ip | null {
  if (text.length > 45) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  // An embedded IPv4 address (::ffff:192.0.2.1) takes the last two groups.
  const last = (tail.length > 0 ? tail : head).at(-1);
  let v4: Ip | null = null;
  if (last?.includes(".")) {
    v4 = parseIpv4(last);
    if (!v4) return null;
    (tail.length > 0 ? tail : head).pop();
  }
  const hextets = head.length + tail.length + (v4 ? 2 : 0);
  if (halves.length === 1 ? hextets !== 8 : hextets > 7) return null;
  if (![...head, ...tail].every((g) => HEXTET.test(g))) return null;
  const out = new Uint8Array(16);
  const put = (group: string, at: number) => {
    const value = parseInt(group, 16);
    out[at] = value >> 8;
    out[at + 1] = value & 0xff;
  };
  head.forEach((g, i) => put(g, i * 2));
  const tailStart = 16 - (v4 ? 4 : 0) - tail.length * 2;
  tail.forEach((g, i) => put(g, tailStart + i * 2));
  if (v4) out.set(v4, 12);
  return out;
}

/** True for ::ffff:a.b.c.d, which is an IPv4 client on a dual-stack socket. */
function isMappedIpv4(ip: Ip): boolean {
  return ip.length === 16 && ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff &&
    ip[11] === 0xff;
}

/**
 * An address as a client or proxy may write it: `192.0.2.1`, `2001:db8::1`, and the forms some
 * proxies put in `X-Forwarded-For` with a port (`192.0.2.1:4711`, `[2001:db8::1]:4711`) or a
 * zone (`fe80::1%eth0`). IPv4-mapped IPv6 becomes IPv4. Anything else is null.
 */
export function parseIp(raw: string): Ip | null {
  let text = raw.trim();
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0 || !/^(:[0-9]{1,5})?$/.test(text.slice(end + 1))) return null;
    text = text.slice(1, end);
  } else if (/^[0-9.]+:[0-9]{1,5}$/.test(text)) {
    text = text.slice(0, text.indexOf(":"));
  }
  const zone = text.indexOf("%");
  if (zone >= 0 && /^[A-Za-z0-9_.-]{1,32}$/.test(text.slice(zone + 1))) text = text.slice(0, zone);
  const ip = text.includes(":") ? parseIpv6(text) : parseIpv4(text);
  return ip && isMappedIpv4(ip) ? ip.slice(12) : ip;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or one address (a /32 or /128). Null when malformed. */
export function parseCidr(raw: string): Cidr | null {
  const [address = "", bits, ...rest] = raw.trim().split("/");
  if (rest.length > 0 || address.startsWith("[")) return null;
  const base = parseIp(address);
  if (!base) return null;
  const max = base.length * 8;
  if (bits === undefined) return { base, bits: max };
  if (!/^[0-9]{1,3}$/.test(bits)) return null;
  // An IPv4-mapped range (::ffff:10.0.0.0/104) is the IPv4 range it maps.
  const n = Number(bits) - (address.includes(":") && base.length === 4 ? 96 : 0);
  return n >= 0 && n <= max ? { base, bits: n } : null;
}

/** Whether the first `bits` bits of two addresses of one family agree. */
function samePrefix(a: Ip, b: Ip, bits: number): boolean {
  if (a.length !== b.length) return false;
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}

export function inCidrs(ip: Ip, cidrs: readonly Cidr[]): boolean {
  return cidrs.some((cidr) => samePrefix(ip, cidr.base, cidr.bits));
}

/**
 * The key the per-address limits count under: an IPv4 address as it is, an IPv6 address by its
 * first `ipv6Prefix` bits (`2001:db8:0:1::/64`), so every address of one site is one client.
 */
export function clientKey(ip: Ip, ipv6Prefix = DEFAULT_IPV6_PREFIX): string {
  if (ip.length === 4) return ip.join(".");
  const groups: string[] = [];
  for (let bit = 0; bit < ipv6Prefix; bit += 16) {
    const at = bit >> 3;
    let value = (ip[at]! << 8) | ip[at + 1]!;
    const kept = Math.min(16, ipv6Prefix - bit);
    value &= (0xffff << (16 - kept)) & 0xffff;
    groups.push(value.toString(16));
  }
  return `${groups.join(":")}${groups.length < 8 ? "::" : ""}/${ipv6Prefix}`;
}
