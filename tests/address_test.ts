/**
 * Client addresses as the per-address limits count them: strict parsing (X-Forwarded-For is
 * attacker-supplied text), CIDR ranges for the trusted proxies, and IPv6 grouped by /64, so that
 * one site picking a new address per connection is still one client.
 */
import assert from "node:assert/strict";
import { clientKey, inCidrs, parseCidr, parseIp } from "../core/address.ts";
import { FeedCapacity } from "../core/capacity.ts";

const ip = (text: string) => {
  const parsed = parseIp(text);
  assert.ok(parsed, `${text} parses`);
  return parsed;
};

Deno.test("addresses parse as a client or proxy writes them, and nothing else does", () => {
  assert.deepEqual([...ip("192.0.2.1")], [192, 0, 2, 1]);
  assert.deepEqual([...ip(" 192.0.2.1:4711 ")], [192, 0, 2, 1], "a port some proxies add");
  assert.deepEqual([...ip("::ffff:192.0.2.1")], [192, 0, 2, 1], "IPv4-mapped is IPv4");
  assert.deepEqual([...ip("[2001:db8::1]:443")], [...ip("2001:db8:0:0:0:0:0:1")]);
  assert.deepEqual([...ip("fe80::1%eth0")], [...ip("fe80::1")], "a zone is not part of it");
  assert.deepEqual([...ip("::")], Array(16).fill(0));
  assert.deepEqual([...ip("1::")].slice(0, 2), [0, 1]);
  assert.equal(ip("64:ff9b::192.0.2.1").length, 16);
  for (
    const bad of [
      "",
      "garbage",
      "unknown",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.4;5.6.7.8",
      "1.2.3.4 5.6.7.8",
      "::g",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      ":1",
      "1:::2",
      "[::1",
      "[::1]x",
      "12345::",
      "<script>",
      "1.2.3.4:99999999",
    ]
  ) {
    assert.equal(parseIp(bad), null, JSON.stringify(bad));
  }
});

Deno.test("CIDR ranges match the addresses they cover, and only those", () => {
  const ranges = ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "::ffff:198.51.100.0/120"]
    .map((text) => parseCidr(text)!);
  assert.ok(ranges.every(Boolean));
  for (const inside of ["10.1.2.3", "192.0.2.7", "2001:db8:ffff::1", "198.51.100.200"]) {
    assert.ok(inCidrs(ip(inside), ranges), inside);
  }
  for (const outside of ["11.0.0.1", "192.0.2.8", "2001:db9::1", "198.51.101.1", "::1"]) {
    assert.ok(!inCidrs(ip(outside), ranges), outside);
  }
  assert.ok(inCidrs(ip("203.0.113.9"), [parseCidr("203.0.113.0/28")!]));
  assert.ok(inCidrs(ip("203.0.113.9"), [parseCidr("203.0.113.8/31")!]));
  assert.ok(!inCidrs(ip("203.0.113.10"), [parseCidr("203.0.113.8/31")!]));
  assert.ok(inCidrs(ip("8.8.8.8"), [parseCidr("0.0.0.0/0")!]));
  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10/8", "10.0.0.0/8/8", "[::1]/128"]) {
    assert.equal(parseCidr(bad), null, bad);
  }
});

Deno.test("an IPv6 client counts by its /64: every address of one site is one key", () => {
  const key = (text: string, prefix?: number) => clientKey(ip(text), prefix);
  assert.equal(key("2001:db8:0:1::1"), "2001:db8:0:1::/64");
  assert.equal(key("2001:db8:0:1:ffff:ffff:ffff:ffff"), "2001:db8:0:1::/64");
  assert.notEqual(key("2001:db8:0:2::1"), key("2001:db8:0:1::1"));
  assert.equal(key("::1"), "0:0:0:0::/64");
  assert.equal(key("2001:db8:abcd:12ff::1", 56), "2001:db8:abcd:1200::/56");
  assert.equal(key("2001:db8::1", 128), "2001:db8:0:0:0:0:0:1/128");
  assert.equal(key("2001:db8:0:1::1", 128) === key("2001:db8:0:1::2", 128), false);
  assert.equal(key("192.0.2.1"), "192.0.2.1", "IPv4 as it is");
  assert.equal(key("::ffff:192.0.2.1"), "192.0.2.1");
});

Deno.test("so one /64 cycling through its addresses takes one client's feeds, not every slot", () => {
  const capacity = new FeedCapacity(3, 100);
  const site = (n: number) => clientKey(ip(`2001:db8:0:1::${n.toString(16)}`));
  const taken = [1, 2, 3].map((n) => capacity.acquire(site(n)));
  assert.throws(() => capacity.acquire(site(4)), { name: "CapacityError", limit: "client" });
  assert.throws(() => capacity.acquire(site(0xffff)), { limit: "client" });
  const other = capacity.acquire(clientKey(ip("2001:db8:0:2::1")));
  assert.equal(capacity.open, 4, "another /64 is another client");
  for (const release of [...taken, other]) release();
  assert.equal(capacity.open, 0);
});
