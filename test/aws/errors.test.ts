import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { AwsError, type AwsErrorKind, ChannelError, RunasError, UsageError } from "@aws-runas/wire/errors.js";
import { ExpiredTokenException } from "@aws-sdk/client-sts";
import { awsErrorFrom, classifyAwsError, isRetryable } from "../../packages/aws-runas/src/aws/errors.js";

function sdkError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
    $response: { statusCode: status },
  });
}

function nodeError(code: string, message = `connect ${code} 127.0.0.1:443`): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * [what, the thrown value, kind, retryable, message pattern]: every class of failure the SDK
 * throws, and what it means for a caller (a resume loop keeps trying only the retryable ones).
 */
const CLASSES: [string, unknown, AwsErrorKind, boolean, RegExp][] = [
  // no answer at all: retryable
  [
    "DNS failure",
    nodeError("ENOTFOUND", "getaddrinfo ENOTFOUND ssm.x"),
    "network",
    true,
    /cannot reach.*ENOTFOUND/,
  ],
  ["DNS try again", nodeError("EAI_AGAIN"), "network", true, /cannot reach.*EAI_AGAIN/],
  ["refused", nodeError("ECONNREFUSED"), "network", true, /cannot reach.*ECONNREFUSED/],
  ["reset", nodeError("ECONNRESET", "socket hang up"), "network", true, /cannot reach.*ECONNRESET/],
  ["connect timeout", nodeError("ETIMEDOUT"), "network", true, /cannot reach.*ETIMEDOUT/],
  ["no route", nodeError("EHOSTUNREACH"), "network", true, /cannot reach.*EHOSTUNREACH/],
  ["network down", nodeError("ENETUNREACH"), "network", true, /cannot reach.*ENETUNREACH/],
  [
    "happy-eyeballs AggregateError",
    Object.assign(new AggregateError([nodeError("ECONNREFUSED"), nodeError("ECONNREFUSED")], "x"), {}),
    "network",
    true,
    /ECONNREFUSED/,
  ],
  [
    "a network error as the cause",
    Object.assign(new Error("request failed"), { name: "Error", cause: nodeError("ECONNRESET") }),
    "network",
    true,
    /ECONNRESET/,
  ],
  [
    "the SDK's request timeout",
    Object.assign(new Error("Connection timed out after 1000 ms"), { name: "TimeoutError" }),
    "network",
    true,
    /did not answer in time/,
  ],
  ["AWS_NetworkingError-style SDK error", nodeError("ECONNREFUSED"), "network", true, /ECONNREFUSED/],
  // throttling: retryable
  ["Throttling", sdkError("Throttling", "Rate exceeded"), "throttled", true, /throttling/],
  ["ThrottlingException", sdkError("ThrottlingException", "Rate exceeded"), "throttled", true, /throttling/],
  ["TooManyRequestsException", sdkError("TooManyRequestsException", "slow"), "throttled", true, /throttling/],
  ["RequestLimitExceeded (EC2)", sdkError("RequestLimitExceeded", "slow"), "throttled", true, /throttling/],
  ["an unmodelled 429", sdkError("SomethingSlow", "slow", 429), "throttled", true, /throttling/],
  // 5xx: retryable
  [
    "InternalServerError",
    sdkError("InternalServerError", "oops", 500),
    "server",
    true,
    /internal error: oops/,
  ],
  ["ServiceUnavailable", sdkError("ServiceUnavailable", "down", 503), "server", true, /internal error/],
  ["InternalFailure", sdkError("InternalFailure", "x", 500), "server", true, /internal error/],
  ["an unmodelled 502", sdkError("BadGateway", "gateway", 502), "server", true, /internal error: gateway/],
  // an agent offline now: retryable within a caller's window
  [
    "TargetNotConnected",
    sdkError("TargetNotConnected", "i-1 is not connected"),
    "unavailable",
    true,
    /not connected/,
  ],
  // definite answers: final
  [
    "AccessDenied",
    sdkError("AccessDenied", "User: a is not authorized", 403),
    "denied",
    false,
    /access denied: User/,
  ],
  ["AccessDeniedException", sdkError("AccessDeniedException", "no", 400), "denied", false, /access denied/],
  [
    "UnauthorizedOperation (EC2)",
    sdkError("UnauthorizedOperation", "no", 403),
    "denied",
    false,
    /access denied/,
  ],
  [
    "unknown or terminated session",
    sdkError("DoesNotExistException", "Session s-1 does not exist"),
    "not-found",
    false,
    /not found: Session s-1 does not exist/,
  ],
  ["unknown instance", sdkError("InvalidInstanceId", "i-bad"), "not-found", false, /not known to SSM/],
  ["unknown document", sdkError("InvalidDocument", "D"), "not-found", false, /document does not exist/],
  [
    "validation",
    sdkError("ValidationException", "1 validation error"),
    "invalid",
    false,
    /rejected the request/,
  ],
  [
    "EC2 bad parameter",
    sdkError("InvalidParameterValue", "bad"),
    "invalid",
    false,
    /rejected the request: bad/,
  ],
  [
    "expired token",
    sdkError("ExpiredToken", "expired", 403),
    "credentials",
    false,
    /credentials have expired$/,
  ],
  ["expired token (json)", sdkError("ExpiredTokenException", "x"), "credentials", false, /have expired$/],
  ["EC2 RequestExpired", sdkError("RequestExpired", "Request has expired."), "credentials", false, /expired/],
  [
    "invalid token",
    sdkError("InvalidClientTokenId", "bad", 403),
    "credentials",
    false,
    /key id is not valid$/,
  ],
  ["unrecognized client", sdkError("UnrecognizedClientException", "x"), "credentials", false, /not valid$/],
  ["bad signature", sdkError("SignatureDoesNotMatch", "x", 403), "credentials", false, /secret key does not/],
  [
    "an invalid endpoint URL",
    Object.assign(new TypeError("Invalid URL"), { code: "ERR_INVALID_URL" }),
    "config",
    false,
    /endpoint URL is not valid/,
  ],
  ["anything else", sdkError("SomethingNew", "ExpiredToken AccessDenied"), "other", false, /^SomethingNew: /],
  ["not an Error", "boom", "other", false, /^boom$/],
];

describe("classifyAwsError: every class of failure, and whether it is retryable", () => {
  for (const [what, thrown, kind, retryable, message] of CLASSES) {
    test(`${what} → ${kind}${retryable ? ", retryable" : ", final"}`, () => {
      const err = classifyAwsError(thrown);
      assert.ok(err instanceof AwsError, String(err));
      assert.equal(err.kind, kind);
      assert.equal(err.retryable, retryable);
      assert.equal(isRetryable(thrown), retryable);
      assert.match(err.message, message);
      assert.ok(!err.message.includes("\n"));
      // README: every runtime error comes with a hint line.
      assert.ok(err.hint, `a hint for ${what}`);
    });
  }

  test("an HTTP answer is never a networking error, whatever its code field says", () => {
    const err = classifyAwsError(Object.assign(sdkError("AccessDenied", "no", 403), { code: "ECONNRESET" }));
    assert.ok(err instanceof AwsError);
    assert.equal(err.kind, "denied");
  });
});

describe("classifyAwsError: messages and hints", () => {
  test("modelled SDK exception keeps its AWS name", () => {
    const err = awsErrorFrom(
      new ExpiredTokenException({
        message: "The security token included in the request is expired",
        $metadata: {},
      }),
      "STS AssumeRole",
    );
    assert.ok(err instanceof AwsError);
    assert.equal(err.awsCode, "ExpiredTokenException");
    assert.equal(err.code, "AWS_ExpiredTokenException");
    assert.equal(err.kind, "credentials");
    assert.equal(err.message, "STS AssumeRole: the AWS credentials have expired");
    // Cached credentials are renewed before this is seen: the hint names what is left to do.
    assert.match(err.hint ?? "", /AWS_SESSION_TOKEN|system clock/);
    assert.doesNotMatch(err.hint ?? "", /-r\b/);
  });

  const hinted: [string, RegExp][] = [
    ["ExpiredToken", /credentials have expired$/],
    ["InvalidClientTokenId", /access key id is not valid$/],
    ["UnrecognizedClientException", /access key id is not valid$/],
    ["SignatureDoesNotMatch", /secret key does not match/],
    ["AccessDenied", /access denied: User: arn:aws:iam::1:user\/a is not authorized$/],
    ["AccessDeniedException", /access denied: User/],
    ["TargetNotConnected", /SSM agent is not connected/],
    ["InvalidDocument", /document does not exist/],
    ["ThrottlingException", /throttling/],
    ["Throttling", /throttling/],
  ];
  for (const [name, pattern] of hinted) {
    test(`${name} gets a friendly one-line message and a hint`, () => {
      const err = awsErrorFrom(
        sdkError(name, "User: arn:aws:iam::1:user/a\n is not authorized"),
        "SSM StartSession",
      );
      assert.ok(err instanceof AwsError);
      assert.equal(err.awsCode, name);
      assert.match(err.message, /^SSM StartSession: /);
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes("\n"));
      assert.ok(err.hint, "hint expected");
    });
  }

  test("access denied: the hint names only real flags", () => {
    const err = classifyAwsError(sdkError("AccessDenied", "no", 403));
    assert.match(err.hint ?? "", /-w/);
  });

  test("matches by name, never by message text", () => {
    const err = awsErrorFrom(sdkError("SomethingNew", "ExpiredToken AccessDenied"));
    assert.ok(err instanceof AwsError);
    assert.equal(err.awsCode, "SomethingNew");
    assert.equal(err.message, "SomethingNew: ExpiredToken AccessDenied");
    assert.match(err.hint ?? "", /-v/);
  });

  test("network failures", () => {
    const err = awsErrorFrom(
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
    );
    assert.ok(err instanceof AwsError);
    assert.equal(err.awsCode, "NetworkingError");
    assert.equal(err.message, "cannot reach the AWS endpoint (ECONNREFUSED)");
    assert.match(err.hint ?? "", /AWS_ENDPOINT_URL/);
  });

  test("our own errors pass through with their own flag; non-errors are wrapped", () => {
    const usage = new UsageError("bad");
    assert.equal(awsErrorFrom(usage), usage);
    assert.equal(isRetryable(usage), false);
    const lost = new ChannelError("CHANNEL_LOST", "lost", { retryable: true });
    assert.equal(isRetryable(lost), true);
    const odd = awsErrorFrom("boom");
    assert.ok(odd instanceof RunasError);
    assert.equal(odd.message, "boom");
  });

  test("keeps the cause", () => {
    const original = sdkError("AccessDenied", "no");
    assert.equal(awsErrorFrom(original).cause, original);
  });
});

describe("one place decides (issue 15 item 7)", () => {
  const SRC = fileURLToPath(new URL("../../packages/aws-runas/src", import.meta.url));
  /** Ways of deciding by AWS error name outside src/aws/errors.ts. */
  const NAME_MATCHING = [
    /\.(?:name|awsCode)\s*[!=]==?\s*["'`][A-Za-z]/,
    /\.code(?:\.startsWith\(|\s*[!=]==?\s*)["'`]AWS_/,
    /isRetryableAws/,
    /\$metadata\??\.httpStatusCode\s*[<>=!]/,
  ];
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
    );

  test("no module but src/aws/errors.ts matches on AWS error names or status codes", () => {
    const found: string[] = [];
    for (const file of files(SRC)) {
      const rel = relative(SRC, file);
      // The emulator plays AWS: it produces these names, it does not interpret them.
      if (rel === join("aws", "errors.ts") || rel.startsWith(`emulator${"/"}`)) continue;
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (NAME_MATCHING.some((re) => re.test(line))) found.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(found, []);
  });
});
