/**
 * Keeps a socket corked until the end of the current tick, so that every websocket frame sent in
 * one tick (a burst of data messages, a batch of acks) leaves in one `writev` instead of one
 * syscall per frame. `ws` corks around each frame itself; corks nest, so ours holds them all.
 */
export class TickCork {
  readonly #stream: { cork(): void; uncork(): void };
  #held = false;

  constructor(stream: { cork(): void; uncork(): void }) {
    this.#stream = stream;
  }

  /** Call before each send; the first call in a tick corks, a microtask-later tick uncorks. */
  hold(): void {
    if (this.#held) return;
    this.#held = true;
    this.#stream.cork();
    process.nextTick(() => {
      this.#held = false;
      this.#stream.uncork();
    });
  }
}
