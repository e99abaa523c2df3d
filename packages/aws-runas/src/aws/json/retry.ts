/**
 * When a failed attempt is made again, and after how long: the SDK's standard retry mode —
 * throttling, 5xx and answerless failures (network, timeout) are retried, with full-jitter
 * exponential back-off; the jitter is the caller's random number. Which failures those are is
 * the one classification's (../errors.ts) answer, so the two can never disagree. Pure.
 */
import { AwsError } from "@aws-runas/wire/errors.js";
import { classifyAwsError } from "../errors.js";

/** The SDK's default: one call and two retries. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** First back-off of a throttled call and of any other retryable failure. */
const BASE_DELAY_MS = { throttling: 500, transient: 100 } as const;
const MAX_DELAY_MS = 20_000;

export type RetryKind = keyof typeof BASE_DELAY_MS;

/** How `error` is retried, or undefined when the same call would get the same answer. */
export function retryKindOf(error: unknown): RetryKind | undefined {
  const classified = classifyAwsError(error);
  if (!(classified instanceof AwsError)) return undefined;
  if (classified.kind === "throttled") return "throttling";
  if (classified.kind === "network" || classified.kind === "server") return "transient";
  return undefined;
}

/**
 * The wait before retry number `retry` (1 for the first): a uniform pick, by `random` in
 * [0, 1), below an exponentially growing cap.
 */
export function backoffMs(kind: RetryKind, retry: number, random: number): number {
  const cap = Math.min(MAX_DELAY_MS, BASE_DELAY_MS[kind] * 2 ** retry);
  return Math.floor(random * cap);
}
