/**
 * The client's one time source and one source of randomness, injected into the data channel
 * (retransmission, pings, resume back-off) and the smux session (keepalive), so tests can drive
 * every timer without sleeping and replay ids and jitter. (The emulator has its own clocks.)
 */
import { randomBytes, randomUUID } from "node:crypto";

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic enough for RTT measurement. */
  now(): number;
  /** Wall-clock milliseconds since the epoch (CreatedDate). */
  wallNow(): number;
  /** Runs `fn` every `ms` until cancelled; the timer does not keep the process alive. */
  every(ms: number, fn: () => void): TimerHandle;
  /** Runs `fn` once after `ms`. */
  after(ms: number, fn: () => void): TimerHandle;
}

export interface Entropy {
  uuid(): string;
  bytes(n: number): Buffer;
  /** A float in [0, 1), as Math.random (back-off jitter). */
  random(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

export const systemEntropy: Entropy = {
  uuid: () => randomUUID(),
  bytes: (n) => randomBytes(n),
  random: () => Math.random(),
};

/** A clock tests advance by hand; timers fire in order of their due time. */
export class ManualClock implements Clock {
  #now = 0;
  #wall = 1_700_000_000_000;
  #timers = new Set<{ due: number; period: number | null; delay: number; fn: () => void }>();

  now(): number {
    return this.#now;
  }
  wallNow(): number {
    return this.#wall + this.#now;
  }
  every(ms: number, fn: () => void): TimerHandle {
    const t = { due: this.#now + ms, period: ms, delay: ms, fn };
    this.#timers.add(t);
    return { cancel: () => this.#timers.delete(t) };
  }
  after(ms: number, fn: () => void): TimerHandle {
    const t = { due: this.#now + ms, period: null, delay: ms, fn };
    this.#timers.add(t);
    return { cancel: () => this.#timers.delete(t) };
  }
  /** The period or delay (ms) of every timer not yet cancelled or fired, smallest first. */
  get activeTimers(): number[] {
    return [...this.#timers].map((t) => t.delay).sort((x, y) => x - y);
  }
  /** Moves time forward, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: { due: number; period: number | null; delay: number; fn: () => void } | undefined;
      for (const t of this.#timers) if (t.due <= end && (!next || t.due < next.due)) next = t;
      if (!next) break;
      this.#now = next.due;
      if (next.period === null) this.#timers.delete(next);
      else next.due += next.period;
      next.fn();
    }
    this.#now = end;
  }
}
