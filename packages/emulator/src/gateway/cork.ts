/**
 * Batches the gateway's websocket writes of one tick into one syscall: the first frame sent in a
 * tick corks the socket and the next tick uncorks it (`ws` corks each frame itself; corks nest).
 */
export class FrameCork {
  readonly #socket: { cork(): void; uncork(): void };
  #corked = false;

  constructor(socket: { cork(): void; uncork(): void }) {
    this.#socket = socket;
  }

  /** Call before each send. */
  hold(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      this.#socket.uncork();
    });
  }
}
