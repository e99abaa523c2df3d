/**
 * Where a Port session connects (ssm-protocol.md §2.1, §7). The emulated instance is this machine:
 * every target is 127.0.0.1, and remote-host forwarding only knows the fixture's `remoteHosts`
 * (plus `localhost` itself). Nothing else is ever dialled. Pure.
 */
import type { PortProperties } from "../documents.js";
import { AgentError } from "./errors.js";

/** The only address the emulator connects to. */
export const LOOPBACK = "127.0.0.1";

export interface PortTarget {
  host: typeof LOOPBACK;
  port: number;
  /** What the document asked for, for messages (`db.internal:5432`). */
  requested: string;
}

const SELF_NAMES = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/** Resolves the document properties to a loopback target, or throws {@link AgentError} (AGENT_PORT). */
export function resolvePortTarget(properties: PortProperties, remoteHosts: readonly string[]): PortTarget {
  const port = Number(properties.portNumber);
  if (!/^\d+$/.test(properties.portNumber) || port < 1 || port > 65535) {
    throw new AgentError("AGENT_PORT", `Invalid port number ${JSON.stringify(properties.portNumber)}.`);
  }
  const host = properties.host;
  if (host === undefined || host === "") return { host: LOOPBACK, port, requested: `localhost:${port}` };
  const known =
    SELF_NAMES.has(host.toLowerCase()) || remoteHosts.some((h) => h.toLowerCase() === host.toLowerCase());
  if (!known) {
    const list = remoteHosts.length > 0 ? remoteHosts.join(", ") : "none";
    throw new AgentError(
      "AGENT_PORT",
      `Unable to start port forwarding to ${host}:${port}: the emulated instance only reaches localhost and its remote hosts (${list}).`,
    );
  }
  return { host: LOOPBACK, port, requested: `${host}:${port}` };
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
