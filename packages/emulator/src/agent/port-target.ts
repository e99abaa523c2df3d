/**
 * Where a Port session connects (ssm-protocol.md §2.1, §7). The emulated instance is this machine:
 * every target is 127.0.0.1, and remote-host forwarding only knows the fixture's `remoteHosts`
 * (names or `*` patterns, plus `localhost` itself). Nothing else is ever dialled. Pure.
 */
import { isIP } from "node:net";
import type { PortProperties } from "../world/documents.js";
import { AgentError } from "./errors.js";

/** The only address the emulator connects to. */
export const LOOPBACK = "127.0.0.1";

export interface PortTarget {
  host: typeof LOOPBACK;
  port: number;
  /** What the document asked for, for messages (`db.internal:5432`). */
  requested: string;
  /**
   * Set when the destination cannot be dialled from the emulated instance: every dial fails with
   * this agent-style error instead of connecting (mux: Flag ConnectToPortError per stream).
   */
  unreachable?: string;
}

const SELF_NAMES = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/**
 * Addresses the agent never forwards to (IMDS, Amazon Time Sync, Windows activation: AGT
 * `DefaultDeniedPortForwardingRemoteIPs`); it ends the session at start with "forbidden".
 */
const DENIED_IPS = new Set([
  "169.254.169.254",
  "fd00:ec2::254",
  "169.254.169.253",
  "fd00:ec2::253",
  "169.254.169.123",
  "fd00:ec2::123",
  "169.254.169.250",
  "169.254.169.251",
  "fd00:ec2::240",
]);

/**
 * True when `host` is one of the fixture's remote hosts: an exact name, or a pattern with `*`
 * wildcards (`*.test.internal`), case-insensitive.
 */
export function matchesRemoteHost(host: string, remoteHosts: readonly string[]): boolean {
  const name = host.toLowerCase();
  return remoteHosts.some((pattern) => {
    const p = pattern.toLowerCase();
    if (!p.includes("*")) return p === name;
    const re = new RegExp(`^${p.split("*").map(escapeRegExp).join("[^]*")}$`);
    return re.test(name);
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Resolves the document properties to a loopback target, or throws {@link AgentError}
 * (AGENT_PORT) where the agent fails the session at start (bad port, denied address). Like the
 * agent, a host the instance cannot resolve does not fail the session: the agent's start-time
 * lookup fails quietly and then every dial fails ("missing address"); an IP address the fixture
 * does not know is taken as unreachable.
 */
export function resolvePortTarget(properties: PortProperties, remoteHosts: readonly string[]): PortTarget {
  const port = Number(properties.portNumber);
  if (!/^\d+$/.test(properties.portNumber) || port < 1 || port > 65535) {
    throw new AgentError("AGENT_PORT", `Invalid port number ${JSON.stringify(properties.portNumber)}.`);
  }
  const host = properties.host;
  if (host === undefined || host === "") return { host: LOOPBACK, port, requested: `localhost:${port}` };
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (DENIED_IPS.has(bare)) {
    throw new AgentError("AGENT_PORT", `Forwarding to IP address ${host} is forbidden.`);
  }
  const requested = isIP(bare) === 6 ? `[${bare}]:${port}` : `${host}:${port}`;
  if (SELF_NAMES.has(host.toLowerCase()) || matchesRemoteHost(host, remoteHosts)) {
    return { host: LOOPBACK, port, requested };
  }
  const unreachable =
    isIP(bare) === 0
      ? `dial tcp: lookup ${host}: no such host (missing address)`
      : `dial tcp ${requested}: connect: no route to host`;
  return { host: LOOPBACK, port, requested, unreachable };
}

/** The agent-style message for a failed dial, e.g. `dial tcp 127.0.0.1:9: connect: connection refused`. */
export function dialErrorMessage(target: PortTarget, error: Error & { code?: string }): string {
  const reason =
    error.code === "ECONNREFUSED"
      ? "connection refused"
      : error.code === "ETIMEDOUT"
        ? "i/o timeout"
        : error.message;
  return `dial tcp ${target.host}:${target.port}: connect: ${reason}`;
}
