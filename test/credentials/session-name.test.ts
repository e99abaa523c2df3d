import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  chooseSessionName,
  sanitizeSessionName,
  userNameFromArn,
} from "../../packages/aws-runas/src/credentials/session-name.js";

describe("sanitizeSessionName", () => {
  test("keeps allowed characters, replaces the rest", () => {
    assert.equal(sanitizeSessionName("alice@example.com"), "alice@example.com");
    assert.equal(sanitizeSessionName("John Smith"), "John-Smith");
    assert.equal(sanitizeSessionName("a_b+c=d,e.f@g-h"), "a_b+c=d,e.f@g-h");
    assert.equal(sanitizeSessionName("dom\\user"), "dom-user");
  });

  test("at most 64 characters, at least 2", () => {
    assert.equal(sanitizeSessionName("x".repeat(100)), "x".repeat(64));
    assert.equal(sanitizeSessionName(""), "aws-runas");
    assert.equal(sanitizeSessionName("a"), "a-aws-runas");
  });

  test("always valid for AWS", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => {
        assert.match(sanitizeSessionName(s), /^[\w+=,.@-]{2,64}$/);
      }),
    );
  });
});

describe("userNameFromArn", () => {
  test("IAM users, with and without a path", () => {
    assert.equal(userNameFromArn("arn:aws:iam::123456789012:user/alice"), "alice");
    assert.equal(userNameFromArn("arn:aws:iam::123456789012:user/division/team/bob"), "bob");
  });
  test("not a user", () => {
    assert.equal(userNameFromArn("arn:aws:sts::123456789012:assumed-role/Admin/alice"), undefined);
    assert.equal(userNameFromArn("arn:aws:iam::123456789012:root"), undefined);
  });
});

describe("chooseSessionName", () => {
  test("role_session_name first, without calling STS", async () => {
    let calls = 0;
    const name = await chooseSessionName({
      roleSessionName: "my session",
      callerArn: async () => {
        calls++;
        return "arn:aws:iam::123456789012:user/alice";
      },
      osUser: () => "os",
    });
    assert.equal(name, "my-session");
    assert.equal(calls, 0);
  });

  test("then the IAM user name, then the OS user", async () => {
    assert.equal(
      await chooseSessionName({
        callerArn: async () => "arn:aws:iam::123456789012:user/alice",
        osUser: () => "os",
      }),
      "alice",
    );
    assert.equal(
      await chooseSessionName({
        callerArn: async () => "arn:aws:sts::123456789012:assumed-role/R/s",
        osUser: () => "os user",
      }),
      "os-user",
    );
    assert.equal(await chooseSessionName({ callerArn: async () => undefined, osUser: () => "me" }), "me");
  });
});
