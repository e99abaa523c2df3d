/**
 * When to try ResumeSession again after the websocket dropped (ssm-protocol.md §9): capped
 * exponential back-off with jitter inside a reconnect window. The attempt itself (ResumeSession,
 * dialing the new StreamUrl) is the caller's; this module only decides how often and how long.
 */
import { RunasError } from "@aws-runas/wire/errors.js";
import type { Clock, Entropy } from "./clock.js";

/**
 * Default reconnect window: 10 minutes covers a short laptop sleep, a Wi-Fi change or a VPN
 * reconnect, and stays inside the 20 minutes a session is kept by default (the idle timeout);
 * the agent keeps unacknowledged output for about 5 minutes of resends while connected.
 */
export const DEFAULT_RECONNECT_WINDOW_MS = 10 * 60 * 1000;
/** Back-off cap between resume attempts: back within 5 s of the network. */
export const MAX_RECONNECT_DELAY_MS = 5000;

export interface ResumeResult {
  /** Empty or missing means the session is gone (timed out). */
  tokenValue?: string;
  streamUrl?: string;
}

export interface RetryPolicy {
  /** How long to keep trying (default {@link DEFAULT_RECONNECT_WINDOW_MS}); 0 makes one attempt. */
  windowMs?: number;
  /** At most this many attempts (default: as many as fit in the window). */
  maxAttempts?: number;
  /** First back-off delay, randomised up to twice this (default 100 ms). */
  firstDelayMs?: number;
  /** Which failures are worth another try (default {@link isRetryableResumeError}). */
  isRetryable?: (error: unknown) => boolean;
}

export interface RetryHooks {
  clock: Clock;
  /** The jitter of each delay. */
  entropy: Entropy;
  /** One attempt; resolves once connected again, or when retrying has become pointless. */
  attempt: () => Promise<void>;
  /** Checked before each attempt: true stops quietly. */
  stopped: () => boolean;
  /** A failed attempt that will be retried (the first of a drop announces the loss). */
  onRetry: (error: Error, attempt: number, first: boolean, windowMs: number) => void;
}

export type RetryOutcome =
  | { kind: "connected"; announced: boolean; afterMs: number }
  | { kind: "stopped" }
  | { kind: "gave-up"; announced: boolean; waitedMs: number; lastError: Error | undefined };

/**
 * Runs attempts until one succeeds, a failure is not retryable, the attempts or the window run
 * out, or {@link RetryHooks.stopped} says so. The delays start at 100–200 ms and double up to
 * {@link MAX_RECONNECT_DELAY_MS}; the jitter comes from the injected entropy.
 */
export async function retryResume(policy: RetryPolicy, hooks: RetryHooks): Promise<RetryOutcome> {
  const { clock } = hooks;
  const window = policy.windowMs ?? DEFAULT_RECONNECT_WINDOW_MS;
  const maxAttempts = policy.maxAttempts ?? Number.POSITIVE_INFINITY;
  const retryable = policy.isRetryable ?? isRetryableResumeError;
  const lostAt = clock.now();
  let delay = (policy.firstDelayMs ?? 100) * (1 + hooks.entropy.random());
  let lastError: Error | undefined;
  let announced = false;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (hooks.stopped()) return { kind: "stopped" };
    try {
      await hooks.attempt();
      if (hooks.stopped()) return { kind: "stopped" };
      return { kind: "connected", announced, afterMs: clock.now() - lostAt };
    } catch (error) {
      lastError = error as Error;
      // Decided where the error was made (src/aws/errors.ts for AWS answers, the gateway dial):
      // a definite answer (an unknown session, access denied) ends it at once.
      if (!retryable(error)) break;
      hooks.onRetry(lastError, attempt, !announced, window);
      announced = true;
      const left = window - (clock.now() - lostAt);
      if (left <= 0) break;
      await new Promise<void>((resolve) => clock.after(Math.min(delay, left), resolve));
      delay = Math.min(delay * 2, MAX_RECONNECT_DELAY_MS);
    }
  }
  return { kind: "gave-up", announced, waitedMs: clock.now() - lostAt, lastError };
}

/**
 * Whether a failed resume attempt is worth another try. Our errors carry the answer (AWS errors
 * classified at the AWS boundary, gateway dials in transport.ts); anything else is unexpected
 * and gets the benefit of the doubt, bounded by the reconnect window.
 */
export function isRetryableResumeError(error: unknown): boolean {
  return error instanceof RunasError ? error.retryable : true;
}
