/**
 * An smux session over any byte Duplex: the stream table, frame dispatch, keepalive and
 * back-pressure in both directions (ssm-protocol.md §7.3; xtaci/smux `session.go`).
 *
 * Receiving: bytes from the transport go through a {@link FrameDecoder}; frames are dispatched one at
 * a time and dispatch stops as soon as the receive buffers are over their limits — the session-wide
 * `maxReceiveBuffer`, and in v1 any stream's `maxStreamBuffer` (v1 has no per-stream window, so
 * pausing the whole transport is the only back-pressure there is). The transport is paused then and
 * resumed once consumers have read enough; undispatched frames wait in the decoder.
 *
 * Sending: frames are written to the transport one buffer each. When `write()` returns false the
 * session is congested until `drain`; data writers wait in a FIFO queue and are woken in turn, which
 * shares the transport fairly between streams. SYN/FIN/NOP/UPD are never held back: they are tiny
 * and must keep their order relative to the data already written.
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import type { MuxError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import { muxError } from "@aws-runas/wire/mux/errors.js";
import {
  Cmd,
  decodeWindowUpdate,
  encodeFrame,
  type Frame,
  FrameDecoder,
  MAX_STREAM_ID,
} from "@aws-runas/wire/mux/frame.js";
import type { TimerHandle } from "../datachannel/clock.js";
import { type MuxOptions, type ResolvedMuxOptions, resolveMuxOptions } from "./config.js";
import { MuxStream, type MuxStreamHooks } from "./stream.js";

/** Options of a {@link MuxSession}: the protocol options plus an optional logger. */
export interface MuxSessionOptions extends MuxOptions {
  /** Receives stream open/close at trace level and the reason a session ends at debug level. */
  logger?: Logger;
}

/** Events of a {@link MuxSession}. */
export interface MuxSessionEvents {
  /** The peer opened a stream (SYN). Without a listener, incoming streams are refused with FIN. */
  stream: [stream: MuxStream];
  /** At most once, before `close`: a protocol violation, keepalive timeout or transport failure. */
  error: [error: MuxError];
  /** Once, after the session closed for whatever reason; timers and transport listeners are gone. */
  close: [];
}

/** Counters for tests, benchmarks and `-vv` logs. */
export interface MuxSessionStats {
  /** Streams in the table (not yet closed on both sides nor destroyed). */
  streams: number;
  /** Received bytes pushed to streams and not yet read by their consumers. */
  receiveBuffered: number;
  /** Highest `receiveBuffered` seen so far. */
  peakReceiveBuffered: number;
  /** Highest unread byte count seen in any single stream. */
  peakStreamReceiveBuffered: number;
  /** Received bytes not yet dispatched as frames (a partial frame, or frames held while paused). */
  decoderBuffered: number;
  /** Whether reading from the transport is paused for receive back-pressure. */
  readPaused: boolean;
  /** How many times reading from the transport was paused. */
  readPauses: number;
  /** Bytes waiting in the transport's writable buffer. */
  transportWriteBuffered: number;
  /** Highest `transportWriteBuffered` seen right after a write. */
  peakTransportWriteBuffered: number;
  /** Whether the transport is congested (a write returned false and `drain` has not come yet). */
  writeBlocked: boolean;
  /** Streams waiting for the transport to drain. */
  waitingWriters: number;
  framesIn: number;
  framesOut: number;
}

/**
 * A multiplexing session. The client side (Session Manager plugin role) opens streams with
 * {@link openStream}; the server side (agent role) gets them through the `stream` event. Both can
 * do both.
 */
export class MuxSession extends EventEmitter<MuxSessionEvents> {
  readonly #transport: Duplex;
  readonly #options: ResolvedMuxOptions;
  readonly #logger: Logger | undefined;
  readonly #decoder: FrameDecoder;
  readonly #streams = new Map<number, MuxStream>();
  readonly #congestedStreams = new Set<MuxStream>();
  readonly #hooks: MuxStreamHooks;
  #nextStreamId: number;
  #closed = false;
  #timers: TimerHandle[] = [];
  #frameSeen = false;

  #readPaused = false;
  #readPauses = 0;
  #resumeScheduled = false;
  #receiveBuffered = 0;
  #peakReceiveBuffered = 0;
  #peakStreamReceiveBuffered = 0;

  #writeBlocked = false;
  #writeWaiters: Array<() => void> = [];
  #peakTransportWriteBuffered = 0;
  #framesIn = 0;
  #framesOut = 0;

  constructor(transport: Duplex, options: MuxSessionOptions) {
    super();
    this.#options = resolveMuxOptions(options);
    this.#logger = options.logger;
    this.#transport = transport;
    this.#decoder = new FrameDecoder({
      version: this.#options.version,
      maxFrameSize: this.#options.maxFrameSize,
    });
    // smux: the client's first OpenStream yields 3 (1 + 2), the server's 2 (0 + 2).
    this.#nextStreamId = this.#options.client ? 1 : 0;
    this.#hooks = {
      sendFrame: (streamId, cmd, data) => this.#writeFrame(cmd, streamId, data),
      canSend: () => !this.#closed && !this.#writeBlocked,
      waitWritable: (resume) => {
        if (!this.#closed) this.#writeWaiters.push(resume);
      },
      receiveBufferChanged: (stream, delta, congested) => this.#onReceiveBuffer(stream, delta, congested),
      detach: (stream) => this.#detach(stream),
    };

    transport.on("data", this.#onData);
    transport.on("drain", this.#onDrain);
    transport.on("end", this.#onEnd);
    transport.on("close", this.#onClose);
    transport.on("error", this.#onError);
    transport.resume();

    if (this.#options.keepAlive) {
      const { clock, keepAliveIntervalMs, keepAliveTimeoutMs } = this.#options;
      this.#timers.push(clock.every(keepAliveIntervalMs, () => this.#writeFrame(Cmd.nop, 0)));
      this.#timers.push(clock.every(keepAliveTimeoutMs, () => this.#checkAlive()));
    }
  }

  /** Whether the session has closed; no streams can be opened any more. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The options in effect, defaults applied. */
  get options(): Readonly<ResolvedMuxOptions> {
    return this.#options;
  }

  /**
   * Opens a stream: allocates the next id of this side (client 3, 5, 7...; server 2, 4, 6...) and
   * sends SYN. Throws `MUX_SESSION_CLOSED` after {@link close}, `MUX_STREAM_IDS_EXHAUSTED` when the
   * ids ran out.
   */
  openStream(): MuxStream {
    if (this.#closed) {
      throw muxError("MUX_SESSION_CLOSED", "cannot open an smux stream: the session is closed");
    }
    let id: number;
    do {
      if (this.#nextStreamId > MAX_STREAM_ID - 2) {
        throw muxError("MUX_STREAM_IDS_EXHAUSTED", "smux stream ids are exhausted; start a new session");
      }
      this.#nextStreamId += 2;
      id = this.#nextStreamId;
    } while (this.#streams.has(id));
    const stream = this.#createStream(id);
    this.#writeFrame(Cmd.syn, id);
    this.#logger?.trace(`smux: opened stream ${id}`);
    return stream;
  }

  /**
   * Closes the session: stops keepalive, destroys every open stream (their consumers see a
   * premature close), ends the transport and emits `close` on the next tick. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) timer.cancel();
    this.#timers = [];
    this.#writeWaiters = [];
    const transport = this.#transport;
    transport.off("data", this.#onData);
    transport.off("drain", this.#onDrain);
    transport.off("end", this.#onEnd);
    transport.off("close", this.#onClose);
    transport.off("error", this.#onError);
    // Late transport errors (EPIPE while ending...) must not crash the process.
    transport.on("error", ignoreError);
    for (const stream of [...this.#streams.values()]) stream.destroy();
    this.#streams.clear();
    this.#congestedStreams.clear();
    // Keep reading (and discarding) so the transport sees the peer's end and can close.
    transport.resume();
    if (!transport.writableEnded && !transport.destroyed) transport.end();
    process.nextTick(() => this.emit("close"));
  }

  /** A snapshot of the session's counters. */
  stats(): MuxSessionStats {
    return {
      streams: this.#streams.size,
      receiveBuffered: this.#receiveBuffered,
      peakReceiveBuffered: this.#peakReceiveBuffered,
      peakStreamReceiveBuffered: this.#peakStreamReceiveBuffered,
      decoderBuffered: this.#decoder.bufferedBytes,
      readPaused: this.#readPaused,
      readPauses: this.#readPauses,
      transportWriteBuffered: this.#transport.writableLength,
      peakTransportWriteBuffered: this.#peakTransportWriteBuffered,
      writeBlocked: this.#writeBlocked,
      waitingWriters: this.#writeWaiters.length,
      framesIn: this.#framesIn,
      framesOut: this.#framesOut,
    };
  }

  #createStream(id: number): MuxStream {
    const { version, maxFrameSize, maxStreamBuffer } = this.#options;
    const stream = new MuxStream({ id, version, maxFrameSize, maxStreamBuffer, hooks: this.#hooks });
    this.#streams.set(id, stream);
    return stream;
  }

  #onData = (chunk: Buffer | string): void => {
    if (this.#closed) return;
    this.#decoder.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    this.#dispatch();
  };

  /** Hands decoded frames to their streams until the decoder is empty or the buffers are full. */
  #dispatch(): void {
    while (!this.#closed && !this.#overLimit()) {
      let frame: Frame | undefined;
      try {
        frame = this.#decoder.next();
      } catch (error) {
        this.#fail(error as MuxError);
        return;
      }
      if (frame === undefined) break;
      this.#frameSeen = true;
      this.#framesIn++;
      this.#handleFrame(frame);
    }
    if (!this.#closed) this.#updateReadPause();
  }

  #handleFrame(frame: Frame): void {
    // Frames for ids not in the table (never opened, or closed) are ignored, as smux does.
    switch (frame.cmd) {
      case Cmd.nop:
        return;
      case Cmd.syn:
        this.#accept(frame.streamId);
        return;
      case Cmd.fin:
        this.#streams.get(frame.streamId)?.receiveFin();
        return;
      case Cmd.psh:
        if (frame.length > 0) this.#streams.get(frame.streamId)?.receiveData(frame.data);
        return;
      case Cmd.upd:
        this.#streams.get(frame.streamId)?.receiveWindowUpdate(decodeWindowUpdate(frame.data));
        return;
    }
  }

  #accept(id: number): void {
    if (this.#streams.has(id)) return;
    const stream = this.#createStream(id);
    this.#logger?.trace(`smux: peer opened stream ${id}`);
    if (this.listenerCount("stream") === 0) {
      stream.destroy();
      return;
    }
    this.emit("stream", stream);
  }

  #overLimit(): boolean {
    if (this.#receiveBuffered >= this.#options.maxReceiveBuffer) return true;
    return this.#options.version === 1 && this.#congestedStreams.size > 0;
  }

  #updateReadPause(): void {
    const pause = this.#overLimit();
    if (pause === this.#readPaused) return;
    this.#readPaused = pause;
    if (pause) {
      this.#readPauses++;
      this.#transport.pause();
    } else {
      this.#transport.resume();
    }
  }

  #onReceiveBuffer(stream: MuxStream, delta: number, congested: boolean): void {
    this.#receiveBuffered += delta;
    if (this.#receiveBuffered > this.#peakReceiveBuffered) this.#peakReceiveBuffered = this.#receiveBuffered;
    const own = stream.receiveBuffered;
    if (own > this.#peakStreamReceiveBuffered) this.#peakStreamReceiveBuffered = own;
    if (congested) this.#congestedStreams.add(stream);
    else this.#congestedStreams.delete(stream);
    if (this.#readPaused && !this.#overLimit()) this.#scheduleResume();
  }

  /** Resumes on the next tick, not inside the consumer's read() that freed the space. */
  #scheduleResume(): void {
    if (this.#resumeScheduled) return;
    this.#resumeScheduled = true;
    process.nextTick(() => {
      this.#resumeScheduled = false;
      if (!this.#closed) this.#dispatch();
    });
  }

  #detach(stream: MuxStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
    this.#congestedStreams.delete(stream);
    this.#logger?.trace(`smux: stream ${stream.id} closed`);
  }

  #writeFrame(cmd: Cmd, streamId: number, data?: Buffer): boolean {
    if (this.#closed) return false;
    const ok = this.#transport.write(encodeFrame({ version: this.#options.version, cmd, streamId }, data));
    this.#framesOut++;
    const queued = this.#transport.writableLength;
    if (queued > this.#peakTransportWriteBuffered) this.#peakTransportWriteBuffered = queued;
    if (!ok) this.#writeBlocked = true;
    return ok;
  }

  #onDrain = (): void => {
    this.#writeBlocked = false;
    // Wake writers in turn; one that fills the transport again re-queues behind the others.
    while (!this.#closed && !this.#writeBlocked && this.#writeWaiters.length > 0) {
      this.#writeWaiters.shift()!();
    }
  };

  #checkAlive(): void {
    if (this.#closed) return;
    if (this.#frameSeen) {
      this.#frameSeen = false;
      return;
    }
    // Reading is paused on purpose while consumers catch up: silence is ours, not the peer's.
    if (this.#readPaused) return;
    this.#fail(
      muxError(
        "MUX_KEEPALIVE_TIMEOUT",
        `no smux frame from the peer for ${this.#options.keepAliveTimeoutMs} ms; closing the session`,
      ),
    );
  }

  #onEnd = (): void => {
    this.#logger?.debug("smux: the transport ended");
    this.close();
  };

  #onClose = (): void => {
    this.close();
  };

  #onError = (error: Error): void => {
    this.#fail(muxError("MUX_TRANSPORT_ERROR", `smux transport failed: ${error.message}`, { cause: error }));
  };

  /** Closes the session and emits `error` (before `close`, which waits for the next tick). */
  #fail(error: MuxError): void {
    if (this.#closed) return;
    this.#logger?.debug(`smux: ${error.message}`);
    this.close();
    this.emit("error", error);
  }
}

function ignoreError(): void {}
