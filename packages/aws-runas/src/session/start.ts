/**
 * StartSession and the data channel behind it. The same SSM client (and so the same resolved
 * credentials) serves StartSession, ResumeSession after a drop and TerminateSession; KMS
 * GenerateDataKey uses the same credentials too — unlike the original, which fell back to the
 * default credential chain for those (cli-reference §5).
 */

import { RunasError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import type { KMSClient } from "@aws-sdk/client-kms";
import { awsErrorFrom } from "../aws/index.js";
import type { SsmClient, StartSessionInput } from "../aws/ssm-client.js";
import { DataChannel, type DataChannelOptions } from "../datachannel/index.js";

/** One ResumeSession call (with the client's own retries) may take this long. */
const RESUME_CALL_TIMEOUT_MS = 20_000;

/** What StartSession returned, validated at the boundary. */
export interface StartedSession {
  sessionId: string;
  tokenValue: string;
  streamUrl: string;
}

export interface StartSessionRequest {
  target: string;
  documentName?: string;
  parameters?: Record<string, string[]>;
  reason?: string;
}

export function toStartSessionInput(request: StartSessionRequest): StartSessionInput {
  const input: StartSessionInput = { Target: request.target };
  if (request.documentName) input.DocumentName = request.documentName;
  if (request.parameters && Object.keys(request.parameters).length > 0) input.Parameters = request.parameters;
  if (request.reason) input.Reason = request.reason;
  return input;
}

/** Calls StartSession (the client retries throttling with back-off) and checks the response. */
export async function startSession(
  ssm: SsmClient,
  request: StartSessionRequest,
  logger: Logger,
): Promise<StartedSession> {
  let out: { SessionId?: string; TokenValue?: string; StreamUrl?: string };
  try {
    out = await ssm.startSession(toStartSessionInput(request));
  } catch (error) {
    throw awsErrorFrom(error);
  }
  if (!out.SessionId || !out.TokenValue || !out.StreamUrl) {
    throw new RunasError("BAD_START_SESSION", "StartSession returned no SessionId, TokenValue or StreamUrl");
  }
  logger.addSecret(out.TokenValue);
  return { sessionId: out.SessionId, tokenValue: out.TokenValue, streamUrl: out.StreamUrl };
}

export interface OpenChannelOptions {
  ssm: SsmClient;
  /** Built lazily: only KMS-encrypted sessions need it. */
  kms: () => Promise<KMSClient>;
  started: StartedSession;
  target: string;
  logger: Logger;
  limits?: DataChannelOptions["limits"];
  /** Extra trusted CAs for the websocket (`AWS_CA_BUNDLE`, as the SDK honours it for API calls). */
  ca?: Buffer;
  /** SigV4 headers for the websocket upgrade (fresh credentials on every reconnect). */
  signUpgrade?: DataChannelOptions["signUpgrade"];
  /** The websocket's TCP connection (proxy tunnel). */
  dial?: DataChannelOptions["dial"];
  observeDate?: DataChannelOptions["observeDate"];
  /** How long to keep trying to resume after the connection is lost. */
  reconnectWindowMs?: number;
}

/** Opens the websocket data channel with resume and KMS wired to the session's own credentials. */
export async function openSessionChannel(options: OpenChannelOptions): Promise<DataChannel> {
  const { ssm, started, logger } = options;
  return DataChannel.open({
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.signUpgrade ? { signUpgrade: options.signUpgrade } : {}),
    ...(options.dial ? { dial: options.dial } : {}),
    ...(options.observeDate ? { observeDate: options.observeDate } : {}),
    ...(options.reconnectWindowMs !== undefined ? { reconnectWindowMs: options.reconnectWindowMs } : {}),
    streamUrl: started.streamUrl,
    tokenValue: started.tokenValue,
    sessionId: started.sessionId,
    targetId: options.target,
    logger,
    limits: options.limits,
    resume: async () => {
      logger.debug(`resuming session ${started.sessionId}`);
      try {
        // A request that hangs (packets vanish on a dead network) must not stall the resume
        // loop: give up on this attempt and let the loop try again.
        const out = await ssm.resumeSession(
          { SessionId: started.sessionId },
          { abortSignal: AbortSignal.timeout(RESUME_CALL_TIMEOUT_MS) },
        );
        return { tokenValue: out.TokenValue, streamUrl: out.StreamUrl };
      } catch (error) {
        throw awsErrorFrom(error);
      }
    },
    generateDataKey: async (keyId, encryptionContext) => {
      const kms = await options.kms();
      // Loaded here, not at start: only KMS-encrypted sessions need it, and a forwarder that never
      // does keeps its code out of memory.
      const { GenerateDataKeyCommand } = await import("@aws-sdk/client-kms");
      const out = await kms.send(
        new GenerateDataKeyCommand({
          KeyId: keyId,
          NumberOfBytes: 64,
          EncryptionContext: encryptionContext,
        }),
      );
      if (!out.Plaintext || !out.CiphertextBlob)
        throw new RunasError("KMS_NO_KEY", "KMS returned no data key");
      return { plaintext: out.Plaintext, ciphertextBlob: out.CiphertextBlob };
    },
  });
}

/** How long TerminateSession may take before the client gives up on it (it is exiting anyway). */
const TERMINATE_TIMEOUT_MS = 5000;

/** TerminateSession; failures are logged, not thrown (the session is ending anyway). */
export async function terminateSession(ssm: SsmClient, sessionId: string, logger: Logger): Promise<void> {
  try {
    await ssm.terminateSession(
      { SessionId: sessionId },
      { abortSignal: AbortSignal.timeout(TERMINATE_TIMEOUT_MS) },
    );
  } catch (error) {
    logger.debug(`TerminateSession failed: ${(error as Error).message}`);
  }
}

export interface EndSessionOptions {
  ssm: SsmClient;
  sessionId: string;
  logger: Logger;
  /** The data channel, when it was opened. */
  channel?: DataChannel | undefined;
  /** Port sessions (forward, ssh): send Flag TerminateSession first (ssm-protocol.md §6.3). */
  flag?: boolean;
}

/**
 * Ends a session we started, whatever ended it (normal end, remote exit, error, signal, closed
 * pipe...): the TerminateSession flag for port sessions (the agent stops at once), the channel
 * closed (a graceful close flushes that flag), then the TerminateSession API, which also covers
 * shells (their agents ignore flags), old agents and channels that never opened. Calling the API
 * after the session already ended is harmless: the service answers it the same way.
 */
export async function endSession(options: EndSessionOptions): Promise<void> {
  const { channel } = options;
  if (channel) {
    if (options.flag) channel.terminate();
    channel.close();
  }
  await terminateSession(options.ssm, options.sessionId, options.logger);
}
