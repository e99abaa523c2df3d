/**
 * `--allow PATTERN` for `ssm socks` (pure): which destinations the proxy may open. A pattern is
 * `host`, `host:port` or `[ipv6]:port`; `host` may use `*` wildcards (`*.internal`, `10.0.*`),
 * `port` may be `*` or a range `8000-8999`. No pattern at all allows every destination.
 */
import { UsageError } from "@aws-runas/wire/errors.js";
import { formatIpv6, parseIpv6 } from "./codec.js";

export interface AllowPattern {
  /** The text as given, for messages. */
  readonly text: string;
  readonly host: RegExp;
  readonly ports: { readonly min: number; readonly max: number };
}

const ALLOW_HINT =
  "use --allow HOST[:PORT] with * wildcards, e.g. --allow '*.internal:5432' or --allow '10.0.*'";

export function parseAllowPattern(text: string): AllowPattern {
  const fail = (why: string): never => {
    throw new UsageError(`invalid --allow ${JSON.stringify(text)}: ${why}`, ALLOW_HINT);
  };
  let hostText = text.trim();
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(hostText);
  if (bracketed) {
    hostText = bracketed[1]!;
    portText = bracketed[2];
  } else if ((hostText.match(/:/g) ?? []).length === 1) {
    [hostText, portText] = hostText.split(":") as [string, string];
  }
  if (hostText === "" || /[\s/\\]/.test(hostText)) fail("no host");
  let ports = { min: 1, max: 65535 };
  if (portText !== undefined && portText !== "*") {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(portText) ?? fail("the port is not a number, range or *");
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : Number(m[2]);
    if (min < 1 || max > 65535 || min > max) fail("the port is out of range (1-65535)");
    ports = { min, max };
  }
  return { text, host: globToRegExp(canonicalHost(hostText)), ports };
}

/** True when no pattern was given or one of them matches the destination. */
export function isAllowed(patterns: readonly AllowPattern[], host: string, port: number): boolean {
  if (patterns.length === 0) return true;
  const name = canonicalHost(host);
  return patterns.some((p) => port >= p.ports.min && port <= p.ports.max && p.host.test(name));
}

/** Lower case; IPv6 literals in RFC 5952 form so `::1` and `0:0::1` are the same host. */
function canonicalHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  if (!bare.includes("*") && bare.includes(":")) {
    const bytes = parseIpv6(bare);
    if (bytes) return formatIpv6(bytes);
  }
  return bare.toLowerCase();
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`);
}
