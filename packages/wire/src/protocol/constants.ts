/**
 * Constants of the Session Manager binary message (ssm-protocol.md §4).
 * `as const` objects plus union types (not enums), so they stay erasable and still narrow in a switch.
 */

/** Message types carried in the 32-byte MessageType field (§4.4). */
export const MessageType = {
  inputStreamData: "input_stream_data",
  outputStreamData: "output_stream_data",
  acknowledge: "acknowledge",
  channelClosed: "channel_closed",
  startPublication: "start_publication",
  pausePublication: "pause_publication",
  agentSessionState: "agent_session_state",
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Types seen only on the agent's control channel; accepted by the decoder, never used by us. */
export const CONTROL_CHANNEL_MESSAGE_TYPES: readonly string[] = [
  "interactive_shell",
  "agent_task_reply",
  "agent_task_complete",
  "agent_task_acknowledge",
  "agent_job",
  "agent_job_ack",
  "agent_job_reply",
  "agent_job_reply_ack",
];

/** PayloadType values (§4.6). */
export const PayloadType = {
  unset: 0,
  output: 1,
  error: 2,
  size: 3,
  parameter: 4,
  handshakeRequest: 5,
  handshakeResponse: 6,
  handshakeComplete: 7,
  encChallengeRequest: 8,
  encChallengeResponse: 9,
  flag: 10,
  stdErr: 11,
  exitCode: 12,
} as const;
export type PayloadType = (typeof PayloadType)[keyof typeof PayloadType];

/** Values of the 4-byte Flag payload (PayloadType 10, §4.6). */
export const FlagValue = {
  disconnectToPort: 1,
  terminateSession: 2,
  connectToPortError: 3,
} as const;
export type FlagValue = (typeof FlagValue)[keyof typeof FlagValue];

/** Header `Flags` bits (§4.5): nobody validates them; 0 for data, 3 for acks is what official peers write. */
export const HeaderFlags = {
  none: 0,
  syn: 1,
  fin: 2,
  ack: 3,
} as const;

/** Byte layout of the header (§4.1). Every integer is big-endian. */
export const Layout = {
  headerLengthOffset: 0,
  messageTypeOffset: 4,
  messageTypeLength: 32,
  schemaVersionOffset: 36,
  createdDateOffset: 40,
  sequenceNumberOffset: 48,
  flagsOffset: 56,
  messageIdOffset: 64,
  messageIdLength: 16,
  payloadDigestOffset: 80,
  payloadDigestLength: 32,
  payloadTypeOffset: 112,
  /** What writers put in HeaderLength: the offset of PayloadLength. */
  headerLength: 116,
  /** MGS-generated channel_closed may come with HL=112 (no PayloadType field, §4.3 rule 3). */
  minHeaderLength: 112,
  /** Header plus PayloadLength field: payload starts here when HL=116. */
  fixedSize: 120,
} as const;

/** Session types named in the handshake (§5.3). */
export const SessionType = {
  standardStream: "Standard_Stream",
  interactiveCommands: "InteractiveCommands",
  nonInteractiveCommands: "NonInteractiveCommands",
  port: "Port",
} as const;
export type SessionType = (typeof SessionType)[keyof typeof SessionType];

/** Handshake action status codes (§5.3). */
export const ActionStatus = {
  success: 1,
  failed: 2,
  unsupported: 3,
} as const;
export type ActionStatus = (typeof ActionStatus)[keyof typeof ActionStatus];

/** Handshake action types (§5.3). */
export const ActionType = {
  kmsEncryption: "KMSEncryption",
  sessionType: "SessionType",
} as const;

/** The largest payload a decoder accepts; far above anything the service sends (1 KiB chunks). */
export const MAX_PAYLOAD_LENGTH = 16 * 1024 * 1024;
