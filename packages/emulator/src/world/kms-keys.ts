/**
 * The emulator's KMS: data keys wrapped under per-emulator master keys, so a CiphertextBlob from
 * GenerateDataKey can be unwrapped only by this emulator and only with the same encryption
 * context (like KMS Decrypt). The simulated agent calls {@link DataKeyService.decryptDataKey}
 * in-process during the KMS handshake (ssm-protocol.md §5.4).
 *
 * CiphertextBlob layout (opaque to clients): `"EMK1" ‖ keyId (36 ASCII) ‖ nonce (12) ‖ tag (16) ‖ AES-256-GCM(plaintext)`,
 * with the canonical (key-sorted) JSON of the encryption context as additional authenticated data.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { ApiError } from "../api/errors.js";
import type { Fixture, FixtureKmsKey } from "../fixture/types.js";

const MAGIC = Buffer.from("EMK1");
const KEY_ID_LENGTH = 36;
const HEADER = MAGIC.length + KEY_ID_LENGTH + 12 + 16;

/** KMS encryption context: string keys to string values. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** A generated data key. */
export interface DataKey {
  plaintext: Buffer;
  ciphertextBlob: Buffer;
  /** ARN of the master key. */
  keyArn: string;
}

function canonicalContext(context: EncryptionContext): Buffer {
  const sorted = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]]);
  return Buffer.from(JSON.stringify(sorted));
}

/** Master keys and data-key wrapping for one emulator. */
export class DataKeyService {
  readonly #fixture: Fixture;
  readonly #secret: Buffer;
  readonly #random: (size: number) => Buffer;

  constructor(fixture: Fixture, random: (size: number) => Buffer = randomBytes) {
    this.#fixture = fixture;
    this.#random = random;
    this.#secret = random(32);
  }

  /** ARN of a fixture key. */
  keyArn(key: FixtureKmsKey): string {
    return `arn:aws:kms:${this.#fixture.region}:${this.#fixture.accountId}:key/${key.keyId}`;
  }

  /** Finds a key by id, key ARN, alias name or alias ARN; throws `NotFoundException` like KMS. */
  resolveKey(keyRef: string): FixtureKmsKey {
    const { region, accountId } = this.#fixture;
    const arnPrefix = `arn:aws:kms:${region}:${accountId}:`;
    const local = keyRef.startsWith(arnPrefix) ? keyRef.slice(arnPrefix.length) : keyRef;
    const key = this.#fixture.kmsKeys.find((k) =>
      local.startsWith("alias/")
        ? k.aliases.includes(local)
        : local === k.keyId || local === `key/${k.keyId}`,
    );
    if (key) return key;
    if (local.startsWith("alias/"))
      throw new ApiError("NotFoundException", `Alias ${arnPrefix}${local} is not found.`);
    throw new ApiError(
      "NotFoundException",
      `Key '${arnPrefix}${local.replace(/^key\//, "key/")}' does not exist`,
    );
  }

  /**
   * The key ARN an authorization error names for `keyRef` (KMS resolves aliases first); a key
   * the fixture does not have still gets the ARN the reference spells.
   */
  resourceArn(keyRef: string): string {
    try {
      return this.keyArn(this.resolveKey(keyRef));
    } catch {
      const { region, accountId } = this.#fixture;
      if (keyRef.startsWith("arn:")) return keyRef;
      const local = keyRef.startsWith("alias/") || keyRef.startsWith("key/") ? keyRef : `key/${keyRef}`;
      return `arn:aws:kms:${region}:${accountId}:${local}`;
    }
  }

  /** The ARN of the key a CiphertextBlob from {@link generateDataKey} names, if it names one of ours. */
  blobKeyArn(ciphertextBlob: Uint8Array): string | undefined {
    const blob = Buffer.from(ciphertextBlob);
    if (blob.length < HEADER || !blob.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const keyId = blob.subarray(MAGIC.length, MAGIC.length + KEY_ID_LENGTH).toString("ascii");
    const key = this.#fixture.kmsKeys.find((k) => k.keyId === keyId);
    return key ? this.keyArn(key) : undefined;
  }

  /** GenerateDataKey: a random key of `numberOfBytes`, plus its wrapped form. */
  generateDataKey(keyRef: string, numberOfBytes: number, context: EncryptionContext = {}): DataKey {
    const key = this.resolveKey(keyRef);
    const plaintext = this.#random(numberOfBytes);
    const nonce = this.#random(12);
    const cipher = createCipheriv("aes-256-gcm", this.#masterKey(key.keyId), nonce);
    cipher.setAAD(canonicalContext(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const blob = Buffer.concat([MAGIC, Buffer.from(key.keyId, "ascii"), nonce, cipher.getAuthTag(), body]);
    return { plaintext, ciphertextBlob: blob, keyArn: this.keyArn(key) };
  }

  /**
   * Decrypt for data keys: unwraps a CiphertextBlob made by {@link generateDataKey}. The context
   * must equal the one used then; otherwise `InvalidCiphertextException`, as KMS answers.
   */
  decryptDataKey(
    ciphertextBlob: Uint8Array,
    context: EncryptionContext = {},
  ): { plaintext: Buffer; keyArn: string } {
    const blob = Buffer.from(ciphertextBlob);
    const invalid = () => new ApiError("InvalidCiphertextException", "", 400);
    if (blob.length < HEADER || !blob.subarray(0, MAGIC.length).equals(MAGIC)) throw invalid();
    const keyId = blob.subarray(MAGIC.length, MAGIC.length + KEY_ID_LENGTH).toString("ascii");
    const key = this.#fixture.kmsKeys.find((k) => k.keyId === keyId);
    if (!key) throw invalid();
    const nonceAt = MAGIC.length + KEY_ID_LENGTH;
    const decipher = createDecipheriv(
      "aes-256-gcm",
      this.#masterKey(keyId),
      blob.subarray(nonceAt, nonceAt + 12),
    );
    decipher.setAAD(canonicalContext(context));
    decipher.setAuthTag(blob.subarray(nonceAt + 12, HEADER));
    try {
      const plaintext = Buffer.concat([decipher.update(blob.subarray(HEADER)), decipher.final()]);
      return { plaintext, keyArn: this.keyArn(key) };
    } catch {
      throw invalid();
    }
  }

  #masterKey(keyId: string): Buffer {
    return Buffer.from(hkdfSync("sha256", this.#secret, Buffer.from(keyId), "aws-runas-emulator kms", 32));
  }
}
