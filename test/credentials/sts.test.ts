import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AwsError } from "@aws-runas/wire/errors.js";
import { createLogger, silentLogger } from "@aws-runas/wire/log.js";
import { sdkStsFactory } from "../../packages/aws-runas/src/credentials/sts.js";
import {
  type FakeAwsServer,
  signingKeyId,
  startFakeAws,
  stsCredentialsXml,
  stsError,
  stsResult,
} from "../aws/fake-aws-server.js";

const EXPIRATION = new Date("2030-01-01T12:00:00Z");
const issued = {
  accessKeyId: "ASIAISSUED",
  secretAccessKey: "issued-secret",
  sessionToken: "issued-token",
  expiration: EXPIRATION,
};

let server: FakeAwsServer;
before(async () => {
  server = await startFakeAws((req) => {
    if (signingKeyId(req) === "AKIAEXPIRED")
      return stsError(403, "ExpiredToken", "The security token included in the request is expired");
    switch (req.params.get("Action")) {
      case "GetSessionToken":
        return stsResult("GetSessionToken", stsCredentialsXml(issued));
      case "AssumeRole":
        return stsResult(
          "AssumeRole",
          `${stsCredentialsXml(issued)}<AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/R/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>`,
        );
      case "GetCallerIdentity":
        return stsResult(
          "GetCallerIdentity",
          "<Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>AIDAALICE</UserId><Account>123456789012</Account>",
        );
      default:
        return stsError(400, "InvalidAction", "no");
    }
  });
});
after(() => server.close());

const keys = { accessKeyId: "AKIAALICE", secretAccessKey: "alice-secret" };

describe("sdkStsFactory", () => {
  test("GetSessionToken sends duration and MFA, returns the credentials", async () => {
    const sts = sdkStsFactory({ logger: silentLogger, env: { AWS_ENDPOINT_URL_STS: server.url } })(
      keys,
      "eu-west-1",
    );
    const out = await sts.getSessionToken({
      durationSeconds: 3600,
      serialNumber: "arn:mfa",
      tokenCode: "123456",
    });
    assert.deepEqual(out, issued);
    const req = server.requests.at(-1)!;
    assert.equal(signingKeyId(req), "AKIAALICE");
    assert.match(String(req.headers.authorization), /\/eu-west-1\/sts\/aws4_request/);
    assert.equal(req.params.get("DurationSeconds"), "3600");
    assert.equal(req.params.get("SerialNumber"), "arn:mfa");
    assert.equal(req.params.get("TokenCode"), "123456");
  });

  test("AssumeRole sends every field; GetCallerIdentity parses; region defaults to us-east-1", async () => {
    const sts = sdkStsFactory({ logger: silentLogger, env: { AWS_ENDPOINT_URL: server.url } })(
      async () => keys,
      undefined,
    );
    const out = await sts.assumeRole({
      roleArn: "arn:aws:iam::123456789012:role/R",
      roleSessionName: "alice",
      durationSeconds: 900,
      externalId: "ext",
    });
    assert.equal(out.accessKeyId, "ASIAISSUED");
    const req = server.requests.at(-1)!;
    assert.match(String(req.headers.authorization), /\/us-east-1\/sts\/aws4_request/);
    assert.equal(req.params.get("RoleArn"), "arn:aws:iam::123456789012:role/R");
    assert.equal(req.params.get("RoleSessionName"), "alice");
    assert.equal(req.params.get("DurationSeconds"), "900");
    assert.equal(req.params.get("ExternalId"), "ext");
    assert.equal(req.params.get("SerialNumber"), null);
    assert.deepEqual(await sts.getCallerIdentity(), {
      account: "123456789012",
      arn: "arn:aws:iam::123456789012:user/alice",
      userId: "AIDAALICE",
    });
  });

  test("errors arrive translated, with the operation named", async () => {
    const lines: string[] = [];
    const sts = sdkStsFactory({
      logger: createLogger(1, (l) => lines.push(l)),
      env: { AWS_ENDPOINT_URL: server.url },
    })({ accessKeyId: "AKIAEXPIRED", secretAccessKey: "x-secret" }, "us-east-1");
    await assert.rejects(sts.getSessionToken({ durationSeconds: 3600 }), (e: unknown) => {
      assert.ok(e instanceof AwsError);
      assert.equal(e.awsCode, "ExpiredToken");
      assert.equal(e.message, "STS GetSessionToken: the AWS credentials have expired");
      return true;
    });
    assert.ok(lines.some((l) => l.includes("STS GetSessionToken -> 403 ExpiredToken")));
  });
});
