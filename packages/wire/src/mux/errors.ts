/**
 * Stable codes for smux failures. Every one of them ends the mux session: smux has no per-stream
 * reset, so the only wire consequence of a violation is closing the transport.
 */
import { MuxError, type RunasErrorOptions } from "../errors.js";

/** The `code` values a {@link MuxError} raised by `src/mux` can carry. */
export type MuxErrorCode =
  /** A frame header broke the wire format: unknown version or command, or a bad fixed length. */
  | "MUX_BAD_FRAME"
  /** A data frame longer than the configured maximum frame size (or than 65535 when encoding). */
  | "MUX_FRAME_TOO_LARGE"
  /** An option passed to the session is out of range. */
  | "MUX_BAD_OPTION"
  /** `openStream()` after the session was closed. */
  | "MUX_SESSION_CLOSED"
  /** All 2^32 stream ids of this side were used (smux calls this "go away"). */
  | "MUX_STREAM_IDS_EXHAUSTED"
  /** Keepalive was on and nothing arrived from the peer for a whole keepalive timeout. */
  | "MUX_KEEPALIVE_TIMEOUT"
  /** A stream was destroyed while one of its writes was still waiting for the transport. */
  | "MUX_STREAM_DESTROYED"
  /** The underlying transport failed (wraps its error as `cause`). */
  | "MUX_TRANSPORT_ERROR";

/** Builds a {@link MuxError} whose code is one of {@link MuxErrorCode}. */
export function muxError(code: MuxErrorCode, message: string, options: RunasErrorOptions = {}): MuxError {
  return new MuxError(code, message, options);
}
