/**
 * What both ends of a SigV4-signed data-channel upgrade (ssm-protocol.md §3.1) agree on: the
 * credential-scope service, and SHA-256 / HMAC-SHA-256 from `node:crypto` in the shape
 * `@smithy/signature-v4` expects. Pure.
 */
import { createHash, createHmac } from "node:crypto";

/** The credential-scope service of the data channel. */
export const DATA_CHANNEL_SERVICE = "ssmmessages";

/** `node:crypto` SHA-256 / HMAC-SHA-256 in the shape `@smithy/signature-v4` expects. */
export class Sha256 {
  readonly #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
  reset(): void {
    throw new Error("not supported");
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
