/**
 * The client's version gates (ssm-protocol.md §7.1, §7.3, §6.3): pure decisions from the
 * AgentVersion in the HandshakeRequest. Like the plugin, a version counts only with exactly four
 * numeric parts, and a feature needs the agent to be *strictly newer* than the threshold.
 */

/** Port forwarding modes. */
export type PortMode = "mux" | "basic" | "stream";

const MUX_AFTER = "3.0.196.0";
const NO_KEEPALIVE_AFTER = "3.1.1511.0";
const TERMINATE_FLAG_AFTER = "2.3.722.0";

/** Parses `a.b.c.d` into four numbers, or null for anything else. */
export function parseVersion(version: string | undefined): number[] | null {
  if (!version) return null;
  const parts = version.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d+$/.test(p))) return null;
  return parts.map(Number);
}

/** True when `version` is a valid 4-part version strictly greater than `threshold`. */
export function isNewerThan(version: string | undefined, threshold: string): boolean {
  const a = parseVersion(version);
  const b = parseVersion(threshold);
  if (!a || !b) return false;
  for (let i = 0; i < 4; i++) {
    if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  }
  return false;
}

/**
 * Mux for LocalPortForwarding with agents newer than 3.0.196.0, basic for older ones, and
 * standard-stream (stdin/stdout) for every other port session, such as AWS-StartSSHSession.
 */
export function portModeFor(
  agentVersion: string | undefined,
  properties: Record<string, unknown> | null,
): PortMode {
  if (properties?.type !== "LocalPortForwarding") return "stream";
  return isNewerThan(agentVersion, MUX_AFTER) ? "mux" : "basic";
}

/** smux keepalive stays on for agents up to 3.1.1511.0; newer ones turn it off for our version. */
export function muxKeepAliveFor(agentVersion: string | undefined): boolean {
  return !isNewerThan(agentVersion, NO_KEEPALIVE_AFTER);
}

/** Agents newer than 2.3.722.0 understand the TerminateSession flag; older ones need the API. */
export function supportsTerminateFlag(agentVersion: string | undefined): boolean {
  return isNewerThan(agentVersion, TERMINATE_FLAG_AFTER);
}
