/**
 * Agent → client flow control. The agent reads its sources (pty, target sockets, the smux side)
 * only while the data channel can take more: a client websocket is attached, the endpoint is not
 * congested and the session is live (ssm-protocol.md §8: the real agent's pumps stop while
 * `IsActive()` is false).
 *
 * ```
 *   source ──data──► SourcePump ──chunks ≤1024──► send(pt 1)   (source paused while the gate is shut)
 *                      ▲  realistic pacing: one chunk, then a 1 ms pause, like the agent's read loops
 *                      │  (every pump: basic port and SSH per connection, the mux byte stream, the pty)
 *                      └── OutputGate "open" ◄── attach / endpoint "drain"
 * ```
 */
import { EventEmitter } from "node:events";
import type { Pacing } from "../program/options.js";
import type { TimerClock } from "../world/clock.js";
import { AGENT_CHUNK_SIZE, splitPayloads } from "./chunks.js";

/** Says whether the channel takes more data now; emits "open" when that becomes true again. */
export class OutputGate extends EventEmitter {
  readonly #isOpen: () => boolean;

  /** `isOpen` is evaluated on every check; call {@link recheck} when one of its inputs changed. */
  constructor(isOpen: () => boolean) {
    super();
    this.#isOpen = isOpen;
    this.setMaxListeners(0);
  }

  get open(): boolean {
    return this.#isOpen();
  }

  /** Re-evaluates and emits "open" if data may flow. */
  recheck(): void {
    if (this.#isOpen()) this.emit("open");
  }

  /** Resolves the next time the gate is open (at once if it is). */
  whenOpen(): Promise<void> {
    if (this.#isOpen()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!this.#isOpen()) return;
        this.off("open", check);
        resolve();
      };
      this.on("open", check);
    });
  }
}

/** A readable thing that can stop and restart delivering data (pty, socket, stream). */
export interface PausableSource {
  pause(): void;
  resume(): void;
}

export interface SourcePumpOptions {
  gate: OutputGate;
  pacing: Pacing;
  /** Sends one payload (≤ 1024 bytes) as a stream message. */
  send: (chunk: Buffer) => void;
  /** Cut at UTF-8 character boundaries (terminal output). */
  utf8?: boolean;
  /** Times the realistic pause (default: a plain timer). */
  clock?: TimerClock;
}

/**
 * Moves one source's bytes into stream messages, honouring the gate and the pacing mode. Only one
 * read's worth of data is ever held here: the source is paused while anything is queued.
 */
export class SourcePump {
  readonly #gate: OutputGate;
  readonly #pacing: Pacing;
  readonly #send: (chunk: Buffer) => void;
  readonly #utf8: boolean;
  readonly #clock: TimerClock | undefined;
  readonly #queue: Buffer[] = [];
  #source: PausableSource | null = null;
  #sourcePaused = false;
  #running = false;
  #closed = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: SourcePumpOptions) {
    this.#gate = options.gate;
    this.#pacing = options.pacing;
    this.#send = options.send;
    this.#utf8 = options.utf8 ?? false;
    this.#clock = options.clock;
  }

  /** Sets the source to pause and resume (before any data arrives, ideally). */
  bind(source: PausableSource): void {
    this.#source = source;
    if (!this.#gate.open) this.#pauseSource();
    this.#gate.on("open", this.#onGateOpen);
  }

  /** True when nothing is queued. */
  get idle(): boolean {
    return this.#queue.length === 0 && !this.#running;
  }

  /** Data read from the source. */
  push(data: Buffer): void {
    if (this.#closed || data.length === 0) return;
    const chunks = splitPayloads(data, AGENT_CHUNK_SIZE, this.#utf8);
    if (this.#pacing === "none" && !this.#running && this.#queue.length === 0) {
      // Fast path: send while the gate stays open, queue the rest.
      let i = 0;
      while (i < chunks.length && this.#gate.open) this.#send(chunks[i++]!);
      if (i === chunks.length) {
        if (!this.#gate.open) this.#pauseSource();
        return;
      }
      this.#queue.push(...chunks.slice(i));
    } else {
      this.#queue.push(...chunks);
    }
    this.#pauseSource();
    void this.#run();
  }

  /** Resolves once everything pushed so far has been sent. */
  whenIdle(): Promise<void> {
    if (this.idle || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Sends what is queued now, gate and pacing aside (a read the agent made is always sent). */
  flush(): void {
    if (this.#closed) return;
    for (const chunk of this.#queue.splice(0)) this.#send(chunk);
  }

  /** Drops queued data and forgets the source. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#gate.off("open", this.#onGateOpen);
    this.#source = null;
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        if (!this.#gate.open) await this.#gate.whenOpen();
        if (this.#closed) break;
        const chunk = this.#queue.shift();
        if (chunk) this.#send(chunk);
        // The real agent sleeps 1 ms after every read it forwards (§8); emulator-only pacing.
        if (this.#pacing === "realistic") await this.#pause();
      }
    } finally {
      this.#running = false;
    }
    if (this.#closed) return;
    for (const w of this.#idleWaiters.splice(0)) w();
    if (this.#gate.open) this.#resumeSource();
  }

  readonly #onGateOpen = (): void => {
    if (!this.#running && this.#queue.length === 0) this.#resumeSource();
  };

  /** The agent's `time.Sleep(1 ms)` after each read it forwarded. */
  #pause(): Promise<void> {
    const clock = this.#clock;
    // Without a clock a plain timer, which (unlike the agent's unref'd timers) keeps a process
    // that only pumps alive until the data is out.
    return new Promise((resolve) => (clock ? clock.after(1, resolve) : setTimeout(resolve, 1)));
  }

  #pauseSource(): void {
    if (this.#sourcePaused || !this.#source) return;
    this.#sourcePaused = true;
    this.#source.pause();
  }

  #resumeSource(): void {
    if (!this.#sourcePaused || !this.#source || this.#closed) return;
    this.#sourcePaused = false;
    this.#source.resume();
  }
}
