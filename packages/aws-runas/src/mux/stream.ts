/**
 * One smux stream as a Node Duplex. It never imports the session: the session hands it a
 * {@link MuxStreamHooks} object and calls its `receive*` methods, so a stream can be built in a test
 * with fakes.
 *
 * Stream states (`MuxStream.muxState`); "FIN out" is sent by `end()` (after all data) or `destroy()`:
 *
 * ```
 *                 SYN sent (openStream) / SYN received ("stream" event)
 *                                   |
 *                                   v
 *                            +-------------+
 *             FIN out        |    open     |       FIN in
 *          +-----------------+             +------------------+
 *          |                 +-------------+                  |
 *          v                                                  v
 *  +--------------------+                        +---------------------+
 *  | half-closed-local  |                        | half-closed-remote  |
 *  | writes refused,    |                        | reads hit EOF once  |
 *  | reads go on        |                        | drained, writes go  |
 *  +---------+----------+                        +----------+----------+
 *            |  FIN in                                FIN out |
 *            +-------------------+     +--------------------+
 *                                v     v
 *                            +-------------+
 *                            |   closed    |  removed from the session's table:
 *                            +-------------+  later frames for this id are dropped
 *
 *  destroy() from any state: FIN out unless already sent, then closed.
 *  Session closed: every stream still in the table is destroyed (no FIN).
 * ```
 *
 * Back-pressure. Sending: writes are cut into frames of at most `maxFrameSize` (and, in v2, no more
 * than the peer's window allows); while the transport is congested the write callback is held, so
 * the Writable side fills up and `write()` returns false to the producer. Receiving: the stream
 * reports every change of its unread byte count to the session, which stops reading the transport
 * when a stream (v1) or the session is over its limit, and resumes once consumers have read.
 */
import { Duplex } from "node:stream";
import { muxError } from "@aws-runas/wire/mux/errors.js";
import { Cmd, encodeWindowUpdate, type MuxVersion, type WindowUpdate } from "@aws-runas/wire/mux/frame.js";

/** smux v2's first guess of the peer's window, used until its first UPD arrives. */
export const INITIAL_PEER_WINDOW = 262_144;

/** Where a stream is in the diagram above. */
export type MuxStreamState = "open" | "half-closed-local" | "half-closed-remote" | "closed";

/** What a stream needs from its session. */
export interface MuxStreamHooks {
  /** Hands one frame of stream `streamId` to the transport; false when the transport is now congested. */
  sendFrame(streamId: number, cmd: Cmd, data?: Buffer): boolean;
  /** Whether data frames may be sent now (session open, transport not congested). */
  canSend(): boolean;
  /** Calls `resume` once, when the transport can take data again. */
  waitWritable(resume: () => void): void;
  /**
   * The stream's unread received bytes changed by `delta` (positive: data arrived; negative: the
   * consumer read it, or the stream was destroyed). `congested`: the stream holds at least
   * `maxStreamBuffer` unread bytes.
   */
  receiveBufferChanged(stream: MuxStream, delta: number, congested: boolean): void;
  /** The stream is closed (both FINs, or destroyed) and leaves the table. Called once. */
  detach(stream: MuxStream): void;
}

/** Construction parameters of a {@link MuxStream}. */
export interface MuxStreamInit {
  id: number;
  version: MuxVersion;
  /** Largest data length of one PSH frame. */
  maxFrameSize: number;
  /** Unread bytes at which the stream reports itself congested; v2: the window it advertises. */
  maxStreamBuffer: number;
  hooks: MuxStreamHooks;
}

interface PendingWrite {
  chunk: Buffer;
  offset: number;
  callback: (error?: Error | null) => void;
}

/** One multiplexed stream: a Duplex whose `end()` sends FIN and whose readable side ends on the peer's FIN. */
export class MuxStream extends Duplex {
  /** The smux stream id (odd when the client opened it, even when the server did). */
  readonly id: number;
  readonly #hooks: MuxStreamHooks;
  readonly #version: MuxVersion;
  readonly #maxFrameSize: number;
  readonly #maxStreamBuffer: number;

  #localFin = false;
  #remoteFin = false;
  #detached = false;

  /** Receive accounting: bytes pushed, bytes known to be consumed, and whether we are over the limit. */
  #pushed = 0;
  #consumed = 0;
  #congested = false;
  #released = false;

  /** v2 receive side: consumed counter sent in UPDs (mod 2^32) and bytes consumed since the last UPD. */
  #numRead = 0;
  #sinceUpdate = 0;
  #updateSent = false;

  /** v2 send side: bytes sent (mod 2^32) and the peer's last consumed/window report. */
  #numWritten = 0;
  #peerConsumed = 0;
  #peerWindow = INITIAL_PEER_WINDOW;
  #waitingForWindow = false;

  #pending: PendingWrite | undefined;

  constructor(init: MuxStreamInit) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: init.maxStreamBuffer,
      writableHighWaterMark: init.maxFrameSize,
    });
    this.id = init.id;
    this.#hooks = init.hooks;
    this.#version = init.version;
    this.#maxFrameSize = init.maxFrameSize;
    this.#maxStreamBuffer = init.maxStreamBuffer;
  }

  /** Where the stream is in its life cycle (see the diagram at the top of this module). */
  get muxState(): MuxStreamState {
    if (this.#detached) return "closed";
    if (this.#localFin) return "half-closed-local";
    if (this.#remoteFin) return "half-closed-remote";
    return "open";
  }

  /** Bytes received for this stream that its consumer has not read yet. */
  get receiveBuffered(): number {
    return this.#released ? 0 : this.#pushed - this.#consumed;
  }

  /**
   * Session side: PSH data arrived. Returns false when it was dropped (after the peer's FIN, or
   * once the stream is destroyed), as smux does.
   * @internal
   */
  receiveData(data: Buffer): boolean {
    if (this.#remoteFin || this.#released || this.destroyed) return false;
    this.#pushed += data.length;
    this.push(data);
    this.#syncReceive(data.length);
    return true;
  }

  /**
   * Session side: the peer sent FIN. Its data so far stays readable, then the readable side ends.
   * @internal
   */
  receiveFin(): void {
    if (this.#remoteFin) return;
    this.#remoteFin = true;
    this.push(null);
    if (this.#localFin) this.#detach();
  }

  /**
   * Session side, v2: the peer reports how much it consumed and the window it offers.
   * @internal
   */
  receiveWindowUpdate(update: WindowUpdate): void {
    this.#peerConsumed = update.consumed >>> 0;
    this.#peerWindow = update.window >>> 0;
    if (this.#waitingForWindow && this.#sendWindow() > 0) {
      this.#waitingForWindow = false;
      this.#pump();
    }
  }

  /**
   * Every way of consuming a Readable (`data` events, `pipe`, async iteration, `read()`) goes
   * through `read()`, so this is where consumption is measured. `_read` would not do: Node calls it
   * before taking the bytes out of the buffer, and only once per push.
   */
  override read(size?: number): Buffer | string | null {
    const chunk = super.read(size) as Buffer | string | null;
    this.#syncReceive(0);
    return chunk;
  }

  override _read(): void {
    // Nothing to fetch: data is pushed as frames arrive, and read() above reports consumption.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#pending = { chunk, offset: 0, callback };
    this.#pump();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#localFin = true;
    this.#hooks.sendFrame(this.id, Cmd.fin);
    if (this.#remoteFin) this.#detach();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!this.#localFin) {
      this.#localFin = true;
      this.#hooks.sendFrame(this.id, Cmd.fin);
    }
    this.#release();
    this.#detach();
    pending?.callback(
      error ??
        muxError("MUX_STREAM_DESTROYED", `smux stream ${this.id} was destroyed before its data was sent`),
    );
    callback(error);
  }

  /** Sends as much of the pending write as the transport (and, v2, the peer's window) allows. */
  #pump = (): void => {
    const pending = this.#pending;
    if (pending === undefined || this.destroyed) return;
    const { chunk } = pending;
    while (pending.offset < chunk.length) {
      if (!this.#hooks.canSend()) {
        this.#hooks.waitWritable(this.#pump);
        return;
      }
      let size = Math.min(chunk.length - pending.offset, this.#maxFrameSize);
      if (this.#version === 2) {
        const window = this.#sendWindow();
        if (window <= 0) {
          this.#waitingForWindow = true;
          return;
        }
        size = Math.min(size, window);
      }
      const piece = chunk.subarray(pending.offset, pending.offset + size);
      pending.offset += size;
      this.#numWritten = (this.#numWritten + size) >>> 0;
      this.#hooks.sendFrame(this.id, Cmd.psh, piece);
    }
    this.#pending = undefined;
    pending.callback();
  };

  /** v2: bytes the peer will still accept; the in-flight count wraps like smux's uint32 arithmetic. */
  #sendWindow(): number {
    const inFlight = (this.#numWritten - this.#peerConsumed) | 0;
    return this.#peerWindow - inFlight;
  }

  /** Works out what the consumer took since the last call and reports the new unread count. */
  #syncReceive(added: number): void {
    if (this.#released) return;
    const consumedNow = this.#pushed - this.readableLength;
    const consumed = consumedNow > this.#consumed ? consumedNow - this.#consumed : 0;
    this.#consumed += consumed;
    const congested = this.readableLength >= this.#maxStreamBuffer;
    const delta = added - consumed;
    if (delta !== 0 || congested !== this.#congested) {
      this.#congested = congested;
      this.#hooks.receiveBufferChanged(this, delta, congested);
    }
    if (consumed > 0 && this.#version === 2) this.#afterConsumed(consumed);
  }

  /** v2: tell the peer what was consumed on the first read and whenever half a window was read. */
  #afterConsumed(consumed: number): void {
    this.#numRead = (this.#numRead + consumed) >>> 0;
    this.#sinceUpdate += consumed;
    if (this.#updateSent && this.#sinceUpdate < this.#maxStreamBuffer / 2) return;
    if (this.destroyed) return;
    this.#updateSent = true;
    this.#sinceUpdate = 0;
    this.#hooks.sendFrame(
      this.id,
      Cmd.upd,
      encodeWindowUpdate({ consumed: this.#numRead, window: this.#maxStreamBuffer }),
    );
  }

  /** Returns this stream's unread bytes to the session, once. */
  #release(): void {
    if (this.#released) return;
    const buffered = this.#pushed - this.#consumed;
    this.#released = true;
    if (buffered !== 0 || this.#congested) this.#hooks.receiveBufferChanged(this, -buffered, false);
    this.#congested = false;
  }

  #detach(): void {
    if (this.#detached) return;
    this.#detached = true;
    this.#hooks.detach(this);
  }
}
