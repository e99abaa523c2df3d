import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { silentLogger } from "@aws-runas/wire/log.js";
import { ConfigError } from "../../packages/aws-runas/src/config/errors.js";
import type { ProfileFiles, Section } from "../../packages/aws-runas/src/config/files.js";
import { resolveProfile } from "../../packages/aws-runas/src/config/profile.js";
import { type Env, selectProfile } from "../../packages/aws-runas/src/config/profile-name.js";
import { type CredentialPlan, planCredentials } from "../../packages/aws-runas/src/credentials/plan.js";

const keys = { aws_access_key_id: "AKIAUSER", aws_secret_access_key: "user-secret" };
const PROFILES: Record<string, Section> = {
  default: { aws_access_key_id: "AKIADEFAULT", aws_secret_access_key: "default-secret" },
  user: keys,
  temp: { ...keys, aws_session_token: "tok" },
  sso: { sso_session: "corp", sso_account_id: "1", sso_role_name: "R" },
  "legacy-sso": { sso_start_url: "https://x.awsapps.com/start" },
  proc: { credential_process: "/bin/creds" },
  web: { role_arn: "arn:aws:iam::123456789012:role/Web", web_identity_token_file: "/t" },
  ec2role: { role_arn: "arn:aws:iam::123456789012:role/Ec2", credential_source: "Ec2InstanceMetadata" },
  admin: { role_arn: "arn:aws:iam::123456789012:role/Admin", source_profile: "user" },
  "admin-long": {
    role_arn: "arn:aws:iam::123456789012:role/Admin",
    source_profile: "user",
    credentials_duration: "2h",
  },
  "admin-temp": { role_arn: "arn:aws:iam::123456789012:role/Admin", source_profile: "temp" },
  "via-sso": { role_arn: "arn:aws:iam::123456789012:role/Admin", source_profile: "sso" },
  chained: { role_arn: "arn:aws:iam::123456789012:role/Second", source_profile: "admin" },
  orphan: { role_arn: "arn:aws:iam::123456789012:role/Admin" },
  empty: { region: "eu-west-1" },
  "from-empty": { role_arn: "arn:aws:iam::123456789012:role/Admin", source_profile: "empty" },
};

function files(profiles: Record<string, Section> = PROFILES): ProfileFiles {
  return { configFile: "/c/config", credentialsFile: "/c/credentials", profiles };
}

function plan(
  profile: string | undefined,
  env: Env = {},
  profiles?: Record<string, Section>,
): CredentialPlan {
  const resolved = resolveProfile(files(profiles), selectProfile(profile, env), env, {}, silentLogger);
  return planCredentials(resolved, env);
}

const ENV_KEYS = { AWS_ACCESS_KEY_ID: "AKIAENV", AWS_SECRET_ACCESS_KEY: "env-secret" };

describe("planCredentials", () => {
  test("long-term keys without a role: GetSessionToken", () => {
    assert.deepEqual(plan("user"), {
      kind: "session-token",
      base: {
        kind: "long-term",
        profile: "user",
        keys: { accessKeyId: "AKIAUSER", secretAccessKey: "user-secret" },
      },
    });
  });

  test("temporary keys in a profile are used as they are", () => {
    const p = plan("temp");
    assert.equal(p.kind, "base");
    assert.equal(p.kind === "base" && p.base.kind, "static");
  });

  test("profiles aws-runas cannot do go to the SDK", () => {
    const sdk = (name: string) => {
      const p = plan(name);
      assert.ok(p.kind === "base" && p.base.kind === "sdk", name);
      return p.base.spec;
    };
    assert.deepEqual(sdk("sso"), { kind: "sso", profile: "sso" });
    assert.deepEqual(sdk("legacy-sso"), { kind: "sso", profile: "legacy-sso" });
    assert.deepEqual(sdk("proc"), { kind: "process", profile: "proc" });
    assert.deepEqual(sdk("web"), { kind: "ini", profile: "web" });
    assert.deepEqual(sdk("ec2role"), { kind: "ini", profile: "ec2role" });
  });

  test("role with long-term source, 1h: GetSessionToken then AssumeRole", () => {
    const p = plan("admin");
    assert.ok(p.kind === "assume-role");
    assert.equal(p.viaSessionToken, true);
    assert.equal(p.roleCacheName, "admin");
    assert.equal(p.base.kind === "long-term" && p.base.profile, "user");
    assert.equal(p.roleArn.roleName, "Admin");
  });

  test("role longer than 1h: one AssumeRole with the long-term keys", () => {
    const p = plan("admin-long");
    assert.ok(p.kind === "assume-role");
    assert.equal(p.viaSessionToken, false);
    assert.equal(p.base.kind, "long-term");
    const viaEnv = plan("admin", { CREDENTIALS_DURATION: "61m" });
    assert.ok(viaEnv.kind === "assume-role" && !viaEnv.viaSessionToken);
  });

  test("role from temporary or SDK credentials: AssumeRole directly", () => {
    const temp = plan("admin-temp");
    assert.ok(temp.kind === "assume-role" && !temp.viaSessionToken && temp.base.kind === "static");
    const sso = plan("via-sso");
    assert.ok(sso.kind === "assume-role" && !sso.viaSessionToken);
    assert.deepEqual(sso.base, { kind: "sdk", spec: { kind: "sso", profile: "sso" } });
    const chained = plan("chained");
    assert.ok(chained.kind === "assume-role");
    assert.deepEqual(chained.base, { kind: "sdk", spec: { kind: "ini", profile: "admin" } });
  });

  test("role without source_profile: environment keys, else [default], else the SDK chain", () => {
    const env = plan("orphan", ENV_KEYS);
    assert.ok(env.kind === "assume-role" && env.base.kind === "static");
    assert.equal(env.base.kind === "static" && env.base.keys.accessKeyId, "AKIAENV");
    const def = plan("orphan");
    assert.ok(def.kind === "assume-role" && def.base.kind === "long-term" && def.base.profile === "default");
    const { default: _, ...noDefault } = PROFILES;
    const chain = plan("orphan", {}, noDefault);
    assert.ok(chain.kind === "assume-role");
    assert.deepEqual(chain.base, { kind: "sdk", spec: { kind: "chain", profile: "default" } });
  });

  test("role ARN: default chain base and <account>-<role> cache name", () => {
    const p = plan("arn:aws:iam::210987654321:role/team/Viewer");
    assert.ok(p.kind === "assume-role");
    assert.equal(p.roleCacheName, "210987654321-Viewer");
    assert.ok(p.base.kind === "long-term" && p.base.profile === "default");
    assert.equal(p.viaSessionToken, true);
    const withProfile = plan("arn:aws:iam::210987654321:role/Viewer", { AWS_PROFILE: "sso" });
    assert.ok(withProfile.kind === "assume-role");
    assert.deepEqual(withProfile.base, { kind: "sdk", spec: { kind: "sso", profile: "sso" } });
    const withEnv = plan("arn:aws:iam::210987654321:role/Viewer", ENV_KEYS);
    assert.ok(withEnv.kind === "assume-role" && withEnv.base.kind === "static" && !withEnv.viaSessionToken);
  });

  test("environment keys win only when no profile was asked for", () => {
    const p = plan(undefined, { ...ENV_KEYS, AWS_SESSION_TOKEN: "envtok" });
    assert.ok(p.kind === "base" && p.base.kind === "static");
    assert.equal(p.base.kind === "static" && p.base.keys.sessionToken, "envtok");
    assert.equal(plan("user", ENV_KEYS).kind, "session-token");
    assert.equal(plan(undefined, { ...ENV_KEYS, AWS_PROFILE: "user" }).kind, "session-token");
  });

  test("default with no keys anywhere: the SDK chain", () => {
    const p = plan(undefined, {}, { user: keys });
    assert.deepEqual(p, { kind: "base", base: { kind: "sdk", spec: { kind: "chain", profile: "default" } } });
  });

  test("a named profile without credentials is an error", () => {
    assert.throws(
      () => plan("empty"),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.code === "CONFIG_NO_CREDENTIALS" &&
        e.message === 'profile "empty" has no credentials',
    );
    assert.throws(
      () => plan("from-empty"),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message === 'profile "empty" (source_profile of "from-empty") has no credentials',
    );
  });
});
