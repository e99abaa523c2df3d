/**
 * The smux frame format (xtaci/smux `frame.go`, ssm-protocol.md §7.3): pure encode/decode, no I/O.
 *
 * ```
 *  0  version   u8              1 (v2 adds the UPD command)
 *  1  cmd       u8              0 SYN, 1 FIN, 2 PSH, 3 NOP, 4 UPD (v2 only)
 *  2  length    u16 little-endian  number of data bytes that follow the header
 *  4  streamId  u32 little-endian
 *  8  data      `length` bytes (PSH: stream bytes; UPD: consumed u32 LE + window u32 LE; others: none)
 * ```
 *
 * Unlike the SSM message header (big-endian), both integers are little-endian (§12 item 14).
 */
import type { MuxError } from "../errors.js";
import { muxError } from "./errors.js";

/** smux protocol versions. Session Manager uses 1 (`smux.DefaultConfig`); 2 adds per-stream windows. */
export type MuxVersion = 1 | 2;

/** Frame commands. */
export const Cmd = {
  /** Opens a stream (the id is chosen by the opener: odd for the client, even for the server). */
  syn: 0,
  /** Closes the sender's write side of a stream: an EOF mark, ordered after its data. */
  fin: 1,
  /** Carries stream data. */
  psh: 2,
  /** Keepalive; stream id 0, no data. */
  nop: 3,
  /** v2 only: window update, data = bytes consumed (u32 LE) + receive window (u32 LE). */
  upd: 4,
} as const;
export type Cmd = (typeof Cmd)[keyof typeof Cmd];

/** Size of the fixed frame header. */
export const HEADER_LENGTH = 8;
/** Largest value the 16-bit length field can carry. */
export const MAX_FRAME_LENGTH = 0xffff;
/** Data length of a UPD frame. */
export const UPD_LENGTH = 8;
/** The largest stream id (the field is a u32). */
export const MAX_STREAM_ID = 0xffffffff;

const CMD_NAMES = ["SYN", "FIN", "PSH", "NOP", "UPD"] as const;

/** A decoded frame header. */
export interface FrameHeader {
  /** Offset 0, u8: protocol version, 1 or 2; a session only accepts its own. */
  version: number;
  /** Offset 1, u8: one of {@link Cmd}. */
  cmd: number;
  /** Offset 2, u16 little-endian: number of data bytes after the header (0 for SYN/FIN/NOP, 8 for UPD). */
  length: number;
  /** Offset 4, u32 little-endian: the stream the frame belongs to (0 for NOP). */
  streamId: number;
}

/** A whole frame. `data` of a decoded frame is a view of the input when it lay in one chunk. */
export interface Frame extends FrameHeader {
  data: Buffer;
}

/** The data of a v2 UPD frame. */
export interface WindowUpdate {
  /** Total bytes the sender of the UPD has consumed from this stream, modulo 2^32. */
  consumed: number;
  /** The receive window the sender of the UPD offers, in bytes. */
  window: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * Writes the 8-byte header into `target` at `offset` (a new buffer when `target` is omitted).
 * Throws {@link MuxError} for values the fields cannot hold.
 */
export function encodeHeader(header: FrameHeader, target?: Buffer, offset = 0): Buffer {
  checkHeaderFields(header.version, header.cmd, header.streamId);
  if (!Number.isInteger(header.length) || header.length < 0 || header.length > MAX_FRAME_LENGTH) {
    throw muxError(
      "MUX_FRAME_TOO_LARGE",
      `smux frame length ${header.length} is outside 0..${MAX_FRAME_LENGTH}`,
    );
  }
  const buf = target ?? Buffer.allocUnsafe(HEADER_LENGTH);
  buf[offset] = header.version;
  buf[offset + 1] = header.cmd;
  buf.writeUInt16LE(header.length, offset + 2);
  buf.writeUInt32LE(header.streamId, offset + 4);
  return buf;
}

/**
 * Encodes a frame into one exactly sized buffer: header (length taken from `data`) then a copy of
 * `data`. One buffer per frame keeps a frame in one transport write. Throws {@link MuxError} when
 * `data` is longer than 65535 bytes or a field is out of range.
 */
export function encodeFrame(
  header: Pick<FrameHeader, "version" | "cmd" | "streamId">,
  data: Uint8Array = EMPTY,
): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + data.length);
  encodeHeader(
    { version: header.version, cmd: header.cmd, streamId: header.streamId, length: data.length },
    buf,
  );
  buf.set(data, HEADER_LENGTH);
  return buf;
}

/** The 8 data bytes of a v2 UPD frame. */
export function encodeWindowUpdate(update: WindowUpdate): Buffer {
  const buf = Buffer.allocUnsafe(UPD_LENGTH);
  buf.writeUInt32LE(update.consumed >>> 0, 0);
  buf.writeUInt32LE(update.window >>> 0, 4);
  return buf;
}

/** Reads the data of a UPD frame; throws {@link MuxError} unless it is exactly 8 bytes. */
export function decodeWindowUpdate(data: Uint8Array): WindowUpdate {
  if (data.length !== UPD_LENGTH) {
    throw muxError(
      "MUX_BAD_FRAME",
      `bad smux frame: UPD carries ${data.length} data bytes (must be ${UPD_LENGTH})`,
    );
  }
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { consumed: view.readUInt32LE(0), window: view.readUInt32LE(4) };
}

/** The name of a command (`"PSH"`), or `CMD(9)` for a value outside the protocol. */
export function cmdName(cmd: number): string {
  return CMD_NAMES[cmd] ?? `CMD(${cmd})`;
}

/**
 * One-line description of a frame or header for `-vv` logs and test names,
 * e.g. `v1 PSH sid=3 len=2` or `v2 UPD sid=3 consumed=65536 window=65536`.
 */
export function describeFrame(frame: FrameHeader & { data?: Uint8Array }): string {
  let text = `v${frame.version} ${cmdName(frame.cmd)} sid=${frame.streamId} len=${frame.length}`;
  if (frame.cmd === Cmd.upd && frame.data?.length === UPD_LENGTH) {
    const { consumed, window } = decodeWindowUpdate(frame.data);
    text = `v${frame.version} UPD sid=${frame.streamId} consumed=${consumed} window=${window}`;
  }
  return text;
}

/** Limits a {@link FrameDecoder} enforces. */
export interface FrameDecoderOptions {
  /** Accept only this version (a session speaks exactly one). Default: 1 and 2. */
  version?: MuxVersion;
  /** Largest PSH data length accepted. Default {@link MAX_FRAME_LENGTH}. */
  maxFrameSize?: number;
}

/**
 * Incremental decoder for a byte stream of frames. Chunks may split frames anywhere; leftovers are
 * kept until the rest arrives. Each byte is copied at most once: data lying inside one chunk comes
 * back as a view, data spanning chunks is assembled into a new buffer only when complete.
 *
 * Headers are checked as soon as their 8 bytes are present, so a bad stream fails before its body is
 * buffered. After the first {@link MuxError} the decoder is poisoned and keeps throwing it.
 */
export class FrameDecoder {
  readonly #version: MuxVersion | undefined;
  readonly #maxFrameSize: number;
  #chunks: Buffer[] = [];
  /** Index of the first unconsumed chunk in #chunks, and the offset inside it. */
  #head = 0;
  #headOffset = 0;
  #buffered = 0;
  #header: FrameHeader | undefined;
  #error: MuxError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.#version = options.version;
    this.#maxFrameSize = options.maxFrameSize ?? MAX_FRAME_LENGTH;
  }

  /** Bytes received but not yet returned as frames (a partial frame, or frames not yet taken). */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Appends a chunk; take the frames with {@link next}. The chunk is referenced, not copied. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#chunks.push(buf);
    this.#buffered += buf.length;
  }

  /** The next whole frame, or `undefined` until more bytes arrive. Throws {@link MuxError}. */
  next(): Frame | undefined {
    if (this.#error) throw this.#error;
    if (this.#header === undefined) {
      if (this.#buffered < HEADER_LENGTH) return undefined;
      const raw = this.#take(HEADER_LENGTH);
      try {
        this.#header = this.#checkHeader(raw);
      } catch (error) {
        this.#error = error as MuxError;
        throw error;
      }
    }
    const header = this.#header;
    if (this.#buffered < header.length) return undefined;
    this.#header = undefined;
    return { ...header, data: header.length === 0 ? EMPTY : this.#take(header.length) };
  }

  /** Pushes `chunk` and returns every frame that is now complete. */
  decode(chunk: Uint8Array): Frame[] {
    this.push(chunk);
    const frames: Frame[] = [];
    for (let frame = this.next(); frame !== undefined; frame = this.next()) frames.push(frame);
    return frames;
  }

  #checkHeader(raw: Buffer): FrameHeader {
    const version = raw[0]!;
    const cmd = raw[1]!;
    const length = raw.readUInt16LE(2);
    const streamId = raw.readUInt32LE(4);
    const expected = this.#version === undefined ? "1 or 2" : String(this.#version);
    if (this.#version === undefined ? version !== 1 && version !== 2 : version !== this.#version) {
      throw muxError("MUX_BAD_FRAME", `bad smux frame: version ${version} (expected ${expected})`);
    }
    if (cmd > Cmd.upd || (cmd === Cmd.upd && version === 1)) {
      throw muxError("MUX_BAD_FRAME", `bad smux frame: unknown command ${cmd} for version ${version}`);
    }
    if (cmd === Cmd.upd && length !== UPD_LENGTH) {
      throw muxError(
        "MUX_BAD_FRAME",
        `bad smux frame: UPD carries ${length} data bytes (must be ${UPD_LENGTH})`,
      );
    }
    if ((cmd === Cmd.syn || cmd === Cmd.fin || cmd === Cmd.nop) && length !== 0) {
      throw muxError(
        "MUX_BAD_FRAME",
        `bad smux frame: ${cmdName(cmd)} carries ${length} data bytes (must be 0)`,
      );
    }
    if (length > this.#maxFrameSize) {
      throw muxError(
        "MUX_FRAME_TOO_LARGE",
        `smux frame of ${length} bytes on stream ${streamId} exceeds the maximum frame size ${this.#maxFrameSize}`,
      );
    }
    return { version, cmd, length, streamId };
  }

  /** Removes `n` buffered bytes (n <= #buffered): a view when they lie in one chunk, else a copy. */
  #take(n: number): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[this.#head]!;
    const available = first.length - this.#headOffset;
    if (available >= n) {
      const view = first.subarray(this.#headOffset, this.#headOffset + n);
      this.#advance(n, available);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[this.#head]!;
      const left = chunk.length - this.#headOffset;
      const count = Math.min(left, n - filled);
      chunk.copy(out, filled, this.#headOffset, this.#headOffset + count);
      filled += count;
      this.#advance(count, left);
    }
    return out;
  }

  #advance(count: number, leftInHead: number): void {
    if (count < leftInHead) {
      this.#headOffset += count;
      return;
    }
    // Drop the reference so a consumed chunk can be collected; compact the array now and then.
    this.#chunks[this.#head] = EMPTY;
    this.#head++;
    this.#headOffset = 0;
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head >= 64) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}

function checkHeaderFields(version: number, cmd: number, streamId: number): void {
  if (version !== 1 && version !== 2) {
    throw muxError("MUX_BAD_FRAME", `smux version ${version} is not 1 or 2`);
  }
  if (!Number.isInteger(cmd) || cmd < 0 || cmd > Cmd.upd) {
    throw muxError("MUX_BAD_FRAME", `smux command ${cmd} is not one of 0..${Cmd.upd}`);
  }
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > MAX_STREAM_ID) {
    throw muxError("MUX_BAD_FRAME", `smux stream id ${streamId} is outside 0..${MAX_STREAM_ID}`);
  }
}
