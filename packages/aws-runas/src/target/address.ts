/**
 * Pure address helpers for target resolution: which addresses count as private, and which
 * strings are worth a DNS query. No I/O (`BlockList` is an in-memory matcher).
 */
import { BlockList, isIP } from "node:net";

/**
 * Ranges that never appear as an EC2 public address: RFC 1918, CGNAT 100.64/10, loopback and
 * link-local for IPv4; unique-local fc00::/7, link-local fe80::/10 and loopback for IPv6.
 * BlockList also applies the IPv4 rules to IPv4-mapped IPv6 addresses (::ffff:10.0.0.1).
 */
const PRIVATE_RANGES = (() => {
  const list = new BlockList();
  list.addSubnet("10.0.0.0", 8, "ipv4");
  list.addSubnet("172.16.0.0", 12, "ipv4");
  list.addSubnet("192.168.0.0", 16, "ipv4");
  list.addSubnet("100.64.0.0", 10, "ipv4");
  list.addSubnet("127.0.0.0", 8, "ipv4");
  list.addSubnet("169.254.0.0", 16, "ipv4");
  list.addSubnet("fc00::", 7, "ipv6");
  list.addSubnet("fe80::", 10, "ipv6");
  list.addAddress("::1", "ipv6");
  return list;
})();

/**
 * True when `ip` is an IP literal in a private range (see {@link PRIVATE_RANGES}); false for
 * public addresses and for anything that is not an IP literal.
 */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  return PRIVATE_RANGES.check(ip, family === 4 ? "ipv4" : "ipv6");
}

/** `4`, `6`, or `0` when `s` is not an IP literal (re-exported so callers need one import). */
export function ipFamily(s: string): 0 | 4 | 6 {
  const family = isIP(s);
  return family === 4 || family === 6 ? family : 0;
}

/** Dotted numbers that only fail to be an IPv4 address because of their values (`10.0.0.300`). */
export function looksLikeIpv4(s: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(s);
}

const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/**
 * True when `name` could be asked for in DNS: dot-separated labels of letters, digits, `-` and
 * `_` (for names like `_ssm.web`), at most 253 characters, and a top label that is not all
 * digits (RFC 3696 §2) so a mistyped IPv4 address is not sent to the resolver.
 */
export function isHostName(name: string): boolean {
  const bare = name.endsWith(".") ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) return false;
  const labels = bare.split(".");
  if (!labels.every((label) => LABEL.test(label))) return false;
  return !/^\d+$/.test(labels[labels.length - 1] ?? "");
}
