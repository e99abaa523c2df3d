/**
 * The emulator's Session Manager gateway: data-channel websockets, OpenDataChannel token checks,
 * reconnects, fault injection and channel_closed, in front of the simulated agent.
 */
export { type ChannelClosedInput, encodeChannelClosedFrame } from "./channel-closed.js";
export {
  type FaultOutlet,
  FaultShaper,
  type FaultStats,
  hasChannelFaults,
  outputSequence,
  REORDER_HOLD_MS,
  SessionFaults,
  withCorruptDigest,
} from "./faults.js";
export {
  CLOSE_NORMAL,
  CLOSE_POLICY_VIOLATION,
  type GatewayOptions,
  type GatewaySessionInfo,
  SessionGateway,
} from "./gateway.js";
export { chance, type Random, seededRandom, sessionSeed } from "./random.js";
export { agentSpecOf, registryDirectory } from "./registry.js";
export { parseDataChannelUrl, streamUrlFor } from "./route.js";
export { type GatewayTestOptions, type GatewayWorld, startGateway } from "./start.js";
export type { SessionDirectory } from "./types.js";
