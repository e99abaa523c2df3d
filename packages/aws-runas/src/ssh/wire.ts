/**
 * SSH wire encoding (RFC 4251 §5): big-endian uint32, length-prefixed strings and mpints.
 * Shared by the public-key blob, private-key file and ssh-agent codecs. No I/O.
 */
import { SshFormatError } from "./errors.js";

/** Bounds-checked reader over one buffer; every read past the end throws {@link SshFormatError}. */
export class SshReader {
  readonly #buf: Buffer;
  #pos = 0;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  byte(field: string): number {
    this.#need(1, field);
    return this.#buf[this.#pos++]!;
  }

  uint32(field: string): number {
    this.#need(4, field);
    const value = this.#buf.readUInt32BE(this.#pos);
    this.#pos += 4;
    return value;
  }

  /** A length-prefixed byte string, as a view of the underlying buffer. */
  string(field: string): Buffer {
    const length = this.uint32(`${field} length`);
    this.#need(length, field);
    const out = this.#buf.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return out;
  }

  /** `len` raw bytes (no length prefix). */
  bytes(len: number, field: string): Buffer {
    this.#need(len, field);
    const out = this.#buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    return out;
  }

  #need(n: number, field: string): void {
    if (this.#pos + n > this.#buf.length) {
      throw new SshFormatError(`truncated SSH data: ${field} needs ${n} bytes at offset ${this.#pos}`);
    }
  }
}

/** Encodes `parts` as consecutive SSH strings (uint32 length + bytes). */
export function sshStrings(...parts: readonly (Buffer | string)[]): Buffer {
  const bufs = parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p));
  const out = Buffer.allocUnsafe(bufs.reduce((n, b) => n + 4 + b.length, 0));
  let pos = 0;
  for (const b of bufs) {
    out.writeUInt32BE(b.length, pos);
    b.copy(out, pos + 4);
    pos += 4 + b.length;
  }
  return out;
}

/**
 * An unsigned big-endian integer as an SSH mpint body: leading zero bytes dropped, one zero
 * byte added back when the top bit is set (so it does not read as negative).
 */
export function mpintBody(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start++;
  const trimmed = unsigned.subarray(start);
  if (trimmed.length > 0 && (trimmed[0]! & 0x80) !== 0) return Buffer.concat([Buffer.from([0]), trimmed]);
  return trimmed;
}
