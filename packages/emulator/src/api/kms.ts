/**
 * KMS (JSON 1.1, `TrentService.*`): GenerateDataKey and Decrypt, backed by
 * {@link DataKeyService} so the simulated agent can unwrap the same blobs in-process.
 */
import type { JsonOperation } from "./context.js";
import { ApiError, validationError } from "./errors.js";
import { JsonInput } from "./input.js";

const KEY_SPEC_BYTES: Record<string, number> = { AES_256: 32, AES_128: 16 };

const generateDataKey: JsonOperation = (call, ctx) => {
  const input = new JsonInput(call.json);
  const keyId = input.requiredString("KeyId");
  const numberOfBytes = input.integer("NumberOfBytes", 1, 1024);
  const keySpec = input.string("KeySpec");
  const context = input.stringMap("EncryptionContext") ?? {};
  input.strings("GrantTokens");
  if ((numberOfBytes === undefined) === (keySpec === undefined)) {
    throw validationError("json", "Please specify either number of bytes or key spec.");
  }
  if (keySpec !== undefined && !(keySpec in KEY_SPEC_BYTES)) {
    throw validationError(
      "json",
      `1 validation error detected: Value '${keySpec}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]`,
    );
  }
  const size = numberOfBytes ?? KEY_SPEC_BYTES[keySpec ?? ""] ?? 32;
  const key = ctx.dataKeys.generateDataKey(keyId, size, context);
  return {
    CiphertextBlob: key.ciphertextBlob.toString("base64"),
    Plaintext: key.plaintext.toString("base64"),
    KeyId: key.keyArn,
  };
};

const decrypt: JsonOperation = (call, ctx) => {
  const input = new JsonInput(call.json);
  const blob = input.blob("CiphertextBlob");
  if (blob === undefined) {
    throw validationError(
      "json",
      "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null",
    );
  }
  const context = input.stringMap("EncryptionContext") ?? {};
  const keyId = input.string("KeyId");
  const result = ctx.dataKeys.decryptDataKey(blob, context);
  if (keyId !== undefined && ctx.dataKeys.keyArn(ctx.dataKeys.resolveKey(keyId)) !== result.keyArn) {
    throw new ApiError(
      "IncorrectKeyException",
      "The key ID in the request does not identify a CMK that can perform this operation.",
    );
  }
  return {
    KeyId: result.keyArn,
    Plaintext: result.plaintext.toString("base64"),
    EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
  };
};

/** KMS operations by name (the part after `TrentService.`). */
export const kmsOperations: Readonly<Record<string, JsonOperation>> = {
  GenerateDataKey: generateDataKey,
  Decrypt: decrypt,
};
