import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ExpiredTokenException } from "@aws-sdk/client-sts";
import { awsErrorFrom } from "../../src/aws/errors.js";
import { AwsError, RunasError, UsageError } from "../../src/errors.js";

function sdkError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $fault: "client", $metadata: { httpStatusCode: status } });
}

describe("awsErrorFrom", () => {
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
    assert.equal(err.message, "STS AssumeRole: the AWS credentials have expired");
    assert.match(err.hint ?? "", /-r/);
  });

  const cases: [string, RegExp][] = [
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
  for (const [name, pattern] of cases) {
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
      if (!name.startsWith("AccessDenied")) assert.ok(err.hint, "hint expected");
    });
  }

  test("matches by name, never by message text", () => {
    const err = awsErrorFrom(sdkError("SomethingNew", "ExpiredToken AccessDenied"));
    assert.ok(err instanceof AwsError);
    assert.equal(err.awsCode, "SomethingNew");
    assert.equal(err.message, "SomethingNew: ExpiredToken AccessDenied");
    assert.equal(err.hint, undefined);
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

  test("our own errors pass through; non-errors are wrapped", () => {
    const usage = new UsageError("bad");
    assert.equal(awsErrorFrom(usage), usage);
    const odd = awsErrorFrom("boom");
    assert.ok(odd instanceof RunasError);
    assert.equal(odd.message, "boom");
  });

  test("keeps the cause", () => {
    const original = sdkError("AccessDenied", "no");
    assert.equal(awsErrorFrom(original).cause, original);
  });
});
