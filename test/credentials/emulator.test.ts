/**
 * Credentials against the emulator: the real SDK, real SigV4, the emulator's STS with TOTP MFA
 * and role trust, and its request log to see which calls were made and by whom.
 */
import assert from "node:assert/strict";
import { copyFile, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import { AwsError } from "@aws-runas/wire/errors.js";
import { createLogger } from "@aws-runas/wire/log.js";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import * as OTPAuth from "otpauth";
import { awsErrorFrom, createClient } from "../../packages/aws-runas/src/aws/index.js";
import {
  type CredentialFlags,
  resolveCredentials,
} from "../../packages/aws-runas/src/credentials/resolve.js";
import { NoTerminalError } from "../../packages/aws-runas/src/credentials/tty-prompt.js";
import type { RequestLogEntry } from "../../packages/emulator/src/index.js";
import {
  ALICE,
  BOB,
  DEFAULT_ACCOUNT_ID,
  ROLE,
  type RunningEmulator,
  startEmulator,
} from "../../packages/emulator/src/index.js";

let emu: RunningEmulator;
before(async () => {
  emu = await startEmulator();
});
after(() => emu.close());

const assumed = (role: string, session: string) =>
  `arn:aws:sts::${DEFAULT_ACCOUNT_ID}:assumed-role/${role}/${session}`;

async function requestLog(): Promise<RequestLogEntry[]> {
  const res = await fetch(`${emu.endpointUrl}/_emulator/requests`);
  return (await res.json()) as RequestLogEntry[];
}

async function advanceEmulatorClock(seconds: number): Promise<void> {
  const res = await fetch(`${emu.endpointUrl}/_emulator/clock`, {
    method: "POST",
    body: JSON.stringify({ advanceSeconds: seconds }),
  });
  assert.equal(res.status, 200);
}

function totp(): string {
  return new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(ALICE.mfaSecretBase32),
    digits: 6,
    period: 30,
    algorithm: "SHA1",
  }).generate({ timestamp: emu.clock.now() });
}

/** A private copy of the emulator's profile files, so each test has its own cache directory. */
async function workspace(t: TestContext, credentialsText?: string) {
  const dir = await mkdtemp(join(tmpdir(), "runas-emu-creds-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await copyFile(emu.env["AWS_CONFIG_FILE"]!, join(dir, "config"));
  if (credentialsText === undefined)
    await copyFile(emu.env["AWS_SHARED_CREDENTIALS_FILE"]!, join(dir, "credentials"));
  else await writeFile(join(dir, "credentials"), credentialsText);
  const env = {
    AWS_ENDPOINT_URL: emu.endpointUrl,
    AWS_REGION: emu.env["AWS_REGION"]!,
    AWS_CONFIG_FILE: join(dir, "config"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
  };
  const prompts: string[] = [];
  const logLines: string[] = [];
  const logger = createLogger(1, (l) => logLines.push(l));
  const resolve = (
    profile: string,
    flags: CredentialFlags = {},
    extraEnv: Record<string, string> = {},
    now?: () => number,
  ) =>
    resolveCredentials(
      { profile, env: { ...env, ...extraEnv }, flags },
      {
        logger,
        now: now ?? (() => emu.clock.now()),
        prompt: async (m) => {
          prompts.push(m);
          throw new NoTerminalError("/dev/tty");
        },
        writeErr: () => {},
      },
    );
  const cacheFiles = async () => (await readdir(dir)).filter((f) => f.startsWith(".aws_")).sort();
  return { dir, env, prompts, logLines, logger, resolve, cacheFiles };
}

/** STS calls in the request log since `mark`. */
async function stsCallsSince(mark: number): Promise<string[]> {
  return (await requestLog())
    .slice(mark)
    .filter((e) => e.service.toLowerCase() === "sts")
    .map((e) => e.operation);
}

describe("against the emulator", () => {
  test("every generated profile kind yields working credentials, and later calls use them", async (t) => {
    const w = await workspace(t);
    const cases: [string, Record<string, string>, string][] = [
      ["default", {}, ALICE.arn],
      ["plain", {}, ALICE.arn],
      ["bob", {}, BOB.arn],
      ["role", {}, assumed(ROLE.admin.name, "alice")],
      ["partner", {}, assumed(ROLE.partner.name, "alice")],
      ["role-mfa", { MFA_CODE: totp() }, assumed(ROLE.adminMfa.name, "alice")],
      [ROLE.admin.arn, {}, assumed(ROLE.admin.name, "alice")],
    ];
    for (const [profile, extraEnv, principal] of cases) {
      const resolved = await w.resolve(profile, {}, extraEnv);
      assert.equal(resolved.region, emu.env["AWS_REGION"]);
      const ec2 = await createClient("ec2", {
        region: resolved.region!,
        credentials: resolved.provider,
        logger: w.logger,
        env: w.env,
      });
      await ec2.send(new DescribeInstancesCommand({}));
      ec2.destroy();
      const last = (await requestLog()).at(-1)!;
      assert.equal(last.operation, "DescribeInstances", profile);
      assert.equal(last.status, 200, profile);
      assert.equal(last.principal, principal, profile);
      assert.equal(last.accessKeyId, resolved.credentials.accessKeyId, profile);
    }
    assert.deepEqual(w.prompts, []);
    assert.ok(
      (await w.cacheFiles()).includes(`.aws_assume_role_${DEFAULT_ACCOUNT_ID}-${ROLE.admin.name}`),
      "a role ARN is cached as <account>-<role>",
    );
  });

  test("MFA via MFA_CODE; a wrong code is a one-line AccessDenied", async (t) => {
    const w = await workspace(t);
    const good = totp();
    const wrong = good === "000000" ? "111111" : "000000";
    await assert.rejects(w.resolve("role-mfa", {}, { MFA_CODE: wrong }), (e: unknown) => {
      assert.ok(e instanceof AwsError);
      assert.equal(e.awsCode, "AccessDenied");
      assert.match(e.message, /^STS GetSessionToken: access denied: MultiFactorAuthentication failed/);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
    assert.deepEqual(await w.cacheFiles(), []);
    const ok = await w.resolve("role-mfa", { otp: good });
    assert.ok(ok.credentials.sessionToken);
  });

  test("cache: no STS call on the second run, files 0600, -r re-assumes without MFA, expiry renews", async (t) => {
    const w = await workspace(t);
    let mark = (await requestLog()).length;
    await w.resolve("role-mfa", {}, { MFA_CODE: totp() });
    assert.deepEqual(await stsCallsSince(mark), ["GetSessionToken", "GetCallerIdentity", "AssumeRole"]);
    assert.deepEqual(await w.cacheFiles(), [".aws_assume_role_role-mfa", ".aws_session_token_plain"]);
    for (const f of await w.cacheFiles()) assert.equal((await stat(join(w.dir, f))).mode & 0o777, 0o600, f);

    // No code and no terminal this time: only a cache hit can succeed.
    mark = (await requestLog()).length;
    await w.resolve("role-mfa");
    assert.deepEqual(await stsCallsSince(mark), []);

    mark = (await requestLog()).length;
    const refreshed = await w.resolve("role-mfa", { refresh: true });
    assert.deepEqual(await stsCallsSince(mark), ["GetCallerIdentity", "AssumeRole"]);
    assert.deepEqual(w.prompts, []);

    await advanceEmulatorClock(2 * 3600);
    mark = (await requestLog()).length;
    const renewed = await w.resolve("role-mfa");
    assert.deepEqual(await stsCallsSince(mark), ["GetCallerIdentity", "AssumeRole"]);
    assert.notEqual(renewed.credentials.accessKeyId, refreshed.credentials.accessKeyId);
    assert.deepEqual(w.prompts, []);
  });

  test("the provider renews credentials that expire during a long session", async (t) => {
    const w = await workspace(t);
    const resolved = await w.resolve("role");
    // The SDK keeps credentials until their expiry on the *system* clock, while only the
    // emulator's clock jumps ahead. Show the SDK the expiry as the system clock sees it, at
    // each check, as if real time had passed.
    const onSystemClock = async () => {
      const c = await resolved.provider();
      const expiresAt = c.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
      return {
        ...c,
        get expiration() {
          return new Date(expiresAt - emu.clock.offsetMs);
        },
      };
    };
    const ssm = await createClient("ssm", {
      region: resolved.region!,
      credentials: onSystemClock,
      logger: w.logger,
      env: w.env,
    });
    t.after(() => ssm.destroy());
    await ssm.describeInstanceInformation({});
    const firstKey = (await requestLog()).at(-1)!.accessKeyId;
    await advanceEmulatorClock(3 * 3600);
    const mark = (await requestLog()).length;
    await ssm.describeInstanceInformation({});
    const entries = (await requestLog()).slice(mark);
    assert.deepEqual(
      entries.map((e) => e.operation),
      ["GetCallerIdentity", "AssumeRole", "DescribeInstanceInformation"],
    );
    const last = entries.at(-1)!;
    assert.equal(last.status, 200);
    assert.equal(last.principal, assumed(ROLE.admin.name, "alice"));
    assert.notEqual(last.accessKeyId, firstKey);
  });

  test("expired credentials are reported as expired", async (t) => {
    const w = await workspace(t);
    // Our clock stands still while the emulator's moves on: our cache still trusts the keys.
    const frozen = emu.clock.now();
    await w.resolve("role", {}, {}, () => frozen);
    // A later run: the credentials come from the cache files.
    const resolved = await w.resolve("role", {}, {}, () => frozen);
    await advanceEmulatorClock(2 * 3600);
    const sts = await createClient("sts", {
      region: resolved.region!,
      credentials: resolved.credentials,
      logger: w.logger,
      env: w.env,
    });
    const error = await sts.send(new GetCallerIdentityCommand({})).then(
      () => undefined,
      (e: unknown) => awsErrorFrom(e),
    );
    sts.destroy();
    assert.ok(error instanceof AwsError);
    assert.equal(error.awsCode, "ExpiredToken");
    assert.equal(error.message, "STS GetCallerIdentity: the AWS credentials have expired");
    assert.equal(error.kind, "credentials");
    assert.equal(error.retryable, false);
    assert.match(error.hint ?? "", /system clock/);

    // Issue 14 item 9: with the resolver's renewer, the client drops the dead cached role
    // credentials, gets new ones and the call succeeds: no -r needed.
    const renewing = await createClient("sts", {
      region: resolved.region!,
      credentials: resolved.provider,
      renewCredentials: resolved.renew,
      logger: w.logger,
      env: w.env,
    });
    const before = (await requestLog()).length;
    const out = await renewing.send(new GetCallerIdentityCommand({}));
    renewing.destroy();
    assert.match(out.Arn ?? "", /assumed-role\/admin\//);
    const ops = (await requestLog()).slice(before).map((e) => `${e.operation} ${e.status}`);
    // The 12 h session token is still good by AWS's clock: only the role is assumed again.
    assert.ok(!ops.some((op) => op.startsWith("GetSessionToken")), ops.join(", "));
    assert.ok(ops.includes("AssumeRole 200"), ops.join(", "));
    assert.equal(ops.at(-1), "GetCallerIdentity 200", ops.join(", "));
  });

  test("an unknown access key is InvalidClientTokenId, a wrong secret SignatureDoesNotMatch", async (t) => {
    const unknownKey = await workspace(
      t,
      "[plain]\naws_access_key_id = AKIANOSUCHKEY0000000\naws_secret_access_key = whatever-secret\n",
    );
    await assert.rejects(unknownKey.resolve("plain"), (e: unknown) => {
      assert.ok(e instanceof AwsError);
      assert.equal(e.awsCode, "InvalidClientTokenId");
      assert.equal(e.message, "STS GetSessionToken: the AWS access key id is not valid");
      return true;
    });
    const wrongSecret = await workspace(
      t,
      `[plain]\naws_access_key_id = ${ALICE.accessKeyId}\naws_secret_access_key = not-alices-secret\n`,
    );
    await assert.rejects(wrongSecret.resolve("plain"), (e: unknown) => {
      assert.ok(e instanceof AwsError);
      assert.equal(e.awsCode, "SignatureDoesNotMatch");
      return true;
    });
  });

  test("no secret ever reaches the log", async (t) => {
    const w = await workspace(t);
    const resolved = await w.resolve("role-mfa", { otp: totp() });
    assert.ok(w.logLines.length > 0);
    for (const secret of [
      ALICE.secretAccessKey,
      resolved.credentials.secretAccessKey,
      resolved.credentials.sessionToken!,
    ]) {
      for (const line of w.logLines) assert.ok(!line.includes(secret), line);
    }
  });
});
