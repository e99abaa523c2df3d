/**
 * The reliable, ordered data channel of a Session Manager session: {@link ReliableEndpoint} (the
 * client's sequencing/ack/retransmission state machine; the emulator's agent has its own) and
 * {@link DataChannel} (the client's websocket Duplex with handshake, KMS and resume).
 */

export {
  CLIENT_VERSION,
  DataChannel,
  type DataChannelEvents,
  type DataChannelOptions,
  type ReadyInfo,
  type ResumeResult,
} from "./client.js";
export {
  type Clock,
  type Entropy,
  systemClock,
  systemEntropy,
  type TimerHandle,
} from "./clock.js";
export {
  type Delivery,
  type EndpointStats,
  type FrameSink,
  ReliableEndpoint,
  type ReliableEndpointEvents,
} from "./endpoint.js";
export { answerHandshake, type GenerateDataKey, type SessionTypeInfo } from "./handshake.js";
export { type ChannelLimits, DEFAULT_LIMITS, verifyLimits } from "./limits.js";
