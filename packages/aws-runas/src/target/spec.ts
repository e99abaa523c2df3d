/**
 * Target-spec parsing for the `ssm shell`, `ssm forward` and `ssm ssh` subcommands (pure; see
 * cli-reference.md §3 and test/fixtures/target-spec.json). Every bad spec is a
 * {@link UsageError} with a one-line message that quotes the input, plus a hint.
 */
import { UsageError } from "@aws-runas/wire/errors.js";
import { ipFamily } from "./address.js";

export { isPrivateAddress } from "./address.js";

/** The user `ssm ssh` logs in as when the spec has no `user@` (aws-runas' default). */
export const DEFAULT_SSH_USER = "ec2-user";
/** The remote port `ssm ssh` uses when the spec names none. */
export const DEFAULT_SSH_PORT = 22;

const MAX_PORT = 65535;
const INSTANCE_ID = /^m?i-[0-9a-fA-F]{8,}$/;
/** `[v6-address]` optionally followed by `:port` (how IPv6 hosts take a port). */
const BRACKETED = /^\[([^\]]*)\](?::(.*))?$/;

const BRACKET_HINT = "brackets are for IPv6 addresses: [2001:db8::1] or [2001:db8::1]:22";
const TAG_HINT = "a tag target is key:value with both parts, e.g. Name:web";
const TARGET_HINT =
  "a target is an instance id (i-0123456789abcdef0), a tag key:value (Name:web), an IP address or a DNS name";

/** Parsed `ssm ssh` target: `[user@]host[:port]`. */
export interface SshTarget {
  user: string;
  /** Instance id, tag `key:value`, IP address or DNS name — resolved later by `resolveTarget`. */
  host: string;
  port: number;
}

/** Parsed `ssm forward` target: `target:port`. */
export interface ForwardTarget {
  target: string;
  port: number;
}

/** True for an EC2 (`i-`) or managed-instance (`mi-`) id, which is used without any lookup. */
export function isInstanceId(s: string): boolean {
  return INSTANCE_ID.test(s);
}

/**
 * Parses `[user@]host[:port]`. The user ends at the first `@`. The port is split off only when
 * the part after the last `:` is a number 1..65535 (so tag values may contain `:`, and
 * `h:99999` is the host `h:99999`); `0` and negative numbers are errors. IPv6 follows the rule
 * both commands share ({@link bareIpv6}): `[addr]:port` gives a port, a bare literal is the
 * whole address, and a bare literal whose last group could be a port is refused as ambiguous.
 */
export function parseSshTarget(spec: string): SshTarget {
  assertNotBlank(spec);
  const at = spec.indexOf("@");
  const user = at < 0 ? DEFAULT_SSH_USER : spec.slice(0, at);
  const rest = at < 0 ? spec : spec.slice(at + 1);
  if (user.trim() === "") {
    throw new UsageError(`invalid target ${quote(spec)}: empty user name before '@'`, "use USER@HOST[:PORT]");
  }
  const { host, port } = splitOptionalPort(spec, rest);
  if (host.trim() === "") {
    throw new UsageError(`invalid target ${quote(spec)}: no host`, TARGET_HINT);
  }
  checkTargetName(spec, host);
  return { user, host, port };
}

/**
 * Parses `target:port`, splitting at the last `:` (so `Name:web:8080` is the tag `Name:web`).
 * The port is required and must be 1..65535; IPv6 takes it as `[addr]:port` (a bare literal
 * has no port: {@link bareIpv6}).
 */
export function parseForwardTarget(spec: string): ForwardTarget {
  assertNotBlank(spec);
  const bracketed = bracketedHost(spec, spec);
  if (bracketed) {
    if (bracketed.port === undefined) throw missingPort(spec);
    return { target: bracketed.host, port: parsePort(spec, bracketed.port) };
  }
  if (bareIpv6(spec, spec, "PORT")) {
    throw new UsageError(
      `invalid target ${quote(spec)}: missing the remote port`,
      `an IPv6 address takes its port in brackets: [${spec}]:PORT`,
    );
  }
  const colon = spec.lastIndexOf(":");
  if (colon < 0) throw missingPort(spec);
  const target = spec.slice(0, colon);
  if (target.trim() === "") {
    throw new UsageError(`invalid target ${quote(spec)}: nothing before the port`, TARGET_HINT);
  }
  const port = parsePort(spec, spec.slice(colon + 1));
  checkTargetName(spec, target);
  return { target, port };
}

/** Checks a `ssm shell` target (no port); `[addr]` brackets around an IPv6 address are removed. */
export function parseShellTarget(spec: string): string {
  assertNotBlank(spec);
  const bracketed = bracketedHost(spec, spec);
  if (bracketed) {
    if (bracketed.port !== undefined) {
      throw new UsageError(
        `invalid target ${quote(spec)}: ssm shell takes no port`,
        `leave out the port: [${bracketed.host}]`,
      );
    }
    return bracketed.host;
  }
  checkTargetName(spec, spec);
  return spec;
}

/** Builds the `user@host:port` spec that {@link parseSshTarget} reads back (IPv6 in brackets). */
export function formatSshTarget(target: SshTarget): string {
  return `${target.user}@${formatHostPort(target.host, target.port)}`;
}

/** Builds the `target:port` spec that {@link parseForwardTarget} reads back (IPv6 in brackets). */
export function formatForwardTarget(target: ForwardTarget): string {
  return formatHostPort(target.target, target.port);
}

function formatHostPort(host: string, port: number): string {
  return ipFamily(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function splitOptionalPort(spec: string, rest: string): { host: string; port: number } {
  const bracketed = bracketedHost(spec, rest);
  if (bracketed) {
    const port = bracketed.port === undefined ? DEFAULT_SSH_PORT : parsePort(spec, bracketed.port);
    return { host: bracketed.host, port };
  }
  if (bareIpv6(spec, rest, String(DEFAULT_SSH_PORT))) return { host: rest, port: DEFAULT_SSH_PORT };
  const colon = rest.lastIndexOf(":");
  if (colon < 0) return { host: rest, port: DEFAULT_SSH_PORT };
  const tail = rest.slice(colon + 1);
  if (tail === "") {
    throw new UsageError(
      `invalid target ${quote(spec)}: empty port after ':'`,
      "add a port number (1-65535) or remove the trailing ':'",
    );
  }
  if (/^-\d+$/.test(tail)) throw portOutOfRange(spec, tail);
  if (!/^\d+$/.test(tail)) return { host: rest, port: DEFAULT_SSH_PORT };
  const value = Number(tail);
  if (value === 0) throw portOutOfRange(spec, tail);
  // Bigger numbers are not ports: they stay part of the host, as in aws-runas.
  if (value > MAX_PORT) return { host: rest, port: DEFAULT_SSH_PORT };
  return { host: rest.slice(0, colon), port: value };
}

/**
 * `[addr]` or `[addr]:port` (the port text unchecked), or undefined when `rest` has no brackets.
 * Brackets anywhere else — unbalanced, or around something that is not an IPv6 address — are a
 * usage error rather than part of a tag value (EC2 tag values cannot hold them anyway).
 */
function bracketedHost(spec: string, rest: string): { host: string; port?: string } | undefined {
  const match = BRACKETED.exec(rest);
  if (match) {
    const host = bracketedAddress(spec, match[1] ?? "");
    return match[2] === undefined ? { host } : { host, port: match[2] };
  }
  const open = rest.indexOf("[");
  const close = rest.indexOf("]");
  if (open < 0 && close < 0) return undefined;
  const what =
    open >= 0 && rest.indexOf("]", open) < 0
      ? "'[' without a closing ']'"
      : close >= 0 && rest.lastIndexOf("[", close) < 0
        ? "']' without an opening '['"
        : "brackets only go around a whole IPv6 address";
  throw new UsageError(`invalid target ${quote(spec)}: ${what}`, BRACKET_HINT);
}

/**
 * The IPv6 rule `ssm ssh` and `ssm forward` share: an unbracketed IPv6 literal is the whole
 * address, never address plus port. When its last group could also be read as a port (the rest
 * still being an address, as in `2001:db8::10:2222`) the spec is ambiguous and refused, so
 * that neither command guesses. `portWord` is what the hint shows for the bracketed address.
 */
function bareIpv6(spec: string, rest: string, portWord: string): boolean {
  if (ipFamily(rest) !== 6) return false;
  const colon = rest.lastIndexOf(":");
  const head = rest.slice(0, colon);
  const tail = rest.slice(colon + 1);
  if (/^\d{1,5}$/.test(tail) && Number(tail) >= 1 && Number(tail) <= MAX_PORT && ipFamily(head) === 6) {
    throw new UsageError(
      `invalid target ${quote(spec)}: ambiguous IPv6 address, the last group could be a port`,
      `write [${head}]:${tail} for port ${tail}, or [${rest}]:${portWord} for the whole address`,
    );
  }
  return true;
}

/**
 * What every command checks in the host part once the port is gone: a tag `key:value` has both
 * parts (`:` or `Name:` would only fail later as "no instance matches").
 */
function checkTargetName(spec: string, host: string): void {
  if (ipFamily(host) !== 0 || !host.includes(":")) return;
  const colon = host.indexOf(":");
  if (colon === 0) throw new UsageError(`invalid target ${quote(spec)}: empty tag key before ':'`, TAG_HINT);
  if (colon === host.length - 1) {
    throw new UsageError(`invalid target ${quote(spec)}: empty tag value after ':'`, TAG_HINT);
  }
}

function parsePort(spec: string, text: string): number {
  if (text === "") {
    throw new UsageError(
      `invalid target ${quote(spec)}: empty port after ':'`,
      "use TARGET:PORT, e.g. i-0123456789abcdef0:8080",
    );
  }
  if (!/^-?\d+$/.test(text)) {
    throw new UsageError(
      `invalid target ${quote(spec)}: port ${quote(text)} is not a number`,
      "the port must be a number 1-65535",
    );
  }
  const value = Number(text);
  if (value < 1 || value > MAX_PORT) throw portOutOfRange(spec, text);
  return value;
}

function bracketedAddress(spec: string, inner: string): string {
  if (ipFamily(inner) !== 6) {
    throw new UsageError(
      `invalid target ${quote(spec)}: ${quote(inner)} in brackets is not an IPv6 address`,
      "brackets are only for IPv6 addresses, e.g. [2001:db8::1]:22",
    );
  }
  return inner;
}

function assertNotBlank(spec: string): void {
  if (spec.trim() === "") throw new UsageError("empty target", TARGET_HINT);
}

function missingPort(spec: string): UsageError {
  return new UsageError(
    `invalid target ${quote(spec)}: missing the remote port`,
    "use TARGET:PORT, e.g. i-0123456789abcdef0:8080",
  );
}

function portOutOfRange(spec: string, text: string): UsageError {
  return new UsageError(
    `invalid target ${quote(spec)}: port ${text} is out of range`,
    "the port must be 1-65535",
  );
}

/** Quotes user input for an error line; JSON escaping keeps control characters off the terminal. */
function quote(text: string): string {
  return JSON.stringify(text);
}
