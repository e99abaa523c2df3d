/**
 * Memory for the client's unacknowledged outgoing frames: one fixed buffer, handed out in FIFO
 * order and reused once frames are acknowledged (pure, no I/O).
 *
 * Why: every frame lives until the agent acks it — at full speed a whole window (4 MiB) of them —
 * so as separate Buffers they outlive V8's young-generation collections, get promoted, and
 * wait as old garbage for a full mark-sweep. That external garbage reached ~60 MiB of the
 * forwarder's RSS under load. Reusing one buffer keeps it at the ring's size.
 *
 * ```
 *   alloc ──► [ tail ... live and freed slots, oldest first ... head ) ──► free space
 *   release(slot): marks it free; the tail moves past every freed slot at the front
 *   a slot that does not fit before the end starts again at 0 (the gap is skipped)
 * ```
 * Acks arrive in order almost always; a slot released out of order only frees its space once the
 * older ones are released. When the ring is full, {@link alloc} returns undefined and the caller
 * allocates on its own (nothing waits for the ring: back-pressure is the endpoint's high-water
 * mark, which the ring is sized above).
 */

export interface RingSlot {
  /** The slot's bytes: a view of the ring, valid until {@link FrameRing.release}. */
  readonly bytes: Buffer;
  /** The ring it came from. */
  readonly owner: FrameRing;
  /** @internal */ readonly start: number;
  /** @internal */ free: boolean;
}

export class FrameRing {
  readonly #buffer: Buffer;
  /** Live slots, oldest first, from `#first` on (a queue without shifting). */
  #slots: RingSlot[] = [];
  #first = 0;
  #head = 0;
  #tail = 0;

  constructor(capacity: number) {
    // Not resident until written: an endpoint that sends little touches little of it.
    this.#buffer = Buffer.allocUnsafeSlow(capacity);
  }

  get capacity(): number {
    return this.#buffer.length;
  }

  /** Slots handed out and not yet released at the front (for tests and stats). */
  get slots(): number {
    return this.#slots.length - this.#first;
  }

  /** A slot of `size` bytes, or undefined when the ring has no room for it now. */
  alloc(size: number): RingSlot | undefined {
    if (size <= 0 || size > this.#buffer.length) return undefined;
    let start: number;
    if (this.slots === 0) {
      this.#head = 0;
      this.#tail = 0;
    }
    if (this.#head >= this.#tail) {
      // Not wrapped: room up to the end, else from 0 up to (not onto) the tail.
      if (this.#buffer.length - this.#head >= size) start = this.#head;
      else if (this.#tail > size) start = 0;
      else return undefined;
    } else if (this.#tail - this.#head > size) {
      start = this.#head;
    } else {
      return undefined;
    }
    this.#head = start + size;
    const slot: RingSlot = {
      bytes: this.#buffer.subarray(start, start + size),
      owner: this,
      start,
      free: false,
    };
    this.#slots.push(slot);
    return slot;
  }

  /** Gives a slot back; its bytes may be reused by the next {@link alloc}. Idempotent. */
  release(slot: RingSlot): void {
    if (slot.free || slot.owner !== this) return;
    slot.free = true;
    while (this.#first < this.#slots.length && this.#slots[this.#first]!.free) this.#first++;
    if (this.#first === this.#slots.length) {
      this.#slots = [];
      this.#first = 0;
      this.#head = 0;
      this.#tail = 0;
      return;
    }
    this.#tail = this.#slots[this.#first]!.start;
    if (this.#first >= 1024 && this.#first * 2 >= this.#slots.length) {
      this.#slots = this.#slots.slice(this.#first);
      this.#first = 0;
    }
  }
}
