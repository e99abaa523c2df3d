/**
 * Which failures of a resume attempt (ResumeSession, then the websocket dial) are worth another
 * try: networking trouble of any kind, throttling, server-side errors, expired credentials (the
 * next attempt refreshes them) and a target whose agent is reconnecting. Definite answers —
 * access denied, an unknown or terminated session, bad credentials — end the resume at once.
 *
 * TODO(issue 15 item 7): when AWS errors carry a `retryable` flag decided at the AWS boundary
 * (src/aws/errors.ts), the AwsError branch below becomes `return error.retryable`.
 */
import { AwsError, ChannelError } from "../errors.js";

const RETRYABLE_AWS = new Set([
  "NetworkingError",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  // Our own per-attempt timeout (a request that hung) aborted the call.
  "AbortError",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "InternalServerError",
  "InternalFailure",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  // Credentials that expired since the last call: the provider refreshes them for the next try.
  "ExpiredToken",
  "ExpiredTokenException",
  "RequestExpired",
  // The agent is reconnecting (instance reboot, agent restart): definite only after the window.
  "TargetNotConnected",
]);

/** Errors of node's sockets and DNS that mean "no network right now". */
const NETWORK_ERRNO =
  /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENETDOWN|EPIPE|EPROTO|ESOCKETTIMEDOUT|UND_ERR_\w+)$/;

export function isRetryableResumeError(error: unknown): boolean {
  if (error instanceof AwsError) {
    if (RETRYABLE_AWS.has(error.awsCode)) return true;
    const cause = error.cause as { $metadata?: { httpStatusCode?: number }; code?: string } | undefined;
    const status = cause?.$metadata?.httpStatusCode;
    if (status !== undefined && status >= 500) return true;
    return typeof cause?.code === "string" && NETWORK_ERRNO.test(cause.code);
  }
  // Websocket dials: refused, reset, timed out, HTTP 5xx/403 from the gateway (403: credentials
  // that expired meanwhile are refreshed by the next attempt's signature).
  if (error instanceof ChannelError)
    return error.code === "CHANNEL_CONNECT" || error.code === "CHANNEL_FORBIDDEN";
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && NETWORK_ERRNO.test(code);
}
