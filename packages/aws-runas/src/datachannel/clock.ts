/**
 * Time and randomness as injected dependencies, so tests can drive retransmission and
 * keepalive timers without sleeping and replay ids.
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
};

/** A clock tests advance by hand; timers fire in order of their due time. */
export class ManualClock implements Clock {
  #now = 0;
  #wall = 1_700_000_000_000;
  #timers = new Set<{ due: number; period: number | null; fn: () => void }>();

  now(): number {
    return this.#now;
  }
  wallNow(): number {
    return this.#wall + this.#now;
  }
  every(ms: number, fn: () => void): TimerHandle {
    const t = { due: this.#now + ms, period: ms, fn };
    this.#timers.add(t);
    return { cancel: () => this.#timers.delete(t) };
  }
  after(ms: number, fn: () => void): TimerHandle {
    const t = { due: this.#now + ms, period: null, fn };
    this.#timers.add(t);
    return { cancel: () => this.#timers.delete(t) };
  }
  /** Moves time forward, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: { due: number; period: number | null; fn: () => void } | undefined;
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
