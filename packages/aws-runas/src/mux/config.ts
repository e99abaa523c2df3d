/**
 * smux session options: the defaults of `smux.DefaultConfig()` (ssm-protocol.md §7.3) and the one
 * place their bounds are checked.
 */

import { muxError } from "@aws-runas/wire/mux/errors.js";
import { MAX_FRAME_LENGTH, type MuxVersion } from "@aws-runas/wire/mux/frame.js";
import { type Clock, systemClock } from "../datachannel/clock.js";

/** Options of a {@link MuxSession}; everything but `client` has a default. */
export interface MuxOptions {
  /** true: this side opens odd stream ids (3, 5, 7...); false: even ids (2, 4, 6...). */
  client: boolean;
  /** Protocol version; Session Manager peers speak 1. */
  version?: MuxVersion;
  /**
   * Send a NOP every `keepAliveIntervalMs` and close the session when nothing arrived for
   * `keepAliveTimeoutMs`. The caller decides from the peer's version (ssm-protocol.md §7.3): both
   * sides must agree, or the side that has it on closes an idle session after the timeout.
   */
  keepAlive?: boolean;
  keepAliveIntervalMs?: number;
  keepAliveTimeoutMs?: number;
  /** Largest data length of one frame this side sends, and accepts. */
  maxFrameSize?: number;
  /**
   * Received bytes that may wait in stream buffers (read from the transport, not yet read by the
   * streams' consumers) before the session stops reading the transport.
   */
  maxReceiveBuffer?: number;
  /**
   * Received bytes one stream may hold unread. v1 has no per-stream window, so going over it
   * pauses the whole transport; v2 advertises it to the peer as the stream's window instead.
   */
  maxStreamBuffer?: number;
  /**
   * Time source for keepalive: the client's one clock, shared with the data channel. Default
   * {@link systemClock}, whose timers never keep the process running.
   */
  clock?: Clock;
}

/** {@link MuxOptions} with every default applied. */
export type ResolvedMuxOptions = Required<MuxOptions>;

/** The values of `smux.DefaultConfig()`. */
export const MUX_DEFAULTS = {
  version: 1,
  keepAlive: true,
  keepAliveIntervalMs: 10_000,
  keepAliveTimeoutMs: 30_000,
  maxFrameSize: 32_768,
  maxReceiveBuffer: 4 * 1024 * 1024,
  maxStreamBuffer: 64 * 1024,
} as const satisfies Omit<ResolvedMuxOptions, "client" | "clock">;

/** Largest buffer size smux allows (its counters are int32). */
export const MAX_BUFFER_SIZE = 0x7fffffff;

/** Applies the defaults and checks the result with {@link verifyMuxOptions}. */
export function resolveMuxOptions(options: MuxOptions): ResolvedMuxOptions {
  const resolved: ResolvedMuxOptions = {
    client: options.client,
    version: options.version ?? MUX_DEFAULTS.version,
    keepAlive: options.keepAlive ?? MUX_DEFAULTS.keepAlive,
    keepAliveIntervalMs: options.keepAliveIntervalMs ?? MUX_DEFAULTS.keepAliveIntervalMs,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? MUX_DEFAULTS.keepAliveTimeoutMs,
    maxFrameSize: options.maxFrameSize ?? MUX_DEFAULTS.maxFrameSize,
    maxReceiveBuffer: options.maxReceiveBuffer ?? MUX_DEFAULTS.maxReceiveBuffer,
    maxStreamBuffer: options.maxStreamBuffer ?? MUX_DEFAULTS.maxStreamBuffer,
    clock: options.clock ?? systemClock,
  };
  verifyMuxOptions(resolved);
  return resolved;
}

/**
 * Throws a `MUX_BAD_OPTION` {@link MuxError} naming the bound that `options` break
 * (the same rules as smux `VerifyConfig`).
 */
export function verifyMuxOptions(options: ResolvedMuxOptions): void {
  const fail = (message: string): never => {
    throw muxError("MUX_BAD_OPTION", `invalid smux option: ${message}`);
  };
  const isCount = (value: number): boolean => Number.isSafeInteger(value) && value > 0;
  if (typeof options.client !== "boolean")
    fail(`client must be true or false, got ${String(options.client)}`);
  if (options.version !== 1 && options.version !== 2) fail(`version must be 1 or 2, got ${options.version}`);
  if (typeof options.clock?.every !== "function") fail("clock must have an every(ms, fn) function");
  if (options.keepAlive) {
    if (!isCount(options.keepAliveIntervalMs)) {
      fail(`keepAliveIntervalMs must be a positive integer, got ${options.keepAliveIntervalMs}`);
    }
    if (!isCount(options.keepAliveTimeoutMs) || options.keepAliveTimeoutMs < options.keepAliveIntervalMs) {
      fail(
        `keepAliveTimeoutMs (${options.keepAliveTimeoutMs}) must be at least keepAliveIntervalMs (${options.keepAliveIntervalMs})`,
      );
    }
  }
  if (!isCount(options.maxFrameSize) || options.maxFrameSize > MAX_FRAME_LENGTH) {
    fail(`maxFrameSize must be between 1 and ${MAX_FRAME_LENGTH}, got ${options.maxFrameSize}`);
  }
  if (!isCount(options.maxReceiveBuffer) || options.maxReceiveBuffer > MAX_BUFFER_SIZE) {
    fail(`maxReceiveBuffer must be between 1 and ${MAX_BUFFER_SIZE}, got ${options.maxReceiveBuffer}`);
  }
  if (!isCount(options.maxStreamBuffer) || options.maxStreamBuffer > options.maxReceiveBuffer) {
    fail(
      `maxStreamBuffer must be between 1 and maxReceiveBuffer (${options.maxReceiveBuffer}), got ${options.maxStreamBuffer}`,
    );
  }
}
