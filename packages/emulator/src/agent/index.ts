/**
 * The emulator's simulated SSM agent: one {@link AgentSession} per Session Manager session, with
 * the handshake, KMS envelope and the shell, interactive-command and port plugins.
 */

export { AGENT_CHUNK_SIZE, splitPayloads } from "./chunks.js";
export { AgentCipher } from "./cipher.js";
export { AgentError, type AgentErrorCode } from "./errors.js";
export { OutputGate, type PausableSource, SourcePump, type SourcePumpOptions } from "./flow.js";
export {
  type AcceptedHandshake,
  acceptHandshakeResponse,
  buildHandshakeRequest,
  HANDSHAKE_TIMEOUT_MESSAGE,
  KMS_CUSTOMER_MESSAGE,
  needsHandshake,
  usesKms,
} from "./handshake.js";
export type { PluginHost, SessionPlugin } from "./plugin.js";
export { dialErrorMessage, LOOPBACK, type PortTarget, resolvePortTarget } from "./port-target.js";
export {
  AgentSession,
  type AgentSessionEnd,
  type AgentSessionEvents,
  type AgentSessionState,
} from "./session.js";
export { pickShell, SHELL_PROMPT, type ShellLaunch, shellLaunch } from "./shell-command.js";
export type { AgentEnvironment, AgentSessionSpec, KmsDecrypt } from "./types.js";
export {
  choosePortMode,
  compareVersions,
  KEEPALIVE_LAST_CLIENT_VERSION,
  LAST_BASIC_ONLY_AGENT_VERSION,
  MUX_MIN_CLIENT_VERSION,
  type PortMode,
  type PortModeDecision,
  parseVersion,
} from "./version.js";
