import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { AwsError } from "@aws-runas/wire/errors.js";
import { createLogger, type Logger } from "@aws-runas/wire/log.js";
import { readCacheFile } from "../../packages/aws-runas/src/credentials/cache.js";
import { CredentialsError } from "../../packages/aws-runas/src/credentials/errors.js";
import {
  type CredentialDeps,
  type CredentialFlags,
  resolveCredentials,
} from "../../packages/aws-runas/src/credentials/resolve.js";
import type { SdkProviderSpec } from "../../packages/aws-runas/src/credentials/sdk-providers.js";
import { NoTerminalError } from "../../packages/aws-runas/src/credentials/tty-prompt.js";
import { createFakeSts } from "./fake-sts.js";

const CONFIG = `
[default]
region = eu-west-1

[profile user]
mfa_serial = arn:aws:iam::111111111111:mfa/alice

[profile admin]
role_arn = arn:aws:iam::222222222222:role/Admin
source_profile = user

[profile admin-mfa]
role_arn = arn:aws:iam::222222222222:role/NeedsMfa
source_profile = plain
mfa_serial = arn:aws:iam::111111111111:mfa/plain

[profile plain]

[profile admin-long]
role_arn = arn:aws:iam::222222222222:role/Admin
source_profile = user
credentials_duration = 4h

[profile named]
role_arn = arn:aws:iam::222222222222:role/Deploy
source_profile = plain
role_session_name = ci job

[profile ext]
role_arn = arn:aws:iam::222222222222:role/Partner
source_profile = plain
external_id = profile-ext

[profile sso]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Dev

[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
`;

const CREDENTIALS = `
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = default-secret-key

[user]
aws_access_key_id = AKIAALICE
aws_secret_access_key = alice-secret-key

[plain]
aws_access_key_id = AKIAPLAIN
aws_secret_access_key = plain-secret-key
`;

const USERS = {
  AKIADEFAULT: "arn:aws:iam::111111111111:user/dflt",
  AKIAALICE: "arn:aws:iam::111111111111:user/alice",
  AKIAPLAIN: "arn:aws:iam::111111111111:user/ops/plainuser",
};

const START = Date.parse("2030-06-01T00:00:00Z");

async function setup(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), "runas-resolve-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "config"), CONFIG);
  await writeFile(join(dir, "credentials"), CREDENTIALS);
  const clock = { ms: START };
  const now = () => clock.ms;
  const sts = createFakeSts(now, USERS);
  const prompts: string[] = [];
  const promptAnswers: string[] = [];
  const errLines: string[] = [];
  const logLines: string[] = [];
  const logger: Logger = createLogger(1, (l) => logLines.push(l));
  const env: Record<string, string> = {
    AWS_CONFIG_FILE: join(dir, "config"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
  };
  const run = (
    profile: string | undefined,
    flags: CredentialFlags = {},
    extra: Partial<CredentialDeps> = {},
    extraEnv = {},
  ) =>
    resolveCredentials(
      { profile, env: { ...env, ...extraEnv }, flags },
      {
        logger,
        now,
        stsFactory: sts.factory,
        prompt: async (m) => {
          prompts.push(m);
          const a = promptAnswers.shift();
          if (a === undefined) throw new NoTerminalError("/dev/tty");
          return a;
        },
        osUser: () => "os user",
        writeErr: (text) => errLines.push(text),
        ...extra,
      },
    );
  const cacheFiles = async () => (await readdir(dir)).filter((f) => f.startsWith(".aws_")).sort();
  return { dir, clock, sts, prompts, promptAnswers, errLines, logLines, logger, env, run, cacheFiles };
}

describe("no role", () => {
  test("GetSessionToken with the MFA code from MFA_CODE, cached with mode 0600, reused", async (t) => {
    const s = await setup(t);
    s.sts.mfaCode = "123456";
    const first = await s.run("user", {}, {}, { MFA_CODE: "123456" });
    assert.deepEqual(s.sts.ops(), ["GetSessionToken"]);
    const call = s.sts.calls[0]!;
    assert.ok(call.op === "GetSessionToken");
    assert.equal(call.signedWith, "AKIAALICE");
    assert.equal(call.region, "eu-west-1");
    assert.deepEqual(call.input, {
      durationSeconds: 12 * 3600,
      serialNumber: "arn:aws:iam::111111111111:mfa/alice",
      tokenCode: "123456",
    });
    assert.equal(first.region, "eu-west-1");
    assert.equal(first.credentials.accessKeyId, "ASIASESS0001");
    assert.deepEqual(await s.cacheFiles(), [".aws_session_token_user"]);
    assert.equal((await stat(join(s.dir, ".aws_session_token_user"))).mode & 0o777, 0o600);
    assert.deepEqual(s.prompts, []);

    const second = await s.run("user");
    assert.deepEqual(s.sts.ops(), ["GetSessionToken"], "second run must come from the cache");
    assert.equal(second.credentials.accessKeyId, "ASIASESS0001");
    assert.deepEqual(s.prompts, []);
  });

  test("-d sets the session token lifetime; -r drops the session-token cache", async (t) => {
    const s = await setup(t);
    s.promptAnswers.push("111111", "222222");
    await s.run("user", { duration: "2h" });
    assert.ok(s.sts.calls[0]?.op === "GetSessionToken" && s.sts.calls[0].input.durationSeconds === 7200);
    await s.run("user", { refresh: true });
    assert.deepEqual(s.sts.ops(), ["GetSessionToken", "GetSessionToken"]);
    assert.deepEqual(s.prompts, ["MFA token code: ", "MFA token code: "]);
  });

  test("no terminal and no code: one-line error naming MFA_CODE and -o; nothing cached", async (t) => {
    const s = await setup(t);
    await assert.rejects(s.run("user"), (e: unknown) => {
      assert.ok(e instanceof CredentialsError);
      assert.match(e.hint ?? "", /MFA_CODE.*-o/);
      return true;
    });
    assert.deepEqual(s.sts.ops(), []);
    assert.deepEqual(await s.cacheFiles(), []);
  });
});

describe("role, 1h or less", () => {
  test("GetSessionToken carries the MFA; AssumeRole is signed with the session credentials, without MFA", async (t) => {
    const s = await setup(t);
    s.sts.mfaCode = "654321";
    s.promptAnswers.push("654321");
    const out = await s.run("admin");
    assert.deepEqual(s.sts.ops(), ["GetSessionToken", "GetCallerIdentity", "AssumeRole"]);
    const [gst, gci, ar] = s.sts.calls;
    assert.ok(gst?.op === "GetSessionToken" && gci?.op === "GetCallerIdentity" && ar?.op === "AssumeRole");
    assert.equal(gst.signedWith, "AKIAALICE");
    assert.equal(gst.input.tokenCode, "654321");
    assert.equal(ar.signedWith, "ASIASESS0001");
    assert.equal(gci.signedWith, "ASIASESS0001");
    assert.deepEqual(ar.input, {
      roleArn: "arn:aws:iam::222222222222:role/Admin",
      roleSessionName: "alice",
      durationSeconds: 3600,
      externalId: undefined,
      serialNumber: undefined,
      tokenCode: undefined,
    });
    assert.equal(out.credentials.accessKeyId, "ASIAROLE0002");
    assert.deepEqual(await s.cacheFiles(), [".aws_assume_role_admin", ".aws_session_token_user"]);
    for (const f of await s.cacheFiles()) assert.equal((await stat(join(s.dir, f))).mode & 0o777, 0o600);
    assert.equal((await readCacheFile(join(s.dir, ".aws_assume_role_admin")))?.accessKeyId, "ASIAROLE0002");
    assert.deepEqual(s.prompts, ["MFA token code: "]);

    await s.run("admin");
    assert.equal(s.sts.calls.length, 3, "second run: no STS call");
  });

  test("-r forces a new AssumeRole but no new MFA (the session token cache survives)", async (t) => {
    const s = await setup(t);
    s.promptAnswers.push("111111");
    await s.run("admin");
    const out = await s.run("admin", { refresh: true });
    assert.deepEqual(s.sts.ops(), [
      "GetSessionToken",
      "GetCallerIdentity",
      "AssumeRole",
      "GetCallerIdentity",
      "AssumeRole",
    ]);
    assert.equal(s.sts.calls.at(-1)?.signedWith, "ASIASESS0001");
    assert.deepEqual(s.prompts, ["MFA token code: "]);
    assert.equal(out.credentials.accessKeyId, "ASIAROLE0003");
  });

  test("an expired role cache is renewed from the still valid session token", async (t) => {
    const s = await setup(t);
    s.promptAnswers.push("111111");
    await s.run("admin");
    s.clock.ms += 2 * 3600 * 1000;
    const out = await s.run("admin");
    assert.deepEqual(s.sts.ops(), [
      "GetSessionToken",
      "GetCallerIdentity",
      "AssumeRole",
      "GetCallerIdentity",
      "AssumeRole",
    ]);
    assert.equal(out.credentials.accessKeyId, "ASIAROLE0003");
    assert.equal(s.prompts.length, 1);
    // ...and once the session token expires too, MFA is asked again.
    s.clock.ms += 12 * 3600 * 1000;
    s.promptAnswers.push("222222");
    await s.run("admin");
    assert.equal(s.prompts.length, 2);
    assert.equal(s.sts.ops().filter((o) => o === "GetSessionToken").length, 2);
  });

  test("a cached session token without MFA is replaced, once, when an MFA role refuses it", async (t) => {
    const s = await setup(t);
    s.sts.mfaRoles.add("arn:aws:iam::222222222222:role/NeedsMfa");
    await s.run("plain");
    assert.deepEqual(s.sts.ops(), ["GetSessionToken"]);
    s.promptAnswers.push("333333");
    const out = await s.run("admin-mfa");
    assert.deepEqual(s.sts.ops(), [
      "GetSessionToken",
      "GetCallerIdentity",
      "AssumeRole",
      "GetSessionToken",
      "GetCallerIdentity",
      "AssumeRole",
    ]);
    const gst = s.sts.calls[3]!;
    assert.equal(gst.op === "GetSessionToken" && gst.input.tokenCode, "333333");
    assert.equal(out.credentials.accessKeyId, "ASIAROLE0003");
    assert.equal(s.prompts.length, 1);
    // A refusal with a session token fetched just now is final: no second prompt.
    await rm(join(s.dir, ".aws_session_token_plain"));
    s.promptAnswers.push("444444", "555555");
    s.sts.failNext = { op: "AssumeRole", error: new AwsError("AccessDenied", "no", { kind: "denied" }) };
    await assert.rejects(s.run("admin-mfa", { refresh: true }), AwsError);
    assert.equal(s.prompts.length, 2);
    assert.deepEqual(s.sts.ops().slice(6), ["GetSessionToken", "GetCallerIdentity", "AssumeRole"]);
  });

  test("a wrong MFA code is reported as AccessDenied and nothing is cached", async (t) => {
    const s = await setup(t);
    s.sts.mfaCode = "999999";
    await assert.rejects(
      s.run("admin", { otp: "000000" }),
      (e: unknown) => e instanceof AwsError && e.awsCode === "AccessDenied",
    );
    assert.deepEqual(await s.cacheFiles(), []);
  });
});

describe("role over 1h", () => {
  test("one AssumeRole with the long-term keys carrying the MFA", async (t) => {
    const s = await setup(t);
    s.sts.mfaCode = "424242";
    const out = await s.run("admin-long", { otp: "424242" });
    assert.deepEqual(s.sts.ops(), ["GetCallerIdentity", "AssumeRole"]);
    const ar = s.sts.calls[1]!;
    assert.ok(ar.op === "AssumeRole");
    assert.equal(ar.signedWith, "AKIAALICE");
    assert.equal(ar.input.durationSeconds, 4 * 3600);
    assert.equal(ar.input.serialNumber, "arn:aws:iam::111111111111:mfa/alice");
    assert.equal(ar.input.tokenCode, "424242");
    assert.equal(out.credentials.expiration?.getTime(), START + 4 * 3600 * 1000);
    assert.deepEqual(await s.cacheFiles(), [".aws_assume_role_admin-long"]);
  });

  test("-a beats the profile and is clamped to 12h", async (t) => {
    const s = await setup(t);
    s.promptAnswers.push("111111");
    await s.run("admin", { roleDuration: "20h" });
    assert.ok(s.sts.calls.at(-1)?.op === "AssumeRole");
    const ar = s.sts.calls.at(-1)!;
    assert.equal(ar.op === "AssumeRole" && ar.input.durationSeconds, 12 * 3600);
    assert.ok(
      s.logLines.some((l) => l.startsWith("warning: role credentials duration 20h0m0s (--role-duration)")),
    );
  });
});

describe("session name and external id", () => {
  test("role_session_name is used (sanitised) and GetCallerIdentity is not called", async (t) => {
    const s = await setup(t);
    await s.run("named");
    assert.deepEqual(s.sts.ops(), ["GetSessionToken", "AssumeRole"]);
    const ar = s.sts.calls[1]!;
    assert.equal(ar.op === "AssumeRole" && ar.input.roleSessionName, "ci-job");
  });

  test("the IAM user name from a path ARN, else the OS user", async (t) => {
    const s = await setup(t);
    await s.run("ext");
    const ar = s.sts.calls.at(-1)!;
    assert.equal(ar.op === "AssumeRole" && ar.input.roleSessionName, "plainuser");
    s.sts.failNext = {
      op: "GetCallerIdentity",
      error: new AwsError("AccessDenied", "no GetCallerIdentity for you", { kind: "denied" }),
    };
    await s.run("ext", { refresh: true });
    const ar2 = s.sts.calls.at(-1)!;
    assert.equal(ar2.op === "AssumeRole" && ar2.input.roleSessionName, "os-user");
  });

  test("external id: flag, then EXTERNAL_ID, then the profile", async (t) => {
    const s = await setup(t);
    const externalIdOfLastCall = () => {
      const c = s.sts.calls.at(-1)!;
      return c.op === "AssumeRole" ? c.input.externalId : "not AssumeRole";
    };
    await s.run("ext");
    assert.equal(externalIdOfLastCall(), "profile-ext");
    await s.run("ext", { refresh: true }, {}, { EXTERNAL_ID: "env-ext" });
    assert.equal(externalIdOfLastCall(), "env-ext");
    await s.run("ext", { refresh: true, externalId: "flag-ext" }, {}, { EXTERNAL_ID: "env-ext" });
    assert.equal(externalIdOfLastCall(), "flag-ext");
  });
});

describe("role ARN in place of a profile", () => {
  test("base from [default], cache .aws_assume_role_<account>-<role>", async (t) => {
    const s = await setup(t);
    const out = await s.run("arn:aws:iam::333333333333:role/path/Viewer");
    assert.deepEqual(s.sts.ops(), ["GetSessionToken", "GetCallerIdentity", "AssumeRole"]);
    assert.equal(s.sts.calls[0]?.signedWith, "AKIADEFAULT");
    assert.deepEqual(await s.cacheFiles(), [
      ".aws_assume_role_333333333333-Viewer",
      ".aws_session_token_default",
    ]);
    assert.equal(out.profile.name, "arn:aws:iam::333333333333:role/path/Viewer");
    await s.run("arn:aws:iam::333333333333:role/path/Viewer");
    assert.equal(s.sts.calls.length, 3);
  });
});

describe("the provider", () => {
  test("hands out the same credentials while fresh and re-runs the flow when they expire", async (t) => {
    const s = await setup(t);
    s.promptAnswers.push("111111");
    const out = await s.run("admin");
    assert.equal((await out.provider()).accessKeyId, "ASIAROLE0002");
    assert.equal(s.sts.calls.length, 3);
    s.clock.ms += 3600 * 1000 - 60 * 1000;
    const [a, b] = await Promise.all([out.provider(), out.provider()]);
    assert.equal(a.accessKeyId, "ASIAROLE0003");
    assert.equal(b, a, "concurrent callers share one refresh");
    assert.deepEqual(s.sts.ops().slice(3), ["GetCallerIdentity", "AssumeRole"]);
    assert.equal(s.prompts.length, 1, "the cached session token spares a second MFA prompt");
  });

  test("a failed refresh is retried on the next call", async (t) => {
    const s = await setup(t);
    const out = await s.run("named");
    s.clock.ms += 2 * 3600 * 1000;
    s.sts.failNext = {
      op: "AssumeRole",
      error: new AwsError("Throttling", "slow down", { kind: "throttled" }),
    };
    await assert.rejects(out.provider(), AwsError);
    assert.equal((await out.provider()).accessKeyId.startsWith("ASIAROLE"), true);
  });
});

describe("reporting and secrets", () => {
  test("-e and -w write to stderr", async (t) => {
    const s = await setup(t);
    await s.run("named", { expiration: true, whoami: true });
    assert.deepEqual(s.errLines, [
      "Credentials will expire on 2030-06-01T01:00:00Z (in 1h0m0s)",
      "UserId: ID-ASIAROLE0002\nAccount: 222222222222\nArn: arn:aws:sts::222222222222:assumed-role/Deploy/ci-job",
    ]);
  });

  test("every secret is registered with the logger and never logged", async (t) => {
    const s = await setup(t);
    s.promptAnswers.push("777777");
    const out = await s.run("admin");
    const secrets = [
      "alice-secret-key",
      "secret-SESS-1",
      "token-SESS-1",
      out.credentials.secretAccessKey,
      out.credentials.sessionToken!,
      "777777",
    ];
    for (const secret of secrets) assert.equal(s.logger.redact(`x ${secret} y`), "x **** y", secret);
    assert.ok(s.logLines.length > 3);
    for (const line of s.logLines) for (const secret of secrets) assert.ok(!line.includes(secret), line);
  });
});

describe("profiles for the SDK's providers", () => {
  test("SSO goes through the SDK provider factory with the files and region", async (t) => {
    const s = await setup(t);
    const specs: SdkProviderSpec[] = [];
    const out = await s.run(
      "sso",
      {},
      {
        sdkProviders: (spec, ctx) => {
          specs.push(spec);
          assert.equal(ctx.paths.configFile, s.env["AWS_CONFIG_FILE"]);
          assert.equal(ctx.region, "eu-west-1");
          return async () => ({
            accessKeyId: "ASIASSO",
            secretAccessKey: "sso-secret",
            sessionToken: "sso-token",
          });
        },
      },
    );
    assert.deepEqual(specs, [{ kind: "sso", profile: "sso" }]);
    assert.equal(out.credentials.accessKeyId, "ASIASSO");
    assert.deepEqual(s.sts.ops(), []);
    assert.equal(s.logger.redact("sso-token"), "****");
  });

  test("SDK provider failures become one-line AwsErrors", async (t) => {
    const s = await setup(t);
    const failure = Object.assign(new Error("The SSO session has expired.\nRun aws sso login."), {
      name: "CredentialsProviderError",
    });
    await assert.rejects(
      s.run("sso", {}, { sdkProviders: () => async () => Promise.reject(failure) }),
      (e: unknown) =>
        e instanceof AwsError &&
        e.message ===
          'profile "sso": cannot load credentials: The SSO session has expired. Run aws sso login.' &&
        e.hint === "sign in with: aws sso login --profile sso",
    );
  });

  test("environment keys are used as they are when no profile is named", async (t) => {
    const s = await setup(t);
    const out = await s.run(
      undefined,
      {},
      {},
      { AWS_ACCESS_KEY_ID: "AKIAENVKEY", AWS_SECRET_ACCESS_KEY: "env-secret" },
    );
    assert.equal(out.credentials.accessKeyId, "AKIAENVKEY");
    assert.deepEqual(s.sts.ops(), []);
  });
});

describe("renewing credentials AWS rejected (issue 14 item 9)", () => {
  const rejected = new AwsError("ExpiredToken", "STS: the AWS credentials have expired", {
    kind: "credentials",
  });

  test("cached credentials: renew drops the cache, gets new ones into the provider, once for concurrent calls", async (t) => {
    const s = await setup(t);
    await s.run("plain");
    const later = await s.run("plain");
    assert.deepEqual(s.sts.ops(), ["GetSessionToken"], "the second run used the cache");
    const [a, b] = await Promise.all([later.renew(rejected), later.renew(rejected)]);
    assert.equal(a, true);
    assert.equal(b, true);
    assert.deepEqual(s.sts.ops(), ["GetSessionToken", "GetSessionToken"], "one renewal for both");
    const renewed = await later.provider();
    assert.notEqual(renewed.accessKeyId, later.credentials.accessKeyId);
    assert.equal(
      (await readCacheFile(join(s.dir, ".aws_session_token_plain")))?.accessKeyId,
      renewed.accessKeyId,
    );
  });

  test("credentials just fetched from STS are not renewed again (it would not help)", async (t) => {
    const s = await setup(t);
    const fresh = await s.run("plain");
    assert.equal(await fresh.renew(rejected), false);
    assert.deepEqual(s.sts.ops(), ["GetSessionToken"]);
  });

  test("a role: a cached session token STS refuses is replaced too (-r alone would keep it)", async (t) => {
    const s = await setup(t);
    s.sts.mfaCode = "123456";
    await s.run("admin", {}, {}, { MFA_CODE: "123456" });
    const later = await s.run("admin", {}, {});
    assert.deepEqual(s.sts.ops(), ["GetSessionToken", "GetCallerIdentity", "AssumeRole"]);
    // The cached session token is dead by AWS's clock: AssumeRole refuses it.
    s.sts.failNext = { op: "AssumeRole", error: rejected };
    s.promptAnswers.push("123456");
    assert.equal(await later.renew(rejected), true);
    assert.deepEqual(s.sts.ops().slice(3), [
      "GetCallerIdentity",
      "AssumeRole",
      "GetSessionToken",
      "GetCallerIdentity",
      "AssumeRole",
    ]);
  });

  test("-w with cached credentials AWS refuses: renewed, then the identity is printed", async (t) => {
    const s = await setup(t);
    await s.run("plain");
    s.sts.failNext = { op: "GetCallerIdentity", error: rejected };
    await s.run("plain", { whoami: true });
    assert.deepEqual(s.sts.ops(), [
      "GetSessionToken",
      "GetCallerIdentity",
      "GetSessionToken",
      "GetCallerIdentity",
    ]);
    assert.match(s.errLines.join("\n"), /^Arn: arn:aws:iam::111111111111:user\/ops\/plainuser$/m);
  });
});
