import { AwsError, RunasError } from "../errors.js";
import { operationOf } from "./call-log.js";

interface Known {
  /** One-line explanation in our words. */
  readonly message: string;
  readonly hint?: string;
  /** Append AWS's own message: it names the principal, action or resource. */
  readonly withDetail?: boolean;
}

const EXPIRED: Known = {
  message: "the AWS credentials have expired",
  hint: "run again with -r to drop cached credentials, or renew the profile's keys",
};
const BAD_KEY_ID: Known = {
  message: "the AWS access key id is not valid",
  hint: "check aws_access_key_id for this profile (the key may have been deleted or deactivated)",
};
const BAD_SIGNATURE: Known = {
  message: "the AWS secret key does not match the access key id",
  hint: "check aws_secret_access_key for this profile, and that the system clock is correct",
};
const ACCESS_DENIED: Known = { message: "access denied", withDetail: true };
const THROTTLED: Known = {
  message: "AWS is throttling requests",
  hint: "wait a moment and try again",
};

/**
 * Friendly text by AWS error name. Matching is by `name` only — never by message text, which
 * AWS may reword at any time.
 */
const KNOWN: Readonly<Record<string, Known>> = {
  ExpiredToken: EXPIRED,
  ExpiredTokenException: EXPIRED,
  // EC2's answer both to expired credentials and to a request signed too long ago.
  RequestExpired: {
    message: "the request or its credentials have expired",
    hint: "run again with -r to drop cached credentials, and check the system clock",
  },
  InvalidClientTokenId: BAD_KEY_ID,
  UnrecognizedClientException: BAD_KEY_ID,
  AuthFailure: { message: "AWS could not validate the credentials", hint: BAD_KEY_ID.hint },
  SignatureDoesNotMatch: BAD_SIGNATURE,
  InvalidSignatureException: BAD_SIGNATURE,
  IncompleteSignature: BAD_SIGNATURE,
  AccessDenied: ACCESS_DENIED,
  AccessDeniedException: ACCESS_DENIED,
  UnauthorizedOperation: ACCESS_DENIED,
  TargetNotConnected: {
    message: "the instance's SSM agent is not connected",
    hint: "check that the instance is running, its SSM agent is online and it can reach the SSM endpoints",
    withDetail: true,
  },
  InvalidDocument: {
    message: "the SSM document does not exist or cannot be used",
    hint: "check the document name and that it is shared with this account and region",
    withDetail: true,
  },
  InvalidInstanceId: {
    message: "the instance is not known to SSM or not in a usable state",
    hint: "check the instance id and region, and that the instance is managed by SSM",
    withDetail: true,
  },
  Throttling: THROTTLED,
  ThrottlingException: THROTTLED,
  TooManyRequestsException: THROTTLED,
  RequestLimitExceeded: THROTTLED,
  RegionDisabledException: {
    message: "STS is not activated in this region for the account",
    hint: "activate the region in IAM account settings or use another region",
  },
  InvalidIdentityToken: { message: "the web identity token was rejected", withDetail: true },
  CredentialsProviderError: { message: "cannot load credentials", withDetail: true },
};

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
]);

/**
 * Turns whatever an SDK call threw into one of our errors: an {@link AwsError} keeping the AWS
 * error name, with a one-line message (prefixed with the operation when the client factory saw
 * the call) and a hint for the common cases. Our own errors pass through unchanged.
 */
export function awsErrorFrom(error: unknown, operation = operationOf(error)): RunasError {
  if (error instanceof RunasError) return error;
  const prefix = operation ? `${operation}: ` : "";
  if (!(error instanceof Error))
    return new AwsError("Unknown", `${prefix}${oneLine(String(error))}`, { cause: error });

  const awsMessage = oneLine(error.message);
  const code = (error as NodeJS.ErrnoException).code;
  if (error.name === "ProxyConnectError") {
    // The proxy (HTTPS_PROXY / HTTP_PROXY) is down or refused: say so, naming it without credentials.
    return new AwsError("NetworkingError", `${prefix}${awsMessage}`, {
      hint: "check that the proxy runs, or the HTTPS_PROXY / HTTP_PROXY / NO_PROXY settings",
      cause: error,
    });
  }
  if (code && NETWORK_CODES.has(code)) {
    return new AwsError("NetworkingError", `${prefix}cannot reach the AWS endpoint (${code})`, {
      hint: "check the network, proxy settings and any AWS_ENDPOINT_URL override",
      cause: error,
    });
  }
  if (error.name === "TimeoutError") {
    return new AwsError("TimeoutError", `${prefix}the AWS endpoint did not answer in time`, {
      hint: "check the network and any AWS_ENDPOINT_URL override",
      cause: error,
    });
  }

  const known = KNOWN[error.name];
  if (known) {
    const detail = known.withDetail && awsMessage ? `: ${awsMessage}` : "";
    return new AwsError(error.name, `${prefix}${known.message}${detail}`, { hint: known.hint, cause: error });
  }
  return new AwsError(error.name || "Error", `${prefix}${error.name}${awsMessage ? `: ${awsMessage}` : ""}`, {
    cause: error,
  });
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
