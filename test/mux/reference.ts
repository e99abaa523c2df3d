/**
 * A naive, obviously correct smux header codec written with DataView, independent of
 * packages/wire/src/mux/frame.ts, so the real codec is never checked only against itself.
 */

export interface RefHeader {
  version: number;
  cmd: number;
  length: number;
  streamId: number;
}

/** 8 bytes: ver u8, cmd u8, length u16 LE, streamId u32 LE. */
export function refEncodeHeader(h: RefHeader): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, h.version);
  view.setUint8(1, h.cmd);
  view.setUint16(2, h.length, true);
  view.setUint32(4, h.streamId, true);
  return bytes;
}

/** Header followed by the data bytes. */
export function refEncodeFrame(h: Omit<RefHeader, "length">, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  out.set(refEncodeHeader({ ...h, length: data.length }), 0);
  out.set(data, 8);
  return out;
}

export function refDecodeHeader(bytes: Uint8Array): RefHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return {
    version: view.getUint8(0),
    cmd: view.getUint8(1),
    length: view.getUint16(2, true),
    streamId: view.getUint32(4, true),
  };
}

/** Hex with the spaces of ssm-protocol.md §7.3 removed. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ""), "hex");
}
