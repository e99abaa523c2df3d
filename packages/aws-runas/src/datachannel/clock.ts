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
