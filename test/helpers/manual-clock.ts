/**
 * A test double of the client's Clock (src/datachannel/clock.ts): time moves only when the test
 * advances it, so retransmission, pings, resume back-off and smux keepalive run without sleeping.
 * The emulator's agent and gateway take it too (its TimerClock has the same shape).
 */
import type { Clock, TimerHandle } from "../../packages/aws-runas/src/datachannel/clock.js";

/** A clock tests advance by hand; timers fire in order of their due time. */
export class ManualClock implements Clock {
  #now = 0;
  #wall = 1_700_000_000_000;
  #timers = new Set<{ due: number; period: number | null; delay: number; fn: () => void }>();
  #scheduled = 0;

  now(): number {
    return this.#now;
  }
  wallNow(): number {
    return this.#wall + this.#now;
  }
  every(ms: number, fn: () => void): TimerHandle {
    const t = { due: this.#now + ms, period: ms, delay: ms, fn };
    this.#timers.add(t);
    this.#scheduled++;
    return { cancel: () => this.#timers.delete(t) };
  }
  after(ms: number, fn: () => void): TimerHandle {
    const t = { due: this.#now + ms, period: null, delay: ms, fn };
    this.#timers.add(t);
    this.#scheduled++;
    return { cancel: () => this.#timers.delete(t) };
  }
  /** The period or delay (ms) of every timer not yet cancelled or fired, smallest first. */
  get activeTimers(): number[] {
    return [...this.#timers].map((t) => t.delay).sort((x, y) => x - y);
  }
  /** How many timers were ever started (also those gone since). */
  get scheduled(): number {
    return this.#scheduled;
  }
  /** Live timers with this period or delay. */
  live(ms: number): number {
    return this.activeTimers.filter((t) => t === ms).length;
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
