/** A minimal ssh-agent client over its unix socket: list the keys the agent holds. */
import { connect } from "node:net";
import {
  AgentFrameDecoder,
  type AgentIdentity,
  AgentMessageType,
  decodeIdentitiesAnswer,
  encodeAgentMessage,
} from "./agent-protocol.js";
import { SshAgentError } from "./errors.js";

export interface AgentClientOptions {
  /** Give up after this long without an answer (default 5000 ms). */
  readonly timeoutMs?: number;
}

/**
 * Asks the agent at `socketPath` for its identities (REQUEST_IDENTITIES → IDENTITIES_ANSWER).
 * Rejects with {@link SshAgentError} when the socket cannot be reached, the agent refuses,
 * or it does not answer within the timeout; the connection is always closed.
 */
export function listAgentIdentities(
  socketPath: string,
  options: AgentClientOptions = {},
): Promise<AgentIdentity[]> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    const decoder = new AgentFrameDecoder();
    let settled = false;
    const finish = (error: Error | undefined, identities?: AgentIdentity[]) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) reject(error);
      else resolve(identities ?? []);
    };
    socket.setTimeout(timeoutMs, () =>
      finish(new SshAgentError(`ssh-agent at ${socketPath} did not answer within ${timeoutMs} ms`)),
    );
    socket.on("connect", () => socket.write(encodeAgentMessage(AgentMessageType.requestIdentities)));
    socket.on("data", (chunk: Buffer) => {
      try {
        const [message] = decoder.push(chunk);
        if (message) finish(undefined, decodeIdentitiesAnswer(message));
      } catch (error) {
        finish(
          error instanceof SshAgentError
            ? error
            : new SshAgentError(`ssh-agent: ${(error as Error).message}`, error),
        );
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) =>
      finish(
        new SshAgentError(
          `cannot talk to ssh-agent at ${socketPath} (${error.code ?? error.message})`,
          error,
        ),
      ),
    );
    socket.on("close", () =>
      finish(new SshAgentError(`ssh-agent at ${socketPath} closed the connection without answering`)),
    );
  });
}
