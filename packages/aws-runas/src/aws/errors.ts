/**
 * The one place that decides what an AWS failure means.
 *
 * Every call made through {@link createClient} ends, on failure, in {@link classifyAwsError}
 * (the boundary in call-log.ts calls it, for SDK clients and our SSM client alike), so callers
 * only ever see our {@link AwsError} and never look at AWS error names or status codes themselves:
 *
 *     try { await ssm.startSession(...) } catch (error) {
 *       if (isRetryable(error)) ...   // try again later (with back-off): the answer may change
 *       else ...                      // a definite answer: report it and stop
 *     }
 *
 * `retryable` is true for failures that say nothing about the request itself: no answer at all
 * (DNS failure, refused or reset connection, timeout), throttling, 5xx, and an SSM agent that
 * is not connected right now. Everything else — access denied, an unknown or terminated session
 * or instance, a validation error, rejected credentials — is final: the same call will get the
 * same answer. (Rejected cached credentials are renewed once by the boundary itself, see
 * `kind: "credentials"`, before the error reaches a caller.)
 */
import { AwsError, type AwsErrorKind, RunasError } from "@aws-runas/wire/errors.js";
import { operationOf } from "./failed-operation.js";

export type { AwsErrorKind } from "@aws-runas/wire/errors.js";

interface Known {
  readonly kind: AwsErrorKind;
  /** One-line explanation in our words. */
  readonly message: string;
  readonly hint?: string;
  /** Append AWS's own message: it names the principal, action or resource. */
  readonly withDetail?: boolean;
}

// Cached credentials that AWS rejects are dropped and obtained again before a caller sees
// this, so what is left is a clock problem or temporary keys the user supplied themselves.
const EXPIRED: Known = {
  kind: "credentials",
  message: "the AWS credentials have expired",
  hint: "replace temporary keys given in AWS_SESSION_TOKEN or aws_session_token; otherwise check that the system clock is correct",
};
const BAD_KEY_ID: Known = {
  kind: "credentials",
  message: "the AWS access key id is not valid",
  hint: "check aws_access_key_id for this profile (the key may have been deleted or deactivated)",
};
const BAD_SIGNATURE: Known = {
  kind: "credentials",
  message: "the AWS secret key does not match the access key id",
  hint: "check aws_secret_access_key for this profile, and that the system clock is correct",
};
const ACCESS_DENIED: Known = {
  kind: "denied",
  message: "access denied",
  withDetail: true,
  hint: "the identity above lacks that permission (-w shows who you are): use a profile or role that has it",
};
const THROTTLED: Known = {
  kind: "throttled",
  message: "AWS is throttling requests",
  hint: "wait a moment and try again",
};
const SERVER: Known = {
  kind: "server",
  message: "AWS had an internal error",
  withDetail: true,
  hint: "this is on AWS's side; try again in a moment",
};
const INVALID: Known = {
  kind: "invalid",
  message: "AWS rejected the request",
  withDetail: true,
  hint: "AWS's message names the value it refused; check the flags and target given",
};

/**
 * Friendly text and kind by AWS error name. Matching is by `name` only — never by message
 * text, which AWS may reword at any time.
 */
const KNOWN: Readonly<Record<string, Known>> = {
  ExpiredToken: EXPIRED,
  ExpiredTokenException: EXPIRED,
  // EC2's answer both to expired credentials and to a request signed too long ago.
  RequestExpired: {
    kind: "credentials",
    message: "the request or its credentials have expired",
    hint: EXPIRED.hint,
  },
  InvalidClientTokenId: BAD_KEY_ID,
  UnrecognizedClientException: BAD_KEY_ID,
  AuthFailure: {
    kind: "credentials",
    message: "AWS could not validate the credentials",
    hint: BAD_KEY_ID.hint,
  },
  SignatureDoesNotMatch: BAD_SIGNATURE,
  InvalidSignatureException: BAD_SIGNATURE,
  IncompleteSignature: BAD_SIGNATURE,
  IncompleteSignatureException: BAD_SIGNATURE,
  MissingAuthenticationTokenException: BAD_SIGNATURE,
  AccessDenied: ACCESS_DENIED,
  AccessDeniedException: ACCESS_DENIED,
  UnauthorizedOperation: ACCESS_DENIED,
  // The agent is offline now; it may come back (a reboot, an agent restart), so a caller with
  // a time window may keep trying. Without one it is reported like any other failure.
  TargetNotConnected: {
    kind: "unavailable",
    message: "the instance's SSM agent is not connected",
    hint: "check that the instance is running, its SSM agent is online and it can reach the SSM endpoints",
    withDetail: true,
  },
  InvalidDocument: {
    kind: "not-found",
    message: "the SSM document does not exist or cannot be used",
    hint: "check the document name and that it is shared with this account and region",
    withDetail: true,
  },
  InvalidInstanceId: {
    kind: "not-found",
    message: "the instance is not known to SSM or not in a usable state",
    hint: "check the instance id and region (AWS_REGION or the profile's region), and that the instance is managed by SSM",
    withDetail: true,
  },
  // SSM's answer about a session it does not know (any more): ResumeSession / TerminateSession.
  DoesNotExistException: {
    kind: "not-found",
    message: "not found",
    withDetail: true,
    hint: "the session has ended or was terminated; start a new one",
  },
  ValidationException: INVALID,
  ValidationError: INVALID,
  InvalidParameterValue: INVALID,
  InvalidParameterCombination: INVALID,
  InvalidParameters: INVALID,
  InvalidArgsException: INVALID,
  SerializationException: INVALID,
  Throttling: THROTTLED,
  ThrottlingException: THROTTLED,
  ThrottledException: THROTTLED,
  TooManyRequestsException: THROTTLED,
  RequestLimitExceeded: THROTTLED,
  RequestThrottled: THROTTLED,
  RequestThrottledException: THROTTLED,
  SlowDown: THROTTLED,
  PriorRequestNotComplete: THROTTLED,
  InternalServerError: SERVER,
  InternalServerException: SERVER,
  InternalFailure: SERVER,
  InternalError: SERVER,
  ServiceUnavailable: SERVER,
  ServiceUnavailableException: SERVER,
  RegionDisabledException: {
    kind: "denied",
    message: "STS is not activated in this region for the account",
    hint: "activate the region in IAM account settings or use another region",
  },
  InvalidIdentityToken: {
    kind: "credentials",
    message: "the web identity token was rejected",
    withDetail: true,
  },
  CredentialsProviderError: { kind: "config", message: "cannot load credentials", withDetail: true },
};

const OTHER_HINT = "this is AWS's own answer; run again with -v to see the API calls";

/** Node's error codes for "no usable answer from the network" (the request may not have arrived). */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** SDK error names for a request that got no answer in time. */
const TIMEOUT_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);

/**
 * Errors of a request signed at the wrong time: worth one more attempt once the service's clock
 * (from the answer's `Date`) has moved the signing time.
 */
const CLOCK_SKEW_NAMES = new Set([
  "RequestTimeTooSkewed",
  "RequestExpired",
  "RequestInTheFuture",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "AuthFailure",
]);

/** True for a signing-time error; our JSON client retries it only when its signing clock moved. */
export function isClockSkewError(error: unknown): boolean {
  return error instanceof Error && CLOCK_SKEW_NAMES.has(error.name);
}

/**
 * True when trying the same thing again later may succeed: our errors carry the flag, anything
 * else (an SDK error that did not go through the client factory) is classified first.
 */
export function isRetryable(error: unknown): boolean {
  return (error instanceof RunasError ? error : classifyAwsError(error)).retryable;
}

/**
 * Turns whatever an SDK call threw into one of our errors: an {@link AwsError} keeping the AWS
 * error name, with its {@link AwsErrorKind} and `retryable` flag, a one-line message (prefixed
 * with the operation, e.g. `SSM StartSession: `) and a hint for the common cases. Our own
 * errors pass through unchanged. Pure.
 */
export function classifyAwsError(error: unknown, operation = operationOf(error)): RunasError {
  if (error instanceof RunasError) return error;
  const prefix = operation ? `${operation}: ` : "";
  if (!(error instanceof Error))
    return new AwsError("Unknown", `${prefix}${oneLine(String(error))}`, {
      kind: "other",
      hint: OTHER_HINT,
      cause: error,
    });

  const awsMessage = oneLine(error.message);
  if (error.name === "ProxyConnectError") {
    // The proxy (HTTPS_PROXY / HTTP_PROXY) is down or refused: say so, naming it without credentials.
    return new AwsError("NetworkingError", `${prefix}${awsMessage}`, {
      kind: "network",
      hint: "check that the proxy runs, or the HTTPS_PROXY / HTTP_PROXY / NO_PROXY settings",
      cause: error,
    });
  }
  const networkCode = networkCodeOf(error);
  if (networkCode) {
    return new AwsError("NetworkingError", `${prefix}cannot reach the AWS endpoint (${networkCode})`, {
      kind: "network",
      hint: "check the network, proxy settings and any AWS_ENDPOINT_URL override",
      cause: error,
    });
  }
  if (TIMEOUT_NAMES.has(error.name)) {
    return new AwsError("TimeoutError", `${prefix}the AWS endpoint did not answer in time`, {
      kind: "network",
      hint: "check the network and any AWS_ENDPOINT_URL override",
      cause: error,
    });
  }
  if ((error as NodeJS.ErrnoException).code === "ERR_INVALID_URL") {
    return new AwsError("InvalidEndpoint", `${prefix}the AWS endpoint URL is not valid`, {
      kind: "config",
      hint: "check AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE> and endpoint_url in the profile",
      cause: error,
    });
  }

  const known = KNOWN[error.name] ?? byStatus(error);
  if (known) {
    const detail = known.withDetail && awsMessage ? `: ${awsMessage}` : "";
    return new AwsError(error.name, `${prefix}${known.message}${detail}`, {
      kind: known.kind,
      hint: known.hint,
      cause: error,
    });
  }
  return new AwsError(error.name || "Error", `${prefix}${error.name}${awsMessage ? `: ${awsMessage}` : ""}`, {
    kind: "other",
    hint: OTHER_HINT,
    cause: error,
  });
}

/** The former name of {@link classifyAwsError}. */
export const awsErrorFrom = classifyAwsError;

/** Unmodelled answers: the HTTP status and the SDK's own retry hints still say what they are. */
function byStatus(error: Error): Known | undefined {
  const e = error as { $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };
  const status = e.$metadata?.httpStatusCode;
  if (e.$retryable?.throttling || status === 429) return THROTTLED;
  if (status !== undefined && status >= 500) return SERVER;
  return undefined;
}

/** A network error code on the error, its `cause` chain or an AggregateError's members. */
function networkCodeOf(error: unknown, depth = 0): string | undefined {
  if (typeof error !== "object" || error === null || depth > 4) return undefined;
  // Only errors that came without an answer: an HTTP response means the network worked.
  if ((error as { $response?: unknown }).$response !== undefined) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
  const members = (error as { errors?: unknown }).errors;
  if (Array.isArray(members)) {
    for (const member of members) {
      const found = networkCodeOf(member, depth + 1);
      if (found) return found;
    }
  }
  return networkCodeOf((error as { cause?: unknown }).cause, depth + 1);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
