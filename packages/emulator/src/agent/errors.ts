/**
 * Failures of a simulated agent session. They end the session: the message becomes the
 * `Output` of the `channel_closed` the client receives, as the real service reports plugin errors.
 */
import { RunasError } from "@aws-runas/wire/errors.js";

export type AgentErrorCode =
  /** No HandshakeResponse / EncChallengeResponse within 15 s. */
  | "AGENT_HANDSHAKE_TIMEOUT"
  /** The client failed an action, sent a bad response, or the challenge did not match. */
  | "AGENT_HANDSHAKE_FAILED"
  /** The KMS data key could not be decrypted (wrong key or encryption context). */
  | "AGENT_KMS"
  /** The port target is not allowed or cannot be reached. */
  | "AGENT_PORT"
  /** The shell or command could not be started. */
  | "AGENT_SHELL";

/** A simulated agent session failed; `message` is what the client is told. */
export class AgentError extends RunasError {
  declare readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, cause?: unknown) {
    super(code, message, { cause });
  }
}
