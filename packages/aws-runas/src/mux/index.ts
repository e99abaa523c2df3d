/**
 * smux (xtaci/smux) for port forwarding in mux mode (ssm-protocol.md §7.3): a pure frame codec, and
 * a session over any byte Duplex whose streams are Node Duplex streams with back-pressure both ways.
 * Version 1 is what Session Manager speaks; version 2 (per-stream windows, UPD frames) is supported
 * for completeness.
 */

export { type MuxErrorCode, muxError } from "@aws-runas/wire/mux/errors.js";
export {
  Cmd,
  cmdName,
  decodeWindowUpdate,
  describeFrame,
  encodeFrame,
  encodeHeader,
  encodeWindowUpdate,
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
  type FrameHeader,
  HEADER_LENGTH,
  MAX_FRAME_LENGTH,
  type MuxVersion,
  type WindowUpdate,
} from "@aws-runas/wire/mux/frame.js";
export {
  MUX_DEFAULTS,
  type MuxOptions,
  type ResolvedMuxOptions,
  verifyMuxOptions,
} from "./config.js";
export {
  MuxSession,
  type MuxSessionEvents,
  type MuxSessionOptions,
  type MuxSessionStats,
} from "./session.js";
export { MuxStream, type MuxStreamState } from "./stream.js";
