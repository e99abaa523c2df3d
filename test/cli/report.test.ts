// The one-line error format main prints on stderr.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RunasError, UsageError } from "@aws-runas/wire/errors.js";
import { createLogger } from "@aws-runas/wire/log.js";
import { formatError } from "../../packages/aws-runas/src/cli/report.js";

describe("formatError", () => {
  test("our error: message and hint, no stack", () => {
    const error = new UsageError("missing target_spec", "usage: aws-runas ssm shell ...");
    assert.equal(
      formatError(error, 0),
      "aws-runas: missing target_spec\nhint: usage: aws-runas ssm shell ...\n",
    );
  });

  test("our error without hint: one line", () => {
    assert.equal(formatError(new RunasError("X", "it broke"), 0), "aws-runas: it broke\n");
  });

  test("multi-line messages are folded into one line", () => {
    assert.equal(formatError(new RunasError("X", "first\n  second"), 0), "aws-runas: first second\n");
  });

  test("anything else: message plus a hint to rerun with -v", () => {
    const text = formatError(new TypeError("x is undefined"), 0);
    assert.equal(text.split("\n")[0], "aws-runas: x is undefined");
    assert.match(text.split("\n")[1] ?? "", /^hint: .*-v/);
    assert.equal(text.split("\n").length, 3);
    assert.equal(formatError("plain string", 0).split("\n")[0], "aws-runas: plain string");
  });

  test("-v adds the stack and the causes", () => {
    const cause = new Error("socket hang up");
    const error = new RunasError("X", "StartSession failed", { hint: "check the network", cause });
    const lines = formatError(error, 1).trimEnd().split("\n");
    assert.equal(lines[0], "aws-runas: StartSession failed");
    assert.equal(lines[1], "hint: check the network");
    assert.ok(
      lines.slice(2).some((l) => /^\s+at /.test(l)),
      "stack frames",
    );
    assert.ok(lines.includes("caused by: socket hang up"));
  });

  test("secrets never reach the terminal", () => {
    const logger = createLogger(0, () => {});
    logger.addSecret("123456-mfa-code");
    const error = new RunasError("X", "MFA code 123456-mfa-code was rejected");
    assert.equal(formatError(error, 0, logger.redact), "aws-runas: MFA code **** was rejected\n");
  });
});
