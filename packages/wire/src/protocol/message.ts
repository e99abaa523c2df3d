/**
 * Encode and decode the binary Session Manager message (ssm-protocol.md §4). Pure: no clock, no
 * randomness, no I/O — `createdDate`, `messageId` and `sequenceNumber` come in as fields.
 *
 * ```
 *  0   HeaderLength   u32  (116; 112 accepted from MGS)
 *  4   MessageType    32 bytes ASCII, space padded
 * 36   SchemaVersion  u32
 * 40   CreatedDate    u64  milliseconds
 * 48   SequenceNumber i64
 * 56   Flags          u64
 * 64   MessageId      16 bytes, UUID halves swapped (§4.2)
 * 80   PayloadDigest  32 bytes SHA-256(payload)
 * 112  PayloadType    u32  (only when HL >= 116)
 * HL   PayloadLength  u32
 * HL+4 Payload
 * ```
 */
import { hash } from "node:crypto";
import { ProtocolError } from "../errors.js";
import { CONTROL_CHANNEL_MESSAGE_TYPES, Layout, MAX_PAYLOAD_LENGTH, MessageType } from "./constants.js";

/** One decoded or to-be-encoded message. `payload` of a decoded message is a view of the input. */
export interface SsmMessage {
  /** §4.1 offset 4: the trimmed type string. */
  messageType: string;
  /** §4.1 offset 36: always 1 in practice. */
  schemaVersion: number;
  /** §4.1 offset 40: milliseconds since the Unix epoch; never 0. */
  createdDate: number;
  /** §4.1 offset 48: per-direction stream counter; 0 for acks and control messages. */
  sequenceNumber: number;
  /** §4.1 offset 56: 0 data, 1 SYN, 2 FIN, 3 ack (§4.5). */
  flags: number;
  /** §4.1 offset 64: canonical lowercase hyphenated UUID (swapped on the wire). */
  messageId: string;
  /** §4.1 offset 112: §4.6 value. */
  payloadType: number;
  /** §4.1 offset HL+4. */
  payload: Buffer;
}

/** A decoded message also carries what was on the wire for checks and logs. */
export interface DecodedMessage extends SsmMessage {
  headerLength: number;
  /** The whole frame as received; `payload` is a view into it. See {@link wireDigest}. */
  frame: Buffer;
}

export interface DecodeOptions {
  /** Check SHA-256(payload) against the digest (the plugin does; the agent does not). Default true. */
  verifyDigest?: boolean;
}

const KNOWN_TYPES = new Set<string>([...Object.values(MessageType), ...CONTROL_CHANNEL_MESSAGE_TYPES]);
/** The 32-byte space-padded form of each data-channel type, computed once. */
const PADDED_TYPES = new Map<string, Buffer>(Object.values(MessageType).map((t) => [t, padType(t)]));
/** The same, keyed by the field read as latin1: one string slice and one lookup decode the usual case. */
const TYPE_BY_PADDED_FIELD = new Map<string, string>(
  Object.values(MessageType).map((t) => [padType(t).toString("latin1"), t]),
);
/** ASCII code → nibble value (-1 for non-hex), for writing the MessageId. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  NIBBLE[i.toString(16).charCodeAt(0)] = i;
  NIBBLE[i.toString(16).toUpperCase().charCodeAt(0)] = i;
}
const PUBLICATION_TYPES = new Set<string>([MessageType.startPublication, MessageType.pausePublication]);
const TWO_POW_32 = 2 ** 32;

function padType(type: string): Buffer {
  const padded = Buffer.alloc(Layout.messageTypeLength, 0x20);
  padded.write(type, 0, "latin1");
  return padded;
}

/** SHA-256 of the payload, the value of PayloadDigest. */
export function payloadDigest(payload: Uint8Array): Buffer {
  return Buffer.from(digestLatin1(payload), "latin1");
}

/**
 * The digest as a latin1 string (one char per byte). Node 20's `crypto.hash` returns a string about
 * 1.5x faster than a Buffer, and the codec hashes every message twice (once per side).
 */
function digestLatin1(payload: Uint8Array): string {
  return hash("sha256", payload, "binary"); // "binary" is Node's alias of latin1
}

/** Bytes of an encoded message whose payload has `payloadLength` bytes. */
export function encodedLength(payloadLength: number): number {
  return Layout.fixedSize + payloadLength;
}

/**
 * Encodes a message into one exactly sized buffer (HeaderLength 116, space-padded type, fresh
 * digest): a new one, or `into`, which must be {@link encodedLength} bytes long (memory the
 * caller reuses, e.g. the client's ring of unacknowledged frames).
 */
export function encodeMessage(message: SsmMessage, into?: Buffer): Buffer {
  const { payload } = message;
  const size = Layout.fixedSize + payload.length;
  if (into && into.length !== size) {
    throw new RangeError(`encodeMessage: target has ${into.length} bytes, the message needs ${size}`);
  }
  const buf = into ?? Buffer.allocUnsafe(size);
  buf.writeUInt32BE(Layout.headerLength, Layout.headerLengthOffset);
  writeMessageType(buf, message.messageType);
  buf.writeUInt32BE(message.schemaVersion, Layout.schemaVersionOffset);
  writeUint64(buf, Layout.createdDateOffset, message.createdDate, "createdDate");
  writeInt64(buf, Layout.sequenceNumberOffset, message.sequenceNumber);
  writeUint64(buf, Layout.flagsOffset, message.flags, "flags");
  writeUuid(buf, Layout.messageIdOffset, message.messageId);
  buf.write(digestLatin1(payload), Layout.payloadDigestOffset, Layout.payloadDigestLength, "latin1");
  buf.writeUInt32BE(message.payloadType, Layout.payloadTypeOffset);
  buf.writeUInt32BE(payload.length, Layout.headerLength);
  buf.set(payload, Layout.fixedSize);
  return buf;
}

/**
 * Decodes one message from untrusted bytes. Throws only {@link ProtocolError}; the payload is a view
 * of `buf` (no copy). Reader rules of §4.3: types trimmed of NULs and spaces, PayloadLength read at HL,
 * payload from HL+4, PayloadType only when HL >= 116, no validation for publication messages.
 */
export function decodeMessage(buf: Uint8Array, options?: DecodeOptions): DecodedMessage {
  const data = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (data.length < Layout.minHeaderLength + 4) {
    throw new ProtocolError(
      "PROTOCOL_TRUNCATED",
      `message truncated: ${data.length} bytes, a header needs at least ${Layout.minHeaderLength + 4}`,
    );
  }
  const headerLength = data.readUInt32BE(Layout.headerLengthOffset);
  if (headerLength < Layout.minHeaderLength || headerLength > data.length - 4) {
    throw new ProtocolError(
      "PROTOCOL_BAD_HEADER_LENGTH",
      `bad HeaderLength ${headerLength} at offset 0 (frame has ${data.length} bytes)`,
    );
  }
  const messageType = readMessageType(data);
  const payloadLength = data.readUInt32BE(headerLength);
  const payloadStart = headerLength + 4;
  if (payloadLength > data.length - payloadStart || payloadLength > MAX_PAYLOAD_LENGTH) {
    throw new ProtocolError(
      "PROTOCOL_PAYLOAD_OVERFLOW",
      `PayloadLength ${payloadLength} at offset ${headerLength} exceeds the ${data.length - payloadStart} bytes present`,
    );
  }
  const payload = data.subarray(payloadStart, payloadStart + payloadLength);
  const message: DecodedMessage = {
    headerLength,
    messageType,
    schemaVersion: data.readUInt32BE(Layout.schemaVersionOffset),
    createdDate: readUint64(data, Layout.createdDateOffset, "CreatedDate"),
    sequenceNumber: readInt64(data, Layout.sequenceNumberOffset),
    flags: readUint64(data, Layout.flagsOffset, "Flags"),
    messageId: readUuid(data, Layout.messageIdOffset),
    frame: data,
    payloadType: headerLength >= Layout.headerLength ? data.readUInt32BE(Layout.payloadTypeOffset) : 0,
    payload,
  };
  if (PUBLICATION_TYPES.has(messageType)) return message; // §4.3 rule 4: never validated
  if (message.createdDate === 0) {
    throw new ProtocolError("PROTOCOL_BAD_FIELD", "CreatedDate at offset 40 is 0");
  }
  if (
    options?.verifyDigest !== false &&
    payloadLength !== 0 &&
    digestLatin1(payload) !==
      data.toString(
        "latin1",
        Layout.payloadDigestOffset,
        Layout.payloadDigestOffset + Layout.payloadDigestLength,
      )
  ) {
    throw new ProtocolError(
      "PROTOCOL_BAD_DIGEST",
      `payload digest mismatch (${messageType} seq ${message.sequenceNumber})`,
    );
  }
  return message;
}

/** The PayloadDigest field of a decoded message as it came over the wire (a view, no copy). */
export function wireDigest(message: Pick<DecodedMessage, "frame">): Buffer {
  const start = Layout.payloadDigestOffset;
  return message.frame.subarray(start, start + Layout.payloadDigestLength);
}

/** One line for logs and test names, e.g. `output_stream_data seq=3 flags=0 pt=1 len=1024`. */
export function describeMessage(
  m: Pick<SsmMessage, "messageType" | "sequenceNumber" | "flags" | "payloadType" | "payload">,
): string {
  return `${m.messageType} seq=${m.sequenceNumber} flags=${m.flags} pt=${m.payloadType} len=${m.payload.length}`;
}

function writeMessageType(buf: Buffer, type: string): void {
  let padded = PADDED_TYPES.get(type);
  if (!padded) {
    if (type.length === 0 || type.length > Layout.messageTypeLength || !/^[\x21-\x7e]+$/.test(type)) {
      throw new ProtocolError("PROTOCOL_BAD_FIELD", `cannot encode MessageType ${JSON.stringify(type)}`);
    }
    padded = padType(type);
  }
  buf.set(padded, Layout.messageTypeOffset);
}

function readMessageType(data: Buffer): string {
  const raw = data.toString(
    "latin1",
    Layout.messageTypeOffset,
    Layout.messageTypeOffset + Layout.messageTypeLength,
  );
  // Fast path: the space-padded form every official writer uses.
  const known = TYPE_BY_PADDED_FIELD.get(raw);
  if (known !== undefined) return known;
  // §4.3 rule 1: NULs from both ends (MGS and third-party writers pad with them), then whitespace.
  const type = raw.replace(/^\0+|\0+$/g, "").trim();
  if (type.length === 0) throw new ProtocolError("PROTOCOL_BAD_FIELD", "MessageType at offset 4 is empty");
  if (!KNOWN_TYPES.has(type)) {
    throw new ProtocolError(
      "PROTOCOL_UNKNOWN_TYPE",
      `unknown MessageType ${JSON.stringify(type)} at offset 4`,
    );
  }
  return type;
}

function writeUint64(buf: Buffer, offset: number, value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ProtocolError("PROTOCOL_BAD_FIELD", `cannot encode ${field} ${value}`);
  }
  buf.writeUInt32BE(Math.floor(value / TWO_POW_32), offset);
  buf.writeUInt32BE(value % TWO_POW_32, offset + 4);
}

function writeInt64(buf: Buffer, offset: number, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new ProtocolError("PROTOCOL_BAD_FIELD", `cannot encode SequenceNumber ${value}`);
  }
  if (value >= 0) writeUint64(buf, offset, value, "SequenceNumber");
  else buf.writeBigInt64BE(BigInt(value), offset);
}

function readUint64(data: Buffer, offset: number, field: string): number {
  const high = data.readUInt32BE(offset);
  const low = data.readUInt32BE(offset + 4);
  const value = high * TWO_POW_32 + low;
  if (!Number.isSafeInteger(value)) {
    throw new ProtocolError("PROTOCOL_BAD_FIELD", `${field} at offset ${offset} is out of range`);
  }
  return value;
}

function readInt64(data: Buffer, offset: number): number {
  const high = data.readInt32BE(offset);
  if (high >= 0 && high < 0x200000) return high * TWO_POW_32 + data.readUInt32BE(offset + 4);
  const value = data.readBigInt64BE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new ProtocolError("PROTOCOL_BAD_FIELD", `SequenceNumber at offset ${offset} is out of range`);
  }
  return Number(value);
}

/**
 * §4.2: the canonical bytes 8..15 go first, then bytes 0..7. Hex is parsed by hand: this runs for
 * every message sent, and string slicing plus `Buffer.write(hex)` cost more than the rest of encoding.
 */
function writeUuid(buf: Buffer, offset: number, uuid: string): void {
  if (uuid.length !== 36 || uuid[8] !== "-" || uuid[13] !== "-" || uuid[18] !== "-" || uuid[23] !== "-") {
    throw new ProtocolError("PROTOCOL_BAD_FIELD", `cannot encode MessageId ${uuid}`);
  }
  let canonicalByte = 0;
  for (let i = 0; i < 36; i += 2) {
    if (i === 8 || i === 13 || i === 18 || i === 23) i++; // skip the hyphen
    const high = NIBBLE[uuid.charCodeAt(i)] ?? -1;
    const low = NIBBLE[uuid.charCodeAt(i + 1)] ?? -1;
    if (high < 0 || low < 0) throw new ProtocolError("PROTOCOL_BAD_FIELD", `cannot encode MessageId ${uuid}`);
    // Canonical bytes 0..7 land in the second half of the field, 8..15 in the first.
    buf[offset + ((canonicalByte + 8) & 15)] = (high << 4) | low;
    canonicalByte++;
  }
}

function readUuid(data: Buffer, offset: number): string {
  // Wire bytes 8..15 are canonical bytes 0..7 (§4.2). One native hex conversion, then slices.
  const hex = data.toString("hex", offset, offset + Layout.messageIdLength);
  return `${hex.slice(16, 24)}-${hex.slice(24, 28)}-${hex.slice(28, 32)}-${hex.slice(0, 4)}-${hex.slice(4, 16)}`;
}
