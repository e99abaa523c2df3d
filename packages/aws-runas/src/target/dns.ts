/**
 * The DNS resolver target resolution uses: the system's, or the servers named in
 * `RUNAS_DNS_SERVERS` (split-horizon DNS, and how tests reach the emulator's DNS server).
 */
import { Resolver } from "node:dns/promises";
import { UsageError } from "@aws-runas/wire/errors.js";
import { ipFamily } from "./address.js";
import type { DnsLookup } from "./types.js";

/** Environment variable: `host[:port],...` with IP addresses, IPv6 as `[::1]:53`. */
export const DNS_SERVERS_ENV = "RUNAS_DNS_SERVERS";

const HINT = `${DNS_SERVERS_ENV} is a comma-separated list of IP[:port], IPv6 in brackets: 127.0.0.1:5353,[::1]:53`;

/**
 * Parses a `RUNAS_DNS_SERVERS` value into the strings `Resolver.setServers` takes
 * (`1.2.3.4`, `1.2.3.4:53`, `::1`, `[::1]:53`). Host names are refused: a resolver cannot
 * look up its own server.
 */
export function parseDnsServers(text: string): string[] {
  const entries = text.split(",").map((entry) => entry.trim());
  if (entries.every((entry) => entry === "")) throw bad(text, "no server given");
  return entries.map((entry) => {
    if (entry === "") throw bad(text, "empty entry");
    return parseServer(entry);
  });
}

function parseServer(entry: string): string {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(entry);
  if (bracketed) {
    const address = bracketed[1] ?? "";
    if (ipFamily(address) !== 6) throw bad(entry, `${JSON.stringify(address)} is not an IPv6 address`);
    return bracketed[2] === undefined ? address : `[${address}]:${parsePort(entry, bracketed[2])}`;
  }
  if (ipFamily(entry) !== 0) return entry;
  const colon = entry.lastIndexOf(":");
  const host = colon < 0 ? entry : entry.slice(0, colon);
  if (ipFamily(host) !== 4) {
    const why = host.includes(":") ? "put an IPv6 address with a port in brackets" : "not an IP address";
    throw bad(entry, why);
  }
  return colon < 0 ? host : `${host}:${parsePort(entry, entry.slice(colon + 1))}`;
}

function parsePort(entry: string, text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  if (port < 1 || port > 65535) throw bad(entry, `port ${JSON.stringify(text)} must be 1-65535`);
  return port;
}

function bad(entry: string, why: string): UsageError {
  return new UsageError(`invalid ${DNS_SERVERS_ENV} entry ${JSON.stringify(entry)}: ${why}`, HINT);
}

export interface DnsLookupOptions {
  /** A `RUNAS_DNS_SERVERS` value; absent or blank means the system resolver configuration. */
  servers?: string | undefined;
  /** Per-try timeout in milliseconds and number of tries (node defaults when absent). */
  timeoutMs?: number;
  tries?: number;
}

/** A {@link DnsLookup} backed by `dns.promises.Resolver`. Throws UsageError for a bad server list. */
export function createDnsLookup(options: DnsLookupOptions = {}): DnsLookup {
  const resolver = new Resolver({
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    ...(options.tries === undefined ? {} : { tries: options.tries }),
  });
  if (options.servers !== undefined && options.servers.trim() !== "") {
    resolver.setServers(parseDnsServers(options.servers));
  }
  return resolver;
}

/** {@link createDnsLookup} configured from `RUNAS_DNS_SERVERS` in `env`. */
export function createDnsLookupFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): DnsLookup {
  return createDnsLookup({ servers: env[DNS_SERVERS_ENV] });
}
