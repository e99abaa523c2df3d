/**
 * What a simulated agent session needs to know, and the services it calls. Data only.
 */
import type { Logger } from "@aws-runas/wire/log.js";
import type { Pacing } from "../program/options.js";
import type { AgentEntropy, TimerClock } from "../world/clock.js";
import type { SessionProperties, SessionType } from "../world/documents.js";
import type { AgentChannelLimits } from "./channel/limits.js";

/**
 * KMS Decrypt inside the emulator (no HTTP): returns the plaintext data key, or throws when the
 * ciphertext is not one of ours or the encryption context differs from GenerateDataKey's.
 */
export type KmsDecrypt = (request: {
  ciphertextBlob: Uint8Array;
  /** The key named in the session preferences (id, ARN or alias). */
  keyId: string;
  encryptionContext: Record<string, string>;
}) => Promise<Uint8Array> | Uint8Array;

/** One session as the agent sees it (from StartSession and the instance's fixture entry). */
export interface AgentSessionSpec {
  sessionId: string;
  /** The instance id: the KMS `aws:ssm:TargetId` and channel_closed's DestinationId. */
  instanceId: string;
  /** The instance's four-part agent version, reported in the HandshakeRequest. */
  agentVersion: string;
  sessionType: SessionType;
  /** Resolved document properties; null for plain shells. */
  properties: SessionProperties;
  /** From the session preferences: shell-family sessions run the KMS handshake. */
  kmsKeyId?: string;
  /** Session preferences (minutes), enforced by the gateway on the emulator clock. */
  idleSessionTimeout?: number;
  maxSessionDuration?: number;
}

/** Machine-wide settings shared by every agent session. */
export interface AgentEnvironment {
  pacing: Pacing;
  /** Host names that remote-host forwarding maps to 127.0.0.1 (the fixture's `remoteHosts`). */
  remoteHosts: readonly string[];
  kmsDecrypt?: KmsDecrypt;
  /** Shell for Standard_Stream sessions and for running commands; see `shell-command.ts`. */
  shell?: string;
  /** Handshake step timeout; the agent's is 15 s. */
  handshakeTimeoutMs?: number;
  /** How long a finished session waits for its last messages to be acked (agent: 2 s). */
  closeFlushMs?: number;
  /** Data-channel bounds of the agent's endpoint (tests shrink the unacked high-water mark). */
  limits?: Partial<AgentChannelLimits>;
  clock?: TimerClock;
  entropy?: AgentEntropy;
  logger?: Logger;
}
