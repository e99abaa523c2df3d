/**
 * One stream of the simulated agent's smux server, as a Node Duplex: PSH data the client sent
 * becomes readable, writes become PSH frames of at most MaxFrameSize bytes, `end()` sends FIN, a
 * client FIN ends the readable side. smux v1 has no per-stream window: the only flow control is
 * the session's receive token bucket, which a chunk pays back when the reader takes it.
 */
import { Duplex } from "node:stream";

/** What a stream needs from its session. */
export interface StreamOwner {
  readonly maxFrameSize: number;
  /** Writes frames of this stream; resolves when the session's outlet takes more. */
  sendData(id: number, data: Buffer): Promise<void> | undefined;
  sendFin(id: number): void;
  /** `bytes` of received data were handed to the reader: return them to the bucket. */
  returnTokens(bytes: number): void;
  /** The stream is gone (both sides closed, or destroyed). */
  forget(id: number, unreadBytes: number): void;
}

export class SmuxServerStream extends Duplex {
  readonly id: number;
  readonly #owner: StreamOwner;
  /** Received and not yet handed to the reader. */
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #wantsData = false;
  #peerFin = false;
  #finSent = false;

  constructor(id: number, owner: StreamOwner) {
    super({ allowHalfOpen: true });
    this.id = id;
    this.#owner = owner;
  }

  /** PSH data from the client. */
  deliver(data: Buffer): void {
    if (this.#peerFin || this.destroyed) {
      this.#owner.returnTokens(data.length);
      return;
    }
    this.#queue.push(Buffer.from(data));
    this.#queued += data.length;
    if (this.#wantsData) this.#flush();
  }

  /** The client sent FIN: nothing more will arrive. */
  peerClosed(): void {
    if (this.#peerFin) return;
    this.#peerFin = true;
    if (this.#wantsData) this.#flush();
  }

  override _read(): void {
    this.#wantsData = true;
    this.#flush();
  }

  #flush(): void {
    while (this.#wantsData && this.#queue.length > 0) {
      const chunk = this.#queue.shift()!;
      this.#queued -= chunk.length;
      this.#owner.returnTokens(chunk.length);
      this.#wantsData = this.push(chunk);
    }
    if (this.#queue.length === 0 && this.#peerFin) this.push(null);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let waiting: Promise<void> | undefined;
    for (let offset = 0; offset < chunk.length; offset += this.#owner.maxFrameSize) {
      waiting = this.#owner.sendData(this.id, chunk.subarray(offset, offset + this.#owner.maxFrameSize));
    }
    // Hold the writer while the channel cannot take more: that is the back-pressure.
    if (waiting) void waiting.then(() => callback());
    else callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#sendFin();
    callback();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    // smux's Close: a FIN tells the client this side is gone, even after a failure.
    this.#sendFin();
    const unread = this.#queued;
    this.#queue.length = 0;
    this.#queued = 0;
    this.#owner.forget(this.id, unread);
    callback(error);
  }

  #sendFin(): void {
    if (this.#finSent) return;
    this.#finSent = true;
    this.#owner.sendFin(this.id);
  }
}
