/**
 * The AES-256-GCM envelope of KMS-encrypted sessions (ssm-protocol.md §5.4).
 *
 * The 64-byte KMS data key is split: bytes 0..31 encrypt agent → client traffic, bytes 32..63
 * client → agent. An encrypted payload is `nonce(12) ‖ ciphertext ‖ tag(16)`, no AAD. Nonces are
 * inputs (the caller draws random ones or counts), so this module stays deterministic.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { ProtocolError } from "../errors.js";

export const DATA_KEY_LENGTH = 64;
export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;

export interface SessionKeys {
  /** K[0:32]: the agent encrypts with it, the client decrypts. */
  agentToClient: Buffer;
  /** K[32:64]: the client encrypts with it, the agent decrypts. */
  clientToAgent: Buffer;
}

/** Splits the 64-byte plaintext data key from KMS GenerateDataKey (§5.4 step 4). */
export function splitDataKey(dataKey: Uint8Array): SessionKeys {
  if (dataKey.length !== DATA_KEY_LENGTH) {
    throw new ProtocolError("PROTOCOL_BAD_FIELD", `KMS data key must be 64 bytes, got ${dataKey.length}`);
  }
  const key = Buffer.from(dataKey);
  return { agentToClient: key.subarray(0, 32), clientToAgent: key.subarray(32, 64) };
}

/** Encrypts one payload: returns nonce ‖ ciphertext ‖ tag. */
export function sealPayload(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Buffer {
  if (nonce.length !== NONCE_LENGTH) {
    throw new ProtocolError("PROTOCOL_BAD_FIELD", `GCM nonce must be 12 bytes, got ${nonce.length}`);
  }
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const body = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** Decrypts nonce ‖ ciphertext ‖ tag; a wrong key, truncation or tampering is a ProtocolError. */
export function openPayload(key: Uint8Array, sealed: Uint8Array): Buffer {
  if (sealed.length < NONCE_LENGTH + TAG_LENGTH) {
    throw new ProtocolError(
      "PROTOCOL_DECRYPT_FAILED",
      `encrypted payload too short (${sealed.length} bytes)`,
    );
  }
  const nonce = sealed.subarray(0, NONCE_LENGTH);
  const tag = sealed.subarray(sealed.length - TAG_LENGTH);
  const body = sealed.subarray(NONCE_LENGTH, sealed.length - TAG_LENGTH);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce);
    decipher.setAuthTag(tag);
    const out = decipher.update(body);
    decipher.final();
    return out;
  } catch (cause) {
    throw new ProtocolError("PROTOCOL_DECRYPT_FAILED", "encrypted payload failed authentication", cause);
  }
}

/**
 * Next nonce of a 96-bit counter stored as three little-endian uint32 words with carry — the
 * agent's scheme (§5.4 step 5). Returns a new buffer.
 */
export function nextCounterNonce(nonce: Uint8Array): Buffer {
  const out = Buffer.from(nonce);
  for (let word = 0; word < 3; word++) {
    const value = out.readUInt32LE(word * 4);
    if (value !== 0xffffffff) {
      out.writeUInt32LE(value + 1, word * 4);
      return out;
    }
    out.writeUInt32LE(0, word * 4);
  }
  return out;
}
