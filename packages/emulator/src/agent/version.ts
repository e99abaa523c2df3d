/**
 * Version rules of amazon-ssm-agent's port plugin (ssm-protocol.md §7.1, §7.3). Pure.
 *
 * The agent compares like its `versionutil.Compare`: numeric, component by component; when every
 * shared component is equal the version with more components is the greater one.
 */

/** First client version the agent serves with smux (inclusive). */
export const MUX_MIN_CLIENT_VERSION = "1.1.70";
/** Clients newer than this get smux keepalive turned off (agent side). */
export const KEEPALIVE_LAST_CLIENT_VERSION = "1.2.331.0";
/**
 * Agents up to this version predate the client-version keepalive rule: their smux keepalive is
 * always on (the client turns its own on for them too, ssm-protocol.md §7.3).
 */
export const LAST_ALWAYS_KEEPALIVE_AGENT_VERSION = "3.1.1511.0";
/** Agents up to this version are "old": no smux, basic port forwarding only. */
export const LAST_BASIC_ONLY_AGENT_VERSION = "3.0.196.0";

/** Parses `1.2.3.4` into numbers; undefined when any component is not a whole number. */
export function parseVersion(version: string): number[] | undefined {
  if (version === "") return undefined;
  const parts = version.split(".");
  if (!parts.every((p) => /^\d+$/.test(p))) return undefined;
  return parts.map(Number);
}

/**
 * Negative when `a < b`, 0 when equal, positive when `a > b`; undefined when either is not a
 * dotted numeric version (the agent then treats the feature as unsupported).
 */
export function compareVersions(a: string, b: string): number | undefined {
  const left = parseVersion(a);
  const right = parseVersion(b);
  if (!left || !right) return undefined;
  const shared = Math.min(left.length, right.length);
  for (let i = 0; i < shared; i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

/** How a Port session moves bytes. */
export type PortMode = "mux" | "basic";

export interface PortModeDecision {
  mode: PortMode;
  /** smux keepalive (NOP every 10 s, 30 s timeout); only meaningful in mux mode. */
  keepAlive: boolean;
}

/**
 * The agent's choice (AGT `port.go`): smux for `LocalPortForwarding` when the client is at least
 * 1.1.70, and — emulator rule matching the client's own gate — only on agents newer than
 * 3.0.196.0, which real old agents are. Keepalive stays on for clients up to 1.2.331.0, and
 * always on agents up to 3.1.1511.0.
 */
export function choosePortMode(input: {
  type: string | undefined;
  clientVersion: string;
  agentVersion: string;
}): PortModeDecision {
  const clientKnowsMux = (compareVersions(input.clientVersion, MUX_MIN_CLIENT_VERSION) ?? -1) >= 0;
  const agentKnowsMux = (compareVersions(input.agentVersion, LAST_BASIC_ONLY_AGENT_VERSION) ?? -1) > 0;
  const mux = input.type === "LocalPortForwarding" && clientKnowsMux && agentKnowsMux;
  const newClient = (compareVersions(input.clientVersion, KEEPALIVE_LAST_CLIENT_VERSION) ?? -1) > 0;
  const oldAgent = (compareVersions(input.agentVersion, LAST_ALWAYS_KEEPALIVE_AGENT_VERSION) ?? 1) <= 0;
  return { mode: mux ? "mux" : "basic", keepAlive: oldAgent || !newClient };
}
