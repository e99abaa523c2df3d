/**
 * The ssh-agent protocol (draft-miller-ssh-agent §3–§4), the part `--ec2ic` needs: each message
 * is `uint32 length | byte type | body`; SSH2_AGENTC_REQUEST_IDENTITIES (11) is answered by
 * SSH2_AGENT_IDENTITIES_ANSWER (12) = `uint32 nkeys` then `string key_blob, string comment`
 * per key. Values in, values out.
 */
import { SshAgentError, SshFormatError } from "./errors.js";
import { SshReader } from "./wire.js";

/** Message numbers used here. */
export const AgentMessageType = {
  /** SSH_AGENT_FAILURE: the agent refused the request. */
  failure: 5,
  /** SSH2_AGENTC_REQUEST_IDENTITIES: "list your keys" (no body). */
  requestIdentities: 11,
  /** SSH2_AGENT_IDENTITIES_ANSWER: the key list. */
  identitiesAnswer: 12,
} as const;
export type AgentMessageType = (typeof AgentMessageType)[keyof typeof AgentMessageType];

/** Largest message accepted from an agent (OpenSSH's own limit, AGENT_MAX_LEN). */
export const AGENT_MAX_MESSAGE = 256 * 1024;

/** One key the agent holds: its public key blob and comment (often the file it came from). */
export interface AgentIdentity {
  readonly blob: Buffer;
  readonly comment: string;
}

/** Frames one message: `uint32 length` (type byte + body), type, body. */
export function encodeAgentMessage(type: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out.writeUInt32BE(1 + body.length, 0);
  out[4] = type;
  body.copy(out, 5);
  return out;
}

/**
 * Splits a byte stream into whole agent messages (type byte + body, without the length).
 * Keeps a partial message across chunks; refuses lengths over {@link AGENT_MAX_MESSAGE}.
 */
export class AgentFrameDecoder {
  #pending: Buffer = Buffer.alloc(0);

  /** Adds bytes and returns every message now complete. */
  push(chunk: Buffer): Buffer[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const messages: Buffer[] = [];
    while (this.#pending.length >= 4) {
      const length = this.#pending.readUInt32BE(0);
      if (length === 0 || length > AGENT_MAX_MESSAGE) {
        throw new SshFormatError(
          `ssh-agent message length ${length} is out of range (1..${AGENT_MAX_MESSAGE})`,
        );
      }
      if (this.#pending.length < 4 + length) break;
      messages.push(this.#pending.subarray(4, 4 + length));
      this.#pending = this.#pending.subarray(4 + length);
    }
    return messages;
  }
}

/** Decodes the agent's reply to REQUEST_IDENTITIES (a whole message: type byte + body). */
export function decodeIdentitiesAnswer(message: Buffer): AgentIdentity[] {
  const r = new SshReader(message);
  const type = r.byte("message type");
  if (type === AgentMessageType.failure) throw new SshAgentError("ssh-agent refused to list its keys");
  if (type !== AgentMessageType.identitiesAnswer) {
    throw new SshAgentError(
      `ssh-agent answered message type ${type} instead of ${AgentMessageType.identitiesAnswer}`,
    );
  }
  const count = r.uint32("key count");
  // Each key takes at least 8 bytes, so a count beyond that is a lie we need not allocate for.
  if (count > r.remaining / 8)
    throw new SshFormatError(`ssh-agent claims ${count} keys in ${r.remaining} bytes`);
  const identities: AgentIdentity[] = [];
  for (let i = 0; i < count; i++) {
    const blob = Buffer.from(r.string(`key ${i} blob`));
    const comment = r.string(`key ${i} comment`).toString("utf8");
    identities.push({ blob, comment });
  }
  return identities;
}
