/**
 * The client's answers in the handshake (ssm-protocol.md §5.3, §5.4): which requested actions it
 * performs and with which results. Pure apart from the injected KMS call.
 */
import {
  ActionStatus,
  ActionType,
  type HandshakeRequestPayload,
  type HandshakeResponsePayload,
  type KmsEncryptionResult,
  type ProcessedClientAction,
  type SessionKeys,
  SessionType,
  splitDataKey,
} from "@aws-runas/wire/protocol/index.js";

/** KMS GenerateDataKey (64 bytes) with the session's encryption context. */
export type GenerateDataKey = (
  keyId: string,
  encryptionContext: Record<string, string>,
) => Promise<{ plaintext: Uint8Array; ciphertextBlob: Uint8Array }>;

export interface SessionTypeInfo {
  sessionType: string;
  properties: Record<string, unknown> | null;
}

export interface HandshakeOutcome {
  response: HandshakeResponsePayload;
  sessionType: SessionTypeInfo | null;
  keys: SessionKeys | null;
  /** Failures that make the agent cancel the session (already reported in the response). */
  errors: string[];
}

export interface HandshakeContext {
  clientVersion: string;
  sessionId: string;
  targetId: string;
  generateDataKey?: GenerateDataKey;
}

const KNOWN_SESSION_TYPES = new Set<string>(Object.values(SessionType));

/** Builds the HandshakeResponse for a request, one processed action per requested one, in order. */
export async function answerHandshake(
  request: HandshakeRequestPayload,
  context: HandshakeContext,
): Promise<HandshakeOutcome> {
  const processed: ProcessedClientAction[] = [];
  const errors: string[] = [];
  let sessionType: SessionTypeInfo | null = null;
  let keys: SessionKeys | null = null;

  for (const action of request.RequestedClientActions) {
    if (action.ActionType === ActionType.sessionType) {
      const params = action.ActionParameters as {
        SessionType: string;
        Properties: Record<string, unknown> | null;
      };
      if (KNOWN_SESSION_TYPES.has(params.SessionType)) {
        sessionType = { sessionType: params.SessionType, properties: params.Properties };
        processed.push(ok(action.ActionType, null));
      } else {
        const error = `Unknown session type ${params.SessionType}`;
        errors.push(error);
        processed.push(failed(action.ActionType, error));
      }
    } else if (action.ActionType === ActionType.kmsEncryption) {
      const params = action.ActionParameters as { KMSKeyId: string };
      if (!context.generateDataKey) {
        const error = "KMS encryption requested but no KMS client is available";
        errors.push(error);
        processed.push(failed(action.ActionType, error));
        continue;
      }
      try {
        const dataKey = await context.generateDataKey(params.KMSKeyId, {
          "aws:ssm:SessionId": context.sessionId,
          "aws:ssm:TargetId": context.targetId,
        });
        keys = splitDataKey(dataKey.plaintext);
        processed.push(
          ok(action.ActionType, {
            KMSCipherTextKey: Buffer.from(dataKey.ciphertextBlob).toString("base64"),
            KMSCipherTextHash: null,
          } satisfies KmsEncryptionResult),
        );
      } catch (cause) {
        const error = `KMS GenerateDataKey failed: ${(cause as Error).message}`;
        errors.push(error);
        processed.push(failed(action.ActionType, error));
      }
    } else {
      // Unlike the plugin (which puts 3 in ActionResult), report "unsupported" in ActionStatus.
      processed.push({
        ActionType: action.ActionType,
        ActionStatus: ActionStatus.unsupported,
        ActionResult: null,
        Error: `Unsupported action ${action.ActionType}`,
      });
    }
  }

  return {
    response: {
      ClientVersion: context.clientVersion,
      ProcessedClientActions: processed,
      Errors: errors.length > 0 ? errors : null,
    },
    sessionType,
    keys,
    errors,
  };
}

function ok(actionType: string, result: unknown): ProcessedClientAction {
  return { ActionType: actionType, ActionStatus: ActionStatus.success, ActionResult: result, Error: "" };
}

function failed(actionType: string, error: string): ProcessedClientAction {
  return { ActionType: actionType, ActionStatus: ActionStatus.failed, ActionResult: null, Error: error };
}
