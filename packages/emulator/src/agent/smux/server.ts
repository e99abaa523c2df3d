/**
 * The simulated agent's smux v1 server session (ssm-protocol.md §7.3; xtaci/smux defaults:
 * version 1, MaxFrameSize 32768, MaxReceiveBuffer 4 MiB, keepalive 10 s / 30 s). Only the frame
 * codec of `src/mux/frame.ts` is shared with the client; the session logic is the agent's own.
 *
 * ```
 *  receive(bytes) ─► FrameDecoder ─┬─ SYN id ─► new stream ─► "stream" event
 *   ("not-ready" while the         ├─ PSH id ─► stream readable (bucket -= len; paid back on read)
 *    4 MiB bucket is spent)        ├─ FIN id ─► stream readable ends
 *                                  └─ NOP    ─► (only marks the peer alive)
 *  stream writes ─► PSH ≤ 32768 / FIN ─► outlet (the agent's Output pump) ─► client
 *  keepalive on: NOP every 10 s; nothing received for 30 s ─► session closes
 * ```
 * The bucket mirrors smux's `recvLoop`, which stops reading the connection while the session's
 * buffered data exceeds MaxReceiveBuffer: here "stop reading" is the agent's not-ready answer.
 */
import { EventEmitter } from "node:events";
import { Cmd, encodeFrame, FrameDecoder } from "@aws-runas/wire/mux/frame.js";
import { systemTimerClock, type TimerClock, type TimerHandle } from "../../world/clock.js";
import { SmuxServerStream, type StreamOwner } from "./stream.js";

/** xtaci/smux `DefaultConfig()` as Session Manager uses it (v1). */
export const SMUX_DEFAULTS = {
  version: 1,
  maxFrameSize: 32_768,
  maxReceiveBuffer: 4 * 1024 * 1024,
  keepAliveIntervalMs: 10_000,
  keepAliveTimeoutMs: 30_000,
} as const;

/** Where the server's bytes go: the agent's Output pump. */
export interface SmuxOutlet {
  /** Takes bytes; false when the writer should wait for {@link whenReady}. */
  write(bytes: Buffer): boolean;
  whenReady(): Promise<void>;
}

export interface SmuxServerOptions {
  /** The agent's keepalive rule (§7.3): off for clients newer than 1.2.331.0. */
  keepAlive: boolean;
  keepAliveIntervalMs?: number;
  keepAliveTimeoutMs?: number;
  maxReceiveBuffer?: number;
  clock?: TimerClock;
}

export interface SmuxServerEvents {
  stream: [SmuxServerStream];
  /** The session ended: a protocol error, the keepalive timeout, or close(). */
  close: [Error | undefined];
}

export class SmuxServer extends EventEmitter<SmuxServerEvents> implements StreamOwner {
  readonly maxFrameSize = SMUX_DEFAULTS.maxFrameSize;
  readonly #outlet: SmuxOutlet;
  readonly #decoder = new FrameDecoder({ version: SMUX_DEFAULTS.version });
  readonly #streams = new Map<number, SmuxServerStream>();
  readonly #timers: TimerHandle[] = [];
  /** Receive tokens left (smux `bucket`); may go below zero by one frame. */
  #bucket: number;
  #heard = false;
  #closed = false;

  constructor(outlet: SmuxOutlet, options: SmuxServerOptions) {
    super();
    this.#outlet = outlet;
    this.#bucket = options.maxReceiveBuffer ?? SMUX_DEFAULTS.maxReceiveBuffer;
    if (options.keepAlive) {
      const clock = options.clock ?? systemTimerClock;
      const interval = options.keepAliveIntervalMs ?? SMUX_DEFAULTS.keepAliveIntervalMs;
      const timeout = options.keepAliveTimeoutMs ?? SMUX_DEFAULTS.keepAliveTimeoutMs;
      const nop = encodeFrame({ version: 1, cmd: Cmd.nop, streamId: 0 });
      this.#timers.push(clock.every(interval, () => void this.#write(nop)));
      this.#timers.push(
        clock.every(timeout, () => {
          // Not while the bucket is spent: then it is us who stopped reading (as smux does).
          if (!this.#heard && this.#bucket > 0)
            this.close(new Error("smux keepalive timeout: nothing from the client for 30 s"));
          this.#heard = false;
        }),
      );
    }
  }

  /** Receive tokens left; at or below zero the server takes no more bytes. */
  get bucket(): number {
    return this.#bucket;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Live streams, by id. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /**
   * Bytes of the client's smux byte stream. "not-ready" (bytes not taken) while the bucket is
   * spent; the owner offers them again after {@link onTokens}.
   */
  receive(bytes: Buffer): "ok" | "not-ready" {
    if (this.#closed) return "ok";
    if (this.#bucket <= 0) return "not-ready";
    try {
      this.#decoder.push(Buffer.from(bytes));
      for (let frame = this.#decoder.next(); frame; frame = this.#decoder.next()) {
        this.#heard = true;
        this.#onFrame(frame.cmd, frame.streamId, frame.data);
        if (this.#closed) break;
      }
    } catch (error) {
      this.close(error as Error);
    }
    return "ok";
  }

  /** Called when spent tokens come back and the bucket turns positive (set by the owner). */
  onTokens: () => void = () => {};

  /** Ends the session and every stream. Idempotent. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) t.cancel();
    for (const stream of [...this.#streams.values()]) stream.destroy();
    this.#streams.clear();
    this.emit("close", error);
  }

  #onFrame(cmd: number, id: number, data: Buffer): void {
    switch (cmd) {
      case Cmd.syn: {
        if (this.#streams.has(id)) return; // smux ignores a SYN for a live stream
        const stream = new SmuxServerStream(id, this);
        this.#streams.set(id, stream);
        this.emit("stream", stream);
        return;
      }
      case Cmd.psh: {
        const stream = this.#streams.get(id);
        if (!stream) return; // data for a stream that is gone: dropped, as smux does
        this.#bucket -= data.length;
        stream.deliver(data);
        return;
      }
      case Cmd.fin:
        this.#streams.get(id)?.peerClosed();
        return;
      default:
        return; // NOP: only proof of life
    }
  }

  #write(frame: Buffer): Promise<void> | undefined {
    if (this.#closed) return undefined;
    return this.#outlet.write(frame) ? undefined : this.#outlet.whenReady();
  }

  // StreamOwner, for the streams.
  sendData(id: number, data: Buffer): Promise<void> | undefined {
    return this.#write(encodeFrame({ version: 1, cmd: Cmd.psh, streamId: id }, data));
  }

  sendFin(id: number): void {
    void this.#write(encodeFrame({ version: 1, cmd: Cmd.fin, streamId: id }));
  }

  returnTokens(bytes: number): void {
    const before = this.#bucket;
    this.#bucket += bytes;
    // Deferred: tokens come back from inside stream reads, which may run inside receive().
    if (before <= 0 && this.#bucket > 0 && !this.#closed) queueMicrotask(() => this.onTokens());
  }

  forget(id: number, unreadBytes: number): void {
    this.#streams.delete(id);
    if (unreadBytes > 0) this.returnTokens(unreadBytes);
  }
}
