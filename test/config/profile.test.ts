import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createLogger, silentLogger } from "@aws-runas/wire/log.js";
import { ConfigError } from "../../packages/aws-runas/src/config/errors.js";
import { configPaths, loadProfileFiles } from "../../packages/aws-runas/src/config/files.js";
import { loadProfile } from "../../packages/aws-runas/src/config/index.js";

const CONFIG = `
[default]
region = eu-west-1
mfa_serial = arn:aws:iam::111111111111:mfa/default-device
external_id = default-ext

[profile base]
region = us-east-2
role_session_name = base-session

[profile admin]
role_arn = arn:aws:iam::222222222222:role/Admin
source_profile = base
credentials_duration = 2h

[profile ops]
role_arn = arn:aws:iam::222222222222:role/ops/Deploy
source_profile = base
mfa_serial = arn:aws:iam::111111111111:mfa/ops-device
duration_seconds = 1800
region = ap-south-1

[profile ops-both]
role_arn = arn:aws:iam::222222222222:role/Ops
credentials_duration = 45m
duration_seconds = 7200

[profile lost]
role_arn = arn:aws:iam::222222222222:role/Admin
source_profile = nowhere

[profile badarn]
role_arn = arn:aws:iam::2222:role/Admin

[profile longsession]
session_token_duration = 48h

[profile only-in-config]
region = sa-east-1

[sso-session corp]
sso_region = us-east-1
`;

const CREDENTIALS = `
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = default-secret

[base]
aws_access_key_id = AKIABASE
aws_secret_access_key = base-secret

[only-in-config]
region = ca-central-1
`;

let dir: string;
let env: Record<string, string>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "runas-config-"));
  await writeFile(join(dir, "config"), CONFIG);
  await writeFile(join(dir, "credentials"), CREDENTIALS);
  env = { AWS_CONFIG_FILE: join(dir, "config"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials") };
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const load = (profile: string | undefined, extraEnv: Record<string, string> = {}, overrides = {}) =>
  loadProfile({ profile, env: { ...env, ...extraEnv }, overrides, logger: silentLogger });

describe("files", () => {
  test("config [profile x] and credentials [x] are one profile; credentials file wins", async () => {
    const p = await load("only-in-config");
    assert.equal(p.section?.["region"], "ca-central-1");
    assert.equal(p.region, "ca-central-1");
  });

  test("sso-session sections are not profiles", async () => {
    const files = await loadProfileFiles(configPaths(env), silentLogger);
    assert.ok(!Object.keys(files.profiles).some((n) => n.includes("corp")));
    assert.ok("base" in files.profiles && "admin" in files.profiles && "default" in files.profiles);
  });

  test("paths: env wins, defaults under HOME, ~/ and relative paths expanded", () => {
    assert.deepEqual(configPaths({ HOME: "/h" }), {
      configFile: "/h/.aws/config",
      credentialsFile: "/h/.aws/credentials",
    });
    assert.deepEqual(
      configPaths({ HOME: "/h", AWS_CONFIG_FILE: "~/c", AWS_SHARED_CREDENTIALS_FILE: "rel/k" }, "/h", "/cwd"),
      {
        configFile: "/h/c",
        credentialsFile: "/cwd/rel/k",
      },
    );
  });

  test("missing files are empty; default profile needs no section", async () => {
    const p = await loadProfile({
      profile: undefined,
      env: { AWS_CONFIG_FILE: join(dir, "none"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "none2") },
      logger: silentLogger,
    });
    assert.equal(p.name, "default");
    assert.equal(p.section, undefined);
    assert.equal(p.roleDuration, 3600);
    assert.equal(p.sessionTokenDuration, 12 * 3600);
  });

  test("an unreadable config file is a one-line error", async () => {
    const sub = join(dir, "a-directory");
    await mkdir(sub, { recursive: true });
    await assert.rejects(load("base", { AWS_CONFIG_FILE: sub }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.code, "CONFIG_UNREADABLE");
      assert.match(e.message, /^cannot read the config file .*a-directory \(EISDIR\)$/);
      assert.match(e.hint ?? "", /AWS_CONFIG_FILE/);
      return true;
    });
  });
});

describe("merge order", () => {
  test("mfa_serial and external_id inherited from [default]", async () => {
    const p = await load("admin");
    assert.equal(p.mfaSerial, "arn:aws:iam::111111111111:mfa/default-device");
    assert.equal(p.externalId, "default-ext");
  });

  test("source profile values are inherited, the profile's own win", async () => {
    const admin = await load("admin");
    assert.equal(admin.sourceProfile, "base");
    assert.equal(admin.sourceSection?.["aws_access_key_id"], "AKIABASE");
    assert.equal(admin.roleSessionName, "base-session");
    assert.equal(admin.region, "us-east-2");
    const ops = await load("ops");
    assert.equal(ops.mfaSerial, "arn:aws:iam::111111111111:mfa/ops-device");
    assert.equal(ops.region, "ap-south-1");
    assert.equal(ops.roleArn?.roleName, "Deploy");
    assert.equal(ops.roleArn?.path, "/ops/");
  });

  test("environment beats the files, flags beat the environment", async () => {
    const fromEnv = await load("ops", { MFA_SERIAL: "env-serial", EXTERNAL_ID: "env-ext" });
    assert.equal(fromEnv.mfaSerial, "env-serial");
    assert.equal(fromEnv.externalId, "env-ext");
    const fromFlags = await load(
      "ops",
      { MFA_SERIAL: "env-serial", EXTERNAL_ID: "env-ext" },
      { mfaSerial: "flag-serial", externalId: "flag-ext" },
    );
    assert.equal(fromFlags.mfaSerial, "flag-serial");
    assert.equal(fromFlags.externalId, "flag-ext");
  });

  test("region: AWS_REGION, AWS_DEFAULT_REGION, profile, source profile, [default]", async () => {
    assert.equal((await load("ops", { AWS_REGION: "r1", AWS_DEFAULT_REGION: "r2" })).region, "r1");
    assert.equal((await load("ops", { AWS_DEFAULT_REGION: "r2" })).region, "r2");
    assert.equal((await load("ops")).region, "ap-south-1");
    assert.equal((await load("admin")).region, "us-east-2");
    assert.equal((await load("ops-both")).region, "eu-west-1");
  });

  test("AWS_PROFILE selects the profile", async () => {
    assert.equal((await load(undefined, { AWS_PROFILE: "ops" })).name, "ops");
  });
});

describe("durations", () => {
  test("credentials_duration, else duration_seconds, else 1h", async () => {
    assert.equal((await load("admin")).roleDuration, 7200);
    assert.equal((await load("ops")).roleDuration, 1800);
    assert.equal((await load("ops-both")).roleDuration, 45 * 60);
    assert.equal((await load("base")).roleDuration, 3600);
  });

  test("env beats file, flag beats env", async () => {
    assert.equal((await load("admin", { CREDENTIALS_DURATION: "30m" })).roleDuration, 1800);
    assert.equal(
      (await load("admin", { CREDENTIALS_DURATION: "30m" }, { roleDuration: "20m" })).roleDuration,
      1200,
    );
    assert.equal((await load("base", { SESSION_TOKEN_DURATION: "2h" })).sessionTokenDuration, 7200);
    assert.equal(
      (await load("base", { SESSION_TOKEN_DURATION: "2h" }, { duration: "3h" })).sessionTokenDuration,
      10800,
    );
  });

  test("out of range values are clamped with a debug note", async () => {
    const lines: string[] = [];
    const p = await loadProfile({
      profile: "longsession",
      env: { ...env, CREDENTIALS_DURATION: "5m" },
      logger: createLogger(1, (l) => lines.push(l)),
    });
    assert.equal(p.sessionTokenDuration, 36 * 3600);
    assert.equal(p.roleDuration, 15 * 60);
    assert.equal(lines.length, 2);
    assert.ok(lines.some((l) => l.includes('session_token_duration in profile "longsession"')));
    assert.ok(lines.some((l) => l.includes("CREDENTIALS_DURATION")));
  });

  test("bad flag value is a usage error", async () => {
    await assert.rejects(load("base", {}, { duration: "forever" }), (e: unknown) => {
      return e instanceof ConfigError && e.exitCode === 2 && e.message.includes("--duration");
    });
  });
});

describe("role ARN in place of a profile", () => {
  test("base credentials from [default]", async () => {
    const p = await load("arn:aws:iam::333333333333:role/path/Viewer");
    assert.equal(p.name, "arn:aws:iam::333333333333:role/path/Viewer");
    assert.equal(p.section, undefined);
    assert.equal(p.roleArn?.accountId, "333333333333");
    assert.equal(p.sourceProfile, "default");
    assert.equal(p.sourceSection?.["aws_access_key_id"], "AKIADEFAULT");
    assert.equal(p.region, "eu-west-1");
  });

  test("base profile from AWS_PROFILE, which must exist", async () => {
    const p = await load("arn:aws:iam::333333333333:role/Viewer", { AWS_PROFILE: "base" });
    assert.equal(p.sourceProfile, "base");
    assert.equal(p.region, "us-east-2");
    await assert.rejects(
      load("arn:aws:iam::333333333333:role/Viewer", { AWS_PROFILE: "ghost" }),
      (e: unknown) => {
        return (
          e instanceof ConfigError && e.code === "CONFIG_UNKNOWN_PROFILE" && e.message.includes("AWS_PROFILE")
        );
      },
    );
  });
});

describe("errors", () => {
  test("unknown profile lists the known ones", async () => {
    await assert.rejects(load("nope"), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.code, "CONFIG_UNKNOWN_PROFILE");
      assert.equal(e.message, 'profile "nope" not found');
      assert.match(e.hint ?? "", /admin, badarn, base, default, longsession/);
      return true;
    });
    await assert.rejects(
      load(undefined, { AWS_PROFILE: "nope" }),
      /profile "nope" \(from AWS_PROFILE\) not found/,
    );
  });

  test("source_profile pointing nowhere", async () => {
    await assert.rejects(load("lost"), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.code, "CONFIG_UNKNOWN_SOURCE_PROFILE");
      assert.equal(
        e.message,
        'profile "lost" has source_profile "nowhere", which is not in the config or credentials file',
      );
      return true;
    });
  });

  test("malformed role_arn in a profile", async () => {
    await assert.rejects(load("badarn"), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(
        e.message,
        'malformed role ARN "arn:aws:iam::2222:role/Admin" (role_arn in profile "badarn")',
      );
      assert.equal(e.exitCode, 1);
      return true;
    });
  });
});
