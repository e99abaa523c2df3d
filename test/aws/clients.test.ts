import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AwsError } from "@aws-runas/wire/errors.js";
import { createLogger, silentLogger } from "@aws-runas/wire/log.js";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { createClient } from "../../packages/aws-runas/src/aws/clients.js";
import { awsErrorFrom } from "../../packages/aws-runas/src/aws/errors.js";
import { type FakeAwsServer, signingKeyId, startFakeAws, stsError, stsResult } from "./fake-aws-server.js";

const creds = { accessKeyId: "AKIAFAKE", secretAccessKey: "fake-secret-key-value" };
const identity = stsResult(
  "GetCallerIdentity",
  "<Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>AIDAALICE</UserId><Account>123456789012</Account>",
);

let server: FakeAwsServer;
let other: FakeAwsServer;
before(async () => {
  server = await startFakeAws((req) => {
    if (req.headers.authorization?.includes("AKIABAD"))
      return stsError(403, "InvalidClientTokenId", "bad key");
    const target = req.headers["x-amz-target"];
    if (typeof target === "string") return { contentType: "application/x-amz-json-1.1", body: "{}" };
    if (req.params.get("Action") === "DescribeInstances") {
      return {
        body: '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet/></DescribeInstancesResponse>',
      };
    }
    return identity;
  });
  other = await startFakeAws(() => identity);
});
after(async () => {
  await server.close();
  await other.close();
});

describe("createClient: the AWS boundary", () => {
  test("rejected credentials are renewed once through renewCredentials, then the call is retried", async () => {
    const renewals: string[] = [];
    let current = { accessKeyId: "AKIABAD", secretAccessKey: "x" };
    const sts = await createClient("sts", {
      region: "us-east-1",
      credentials: async () => current,
      logger: silentLogger,
      env: { AWS_ENDPOINT_URL: server.url },
      maxAttempts: 1,
      renewCredentials: async (rejected) => {
        renewals.push(rejected.awsCode);
        current = { ...creds };
        return true;
      },
    });
    const out = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(out.Arn, "arn:aws:iam::123456789012:user/alice");
    assert.deepEqual(renewals, ["InvalidClientTokenId"]);

    // When renewing cannot help, the classified error reaches the caller after one try.
    current = { accessKeyId: "AKIABAD", secretAccessKey: "x" };
    let asked = 0;
    const stuck = await createClient("sts", {
      region: "us-east-1",
      credentials: async () => current,
      logger: silentLogger,
      env: { AWS_ENDPOINT_URL: server.url },
      maxAttempts: 1,
      renewCredentials: async () => {
        asked++;
        return false;
      },
    });
    await assert.rejects(
      stuck.send(new GetCallerIdentityCommand({})),
      (e: unknown) => e instanceof AwsError && e.kind === "credentials",
    );
    assert.equal(asked, 1);
    sts.destroy();
    stuck.destroy();
  });

  test("a refused connection is a retryable networking AwsError", async () => {
    const sts = await createClient("sts", {
      region: "us-east-1",
      credentials: creds,
      logger: silentLogger,
      env: { AWS_ENDPOINT_URL: "http://127.0.0.1:1" },
      maxAttempts: 1,
    });
    const error = await sts.send(new GetCallerIdentityCommand({})).then(
      () => undefined,
      (e: unknown) => e,
    );
    sts.destroy();
    assert.ok(error instanceof AwsError, String(error));
    assert.equal(error.kind, "network");
    assert.equal(error.retryable, true);
    assert.equal(error.message, "STS GetCallerIdentity: cannot reach the AWS endpoint (ECONNREFUSED)");
  });
});

describe("createClient", () => {
  test("AWS_ENDPOINT_URL_STS from the injected env is used, and calls are signed with our credentials", async () => {
    const sts = await createClient("sts", {
      region: "us-east-1",
      credentials: creds,
      logger: silentLogger,
      env: { AWS_ENDPOINT_URL: other.url, AWS_ENDPOINT_URL_STS: server.url },
    });
    const before = server.requests.length;
    const out = await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    assert.equal(out.Arn, "arn:aws:iam::123456789012:user/alice");
    assert.equal(server.requests.length, before + 1);
    assert.equal(signingKeyId(server.requests.at(-1)!), "AKIAFAKE");
    assert.equal(other.requests.length, 0);
  });

  test("the SDK itself honours AWS_ENDPOINT_URL from process.env", async (t) => {
    const saved = process.env["AWS_ENDPOINT_URL"];
    process.env["AWS_ENDPOINT_URL"] = other.url;
    t.after(() => {
      if (saved === undefined) delete process.env["AWS_ENDPOINT_URL"];
      else process.env["AWS_ENDPOINT_URL"] = saved;
    });
    // An empty injected env means the factory passes no endpoint: only the SDK's loader can find it.
    const sts = await createClient("sts", {
      region: "us-east-1",
      credentials: creds,
      logger: silentLogger,
      env: {},
    });
    const before = other.requests.length;
    await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    assert.equal(other.requests.length, before + 1);
  });

  test("every service loads lazily and reaches its override", async () => {
    const env = { AWS_ENDPOINT_URL: server.url };
    const options = { region: "eu-west-1", credentials: creds, logger: silentLogger, env, maxAttempts: 1 };
    const { DescribeInstancesCommand } = await import("@aws-sdk/client-ec2");
    const { ListKeysCommand } = await import("@aws-sdk/client-kms");
    const { SendSSHPublicKeyCommand } = await import("@aws-sdk/client-ec2-instance-connect");

    const seen: string[] = [];
    const track = () => {
      const r = server.requests.at(-1)!;
      seen.push(String(r.headers["x-amz-target"] ?? r.params.get("Action")));
    };
    const ssm = await createClient("ssm", options);
    await ssm.describeInstanceInformation({});
    track();
    const ec2 = await createClient("ec2", options);
    await ec2.send(new DescribeInstancesCommand({}));
    track();
    const kms = await createClient("kms", options);
    await kms.send(new ListKeysCommand({}));
    track();
    const ec2ic = await createClient("ec2-instance-connect", options);
    await ec2ic.send(
      new SendSSHPublicKeyCommand({
        InstanceId: "i-0123456789abcdef0",
        InstanceOSUser: "ec2-user",
        SSHPublicKey: "k",
      }),
    );
    track();
    for (const c of [ssm, ec2, kms, ec2ic]) c.destroy();
    assert.deepEqual(seen, [
      "AmazonSSM.DescribeInstanceInformation",
      "DescribeInstances",
      "TrentService.ListKeys",
      "AWSEC2InstanceConnectService.SendSSHPublicKey",
    ]);
  });

  test("calls are logged at debug level without secrets; failures translate by name", async () => {
    const lines: string[] = [];
    const logger = createLogger(1, (l) => lines.push(l));
    logger.addSecret(creds.secretAccessKey);
    const bad = {
      accessKeyId: "AKIABAD",
      secretAccessKey: "bad-secret-value",
      sessionToken: "bad-session-token",
    };
    logger.addSecret(bad.secretAccessKey);
    logger.addSecret(bad.sessionToken);
    const env = { AWS_ENDPOINT_URL_STS: server.url };
    const good = await createClient("sts", { region: "us-east-1", credentials: creds, logger, env });
    await good.send(new GetCallerIdentityCommand({}));
    good.destroy();
    assert.ok(
      lines.some((l) => /^debug: aws: STS GetCallerIdentity -> 200 in \d+ ms$/.test(l)),
      lines.join("\n"),
    );

    const failing = await createClient("sts", {
      region: "us-east-1",
      credentials: bad,
      logger,
      env,
      maxAttempts: 1,
    });
    const error = await failing.send(new GetCallerIdentityCommand({})).then(
      () => undefined,
      (e: unknown) => e,
    );
    failing.destroy();
    assert.ok(
      lines.some((l) => /STS GetCallerIdentity -> 403 InvalidClientTokenId/.test(l)),
      lines.join("\n"),
    );
    // The client itself throws our classified error: callers never see the SDK's exception.
    assert.ok(error instanceof AwsError, String(error));
    assert.equal(error.kind, "credentials");
    assert.equal(error.retryable, false);
    const translated = awsErrorFrom(error);
    assert.equal(translated, error);
    assert.equal(translated.awsCode, "InvalidClientTokenId");
    assert.equal(translated.message, "STS GetCallerIdentity: the AWS access key id is not valid");
    for (const l of lines) {
      assert.ok(
        !l.includes("secret-value") && !l.includes("fake-secret") && !l.includes("bad-session-token"),
        l,
      );
    }
  });
});
