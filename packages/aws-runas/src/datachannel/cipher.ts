/**
 * The KMS envelope of one session (ssm-protocol.md §5.4, §14.9) once the handshake agreed a data
 * key: sealing what the client sends, opening what the agent sends, and the encryption challenge
 * that proves both sides hold the key. Throws on anything that does not open; the caller ends
 * the session, since a resend cannot repair it.
 */
import {
  decodeEncryptionChallenge,
  encodeEncryptionChallenge,
  NONCE_LENGTH,
  openPayload,
  type SessionKeys,
  sealPayload,
} from "@aws-runas/wire/protocol/index.js";
import type { Entropy } from "./clock.js";

export class SessionCipher {
  readonly #keys: SessionKeys;
  readonly #entropy: Entropy;

  constructor(keys: SessionKeys, entropy: Entropy) {
    this.#keys = keys;
    this.#entropy = entropy;
  }

  seal(plaintext: Buffer): Buffer {
    // Random nonces, as the plugin does (§14.9): safe with a fresh 256-bit key per session.
    return sealPayload(this.#keys.clientToAgent, this.#entropy.bytes(NONCE_LENGTH), plaintext);
  }

  open(payload: Buffer): Buffer {
    return openPayload(this.#keys.agentToClient, payload);
  }

  /** The EncChallengeResponse payload for an EncChallengeRequest payload: the challenge, resealed. */
  answerChallenge(requestPayload: Buffer): Buffer {
    const challenge = Buffer.from(decodeEncryptionChallenge(requestPayload).Challenge, "base64");
    const answer = this.seal(this.open(challenge));
    return encodeEncryptionChallenge({ Challenge: answer.toString("base64") });
  }
}
