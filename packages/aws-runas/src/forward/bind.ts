/**
 * Local bind addresses for forwards and the SOCKS proxy (`--address`, the `bind_address` of
 * `-L`). Pure: the text the user gave → the address Node listens on, and whether that address is
 * reachable from other machines (then the user is warned once).
 */
import { BlockList, isIP } from "node:net";
import { UsageError } from "@aws-runas/wire/errors.js";

/** Where listeners bind unless told otherwise: loopback only, as the plugin does. */
export const DEFAULT_BIND_ADDRESS = "127.0.0.1";

/**
 * `--address` / `-L` bind text → a listen address. Accepts IPv4 and IPv6 literals (IPv6 with or
 * without brackets), `localhost` (loopback, 127.0.0.1) and `*` (every IPv4 interface, 0.0.0.0,
 * as OpenSSH's `*`). Host names are refused: what they resolve to would decide who can connect.
 */
export function parseBindAddress(text: string, flag = "--address"): string {
  const hint = "give an IP address to listen on, e.g. 127.0.0.1, ::1 or 0.0.0.0 (all interfaces)";
  const trimmed = text.trim();
  if (trimmed === "") throw new UsageError(`empty ${flag}`, hint);
  if (trimmed === "*") return "0.0.0.0";
  if (trimmed.toLowerCase() === "localhost") return DEFAULT_BIND_ADDRESS;
  const unbracketed = /^\[(.*)\]$/.exec(trimmed)?.[1] ?? trimmed;
  const family = isIP(unbracketed);
  if (family === 0 || (family === 4 && unbracketed !== trimmed)) {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(text)}: not an IP address`, hint);
  }
  return unbracketed;
}

const LOOPBACK = (() => {
  const list = new BlockList();
  list.addSubnet("127.0.0.0", 8, "ipv4");
  list.addAddress("::1", "ipv6");
  return list;
})();

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback: only this machine can connect there. */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return LOOPBACK.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** `host:port` with IPv6 in brackets, as users type and read it. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The one warning line for listeners other machines can reach, or `undefined` when all are
 * loopback. `listening` are `host:port` strings of the bound listeners.
 */
export function exposureWarning(listening: readonly { host: string; port: number }[]): string | undefined {
  const exposed = listening.filter((l) => !isLoopbackAddress(l.host));
  if (exposed.length === 0) return undefined;
  const where = exposed.map((l) => formatHostPort(l.host, l.port)).join(", ");
  return `listening on ${where}, not only on this machine: others on that network can use the tunnel`;
}
