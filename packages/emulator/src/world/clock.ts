/**
 * The emulator's notion of "now". Credentials, EC2 Instance Connect keys, TOTP codes and
 * timestamps in responses all use it, so tests can move time forward instead of waiting.
 */
import { randomBytes, randomUUID } from "node:crypto";

/**
 * The emulated world's time in milliseconds since the epoch (the agent's and the gateway's
 * timers run on {@link TimerClock}; the client has its own `Clock`).
 */
export interface WorldClock {
  now(): number;
}

/** The system clock. */
export const systemWorldClock: WorldClock = { now: () => Date.now() };

/**
 * A clock that follows a base clock plus an offset that only grows (`POST /_emulator/clock`).
 * Listeners run after each advance, e.g. to rewrite state files that carry the offset.
 */
export class AdjustableClock implements WorldClock {
  #offsetMs = 0;
  readonly #base: WorldClock;
  readonly #listeners = new Set<(offsetMs: number) => void>();

  constructor(base: WorldClock = systemWorldClock) {
    this.#base = base;
  }

  now(): number {
    return this.#base.now() + this.#offsetMs;
  }

  /** How far this clock is ahead of its base clock. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Moves time forward; negative values are refused (time never runs backwards). */
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0)
      throw new RangeError("advance needs a non-negative number of seconds");
    this.#offsetMs += Math.round(seconds * 1000);
    for (const listener of this.#listeners) listener(this.#offsetMs);
  }

  /** Subscribes to advances; returns the unsubscribe function. */
  onAdvance(listener: (offsetMs: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** A running timer of {@link TimerClock}. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * Monotonic time and timers of the simulated agent and the gateway (resend ticks, handshake
 * timeouts, smux keepalive). Injected so tests drive them by hand instead of sleeping.
 */
export interface TimerClock {
  /** Milliseconds, monotonic (RTT samples, deadlines). */
  now(): number;
  /** Wall-clock milliseconds since the epoch (a message's CreatedDate). */
  wallNow(): number;
  /** Runs `fn` every `ms` until cancelled; never keeps the process alive. */
  every(ms: number, fn: () => void): TimerHandle;
  /** Runs `fn` once after `ms`; never keeps the process alive. */
  after(ms: number, fn: () => void): TimerHandle;
}

export const systemTimerClock: TimerClock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

/** Random ids and bytes of the simulated agent (message ids, KMS challenge, nonces). */
export interface AgentEntropy {
  uuid(): string;
  bytes(n: number): Buffer;
}

export const systemAgentEntropy: AgentEntropy = {
  uuid: () => randomUUID(),
  bytes: (n) => randomBytes(n),
};
