/**
 * The agent's side of the KMS envelope (ssm-protocol.md §5.4): it seals what it sends with
 * K[0:32] under a 96-bit counter nonce that starts at a random value, and opens what the client
 * sends with K[32:64].
 */
import {
  NONCE_LENGTH,
  nextCounterNonce,
  openPayload,
  type SessionKeys,
  sealPayload,
} from "@aws-runas/wire/protocol/index.js";

export class AgentCipher {
  readonly #keys: SessionKeys;
  #nonce: Buffer;

  /** `initialNonce`: 12 random bytes, the counter's start. */
  constructor(keys: SessionKeys, initialNonce: Buffer) {
    if (initialNonce.length !== NONCE_LENGTH) throw new RangeError("the initial nonce must be 12 bytes");
    this.#keys = keys;
    this.#nonce = Buffer.from(initialNonce);
  }

  /** Encrypts an agent → client payload (Output, StdErr, ExitCode, the challenge). */
  seal(plaintext: Uint8Array): Buffer {
    this.#nonce = nextCounterNonce(this.#nonce);
    return sealPayload(this.#keys.agentToClient, this.#nonce, plaintext);
  }

  /** Decrypts a client → agent Output payload; throws ProtocolError when it fails authentication. */
  open(sealed: Uint8Array): Buffer {
    return openPayload(this.#keys.clientToAgent, sealed);
  }
}
