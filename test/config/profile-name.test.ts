import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../../packages/aws-runas/src/config/errors.js";
import { selectProfile } from "../../packages/aws-runas/src/config/profile-name.js";
import { looksLikeArn, parseRoleArn, tryParseRoleArn } from "../../packages/aws-runas/src/config/role-arn.js";

describe("selectProfile", () => {
  test("explicit name beats the environment", () => {
    assert.deepEqual(selectProfile("dev", { AWS_PROFILE: "x", AWS_DEFAULT_PROFILE: "y" }), {
      kind: "profile",
      name: "dev",
      origin: "argument",
    });
  });

  test("AWS_PROFILE, then AWS_DEFAULT_PROFILE, then default", () => {
    assert.deepEqual(selectProfile(undefined, { AWS_PROFILE: "x", AWS_DEFAULT_PROFILE: "y" }), {
      kind: "profile",
      name: "x",
      origin: "AWS_PROFILE",
    });
    assert.deepEqual(selectProfile(undefined, { AWS_PROFILE: "", AWS_DEFAULT_PROFILE: "y" }), {
      kind: "profile",
      name: "y",
      origin: "AWS_DEFAULT_PROFILE",
    });
    assert.deepEqual(selectProfile("", {}), { kind: "profile", name: "default", origin: "default" });
  });

  test("a role ARN stands in for a profile; base credentials from the default chain", () => {
    const sel = selectProfile("arn:aws:iam::123456789012:role/Admin", {});
    assert.equal(sel.kind, "role-arn");
    if (sel.kind !== "role-arn") return;
    assert.equal(sel.roleArn.accountId, "123456789012");
    assert.equal(sel.roleArn.roleName, "Admin");
    assert.equal(sel.baseProfile, "default");
    assert.equal(sel.origin, "argument");
  });

  test("the ARN's base profile follows AWS_PROFILE", () => {
    const sel = selectProfile("arn:aws:iam::123456789012:role/Admin", { AWS_PROFILE: "me" });
    assert.ok(sel.kind === "role-arn");
    assert.equal(sel.baseProfile, "me");
    assert.equal(sel.baseOrigin, "AWS_PROFILE");
  });

  test("an ARN in AWS_PROFILE uses [default] as base", () => {
    const sel = selectProfile(undefined, { AWS_PROFILE: "arn:aws:iam::123456789012:role/Admin" });
    assert.ok(sel.kind === "role-arn");
    assert.equal(sel.origin, "AWS_PROFILE");
    assert.equal(sel.baseProfile, "default");
  });

  test("a malformed ARN is a one-line usage error", () => {
    assert.throws(
      () => selectProfile("arn:aws:iam::12345:role/Admin", {}),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.code, "CONFIG_BAD_ROLE_ARN");
        assert.equal(e.exitCode, 2);
        assert.equal(e.message, 'malformed role ARN "arn:aws:iam::12345:role/Admin" (command line)');
        assert.ok(!e.message.includes("\n"));
        assert.match(e.hint ?? "", /arn:aws:iam::123456789012:role\/Name/);
        return true;
      },
    );
  });
});

describe("role ARNs", () => {
  test("paths and partitions", () => {
    assert.deepEqual(tryParseRoleArn("arn:aws:iam::123456789012:role/ops/team/Deploy"), {
      arn: "arn:aws:iam::123456789012:role/ops/team/Deploy",
      partition: "aws",
      accountId: "123456789012",
      path: "/ops/team/",
      roleName: "Deploy",
    });
    assert.equal(tryParseRoleArn("arn:aws-us-gov:iam::123456789012:role/R+=,.@-x")?.roleName, "R+=,.@-x");
    assert.equal(tryParseRoleArn("arn:aws-cn:iam::123456789012:role/R")?.partition, "aws-cn");
  });

  test("rejects what is not a role ARN", () => {
    for (const bad of [
      "arn:aws:iam::123456789012:user/alice",
      "arn:aws:iam::1234567890123:role/R",
      "arn:aws:sts::123456789012:role/R",
      "arn:aws:iam::123456789012:role/",
      "arn:aws:iam::123456789012:role/a b",
      "arn:aws:iam:us-east-1:123456789012:role/R",
      `arn:aws:iam::123456789012:role/${"x".repeat(65)}`,
    ]) {
      assert.equal(tryParseRoleArn(bad), undefined, bad);
      assert.throws(() => parseRoleArn(bad, "test"), ConfigError);
    }
  });

  test("looksLikeArn", () => {
    assert.equal(looksLikeArn("arn:whatever"), true);
    assert.equal(looksLikeArn("dev"), false);
  });
});
