/**
 * The agent's half of the session handshake (ssm-protocol.md §5.3, §5.4), as pure functions:
 * which sessions need one, the HandshakeRequest to send, and the checks on the client's answer.
 *
 * ```
 *  agent                                   client
 *  HandshakeRequest (pt 5, seq 0) ───────►
 *                                 ◄─────── HandshakeResponse (pt 6, seq 0)   15 s timeout
 *  [KMS] EncChallengeRequest (pt 8) ─────►
 *                                 ◄─────── EncChallengeResponse (pt 9)       15 s timeout
 *  HandshakeComplete (pt 7) ─────────────►
 * ```
 */
import {
  ActionStatus,
  ActionType,
  type HandshakeRequestPayload,
  type HandshakeResponsePayload,
  type RequestedClientAction,
} from "@aws-runas/wire/protocol/index.js";
import { AgentError } from "./errors.js";
import type { AgentSessionSpec } from "./types.js";

/** What the agent's plugin tells a client whose handshake step took too long (AGT `PerformHandshake`). */
export const HANDSHAKE_TIMEOUT_MESSAGE =
  "Handshake timed out. Please ensure that you have the latest version of the session manager plugin.";

/** CustomerMessage of HandshakeComplete on encrypted sessions. */
export const KMS_CUSTOMER_MESSAGE = "This session is encrypted using AWS KMS.";

/** KMS applies to the shell family only, never to Port sessions (AGT `isEncryptionEnabled`). */
export function usesKms(spec: AgentSessionSpec): boolean {
  return spec.sessionType !== "Port" && spec.kmsKeyId !== undefined && spec.kmsKeyId !== "";
}

/** Port and NonInteractiveCommands sessions always shake hands; shells only when encrypted (§1, §6.5). */
export function needsHandshake(spec: AgentSessionSpec): boolean {
  return spec.sessionType === "Port" || spec.sessionType === "NonInteractiveCommands" || usesKms(spec);
}

/** The HandshakeRequest payload: SessionType first, then KMSEncryption when encrypted. */
export function buildHandshakeRequest(spec: AgentSessionSpec): HandshakeRequestPayload {
  const actions: RequestedClientAction[] = [
    {
      ActionType: ActionType.sessionType,
      ActionParameters: {
        SessionType: spec.sessionType,
        // Port sessions pass their document properties; the shell family sends null.
        Properties:
          spec.sessionType === "Port" && spec.properties
            ? { ...(spec.properties as unknown as Record<string, unknown>) }
            : null,
      },
    },
  ];
  if (usesKms(spec)) {
    actions.push({ ActionType: ActionType.kmsEncryption, ActionParameters: { KMSKeyId: spec.kmsKeyId! } });
  }
  return { AgentVersion: spec.agentVersion, RequestedClientActions: actions };
}

/** What the agent takes from a successful HandshakeResponse. */
export interface AcceptedHandshake {
  clientVersion: string;
  /** The encrypted 64-byte data key, when KMS was requested. */
  kmsCipherTextKey?: Buffer;
}

/**
 * Checks the client's answer against what was requested: every requested action must come back
 * with ActionStatus 1 (AGT `handleHandshakeResponse`). Throws {@link AgentError} otherwise.
 */
export function acceptHandshakeResponse(
  request: HandshakeRequestPayload,
  response: HandshakeResponsePayload,
): AcceptedHandshake {
  const accepted: AcceptedHandshake = { clientVersion: response.ClientVersion };
  for (const requested of request.RequestedClientActions) {
    const processed = response.ProcessedClientActions.find((a) => a.ActionType === requested.ActionType);
    if (!processed) {
      throw new AgentError(
        "AGENT_HANDSHAKE_FAILED",
        `${requested.ActionType} was not processed by the client. Please ensure that you have the latest version of the session manager plugin.`,
      );
    }
    if (processed.ActionStatus !== ActionStatus.success) {
      throw new AgentError(
        "AGENT_HANDSHAKE_FAILED",
        `${processed.ActionType} failed on client with status ${processed.ActionStatus} error: ${processed.Error}`,
      );
    }
    if (requested.ActionType === ActionType.kmsEncryption) {
      const result = processed.ActionResult as { KMSCipherTextKey?: unknown } | null;
      const key = typeof result?.KMSCipherTextKey === "string" ? result.KMSCipherTextKey : "";
      if (key === "") {
        throw new AgentError(
          "AGENT_HANDSHAKE_FAILED",
          "KMSEncryption succeeded on the client without a data key",
        );
      }
      accepted.kmsCipherTextKey = Buffer.from(key, "base64");
    }
  }
  return accepted;
}
