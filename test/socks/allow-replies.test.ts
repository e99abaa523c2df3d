import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AwsError, RunasError, UsageError } from "@aws-runas/wire/errors.js";
import { isAllowed, parseAllowPattern } from "../../packages/aws-runas/src/socks/allow.js";
import { Reply } from "../../packages/aws-runas/src/socks/codec.js";
import {
  CONNECT_ERROR_REPLY,
  replyForAgentMessage,
  replyForStartError,
} from "../../packages/aws-runas/src/socks/replies.js";

describe("--allow patterns", () => {
  const cases: Array<[string[], string, number, boolean]> = [
    [[], "anything.example", 1, true],
    [["db.internal"], "db.internal", 5432, true],
    [["db.internal"], "DB.Internal", 80, true],
    [["db.internal"], "cache.internal", 80, false],
    [["*.internal"], "db.internal", 80, true],
    [["*.internal"], "internal", 80, false],
    [["*.internal:5432"], "db.internal", 5432, true],
    [["*.internal:5432"], "db.internal", 5433, false],
    [["*.internal:8000-8999"], "a.internal", 8500, true],
    [["*.internal:8000-8999"], "a.internal", 9000, false],
    [["10.0.*"], "10.0.3.4", 22, true],
    [["10.0.*"], "10.1.3.4", 22, false],
    [["[::1]:80"], "::1", 80, true],
    [["[::1]:80"], "0:0:0:0:0:0:0:1", 80, true],
    [["[fd00::*]"], "fd00::5", 443, true],
    [["db.internal:*", "cache.internal:6379"], "cache.internal", 6379, true],
    [["db.internal:*", "cache.internal:6379"], "cache.internal", 6380, false],
    [["a.b"], "aXb", 1, false],
  ];
  for (const [patterns, host, port, expected] of cases) {
    test(`${JSON.stringify(patterns)} ${expected ? "allows" : "refuses"} ${host}:${port}`, () => {
      assert.equal(isAllowed(patterns.map(parseAllowPattern), host, port), expected);
    });
  }
  for (const bad of ["", ":80", "db:0", "db:70000", "db:9-1", "db:http", "a b", "[::1]:x"]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseAllowPattern(bad), UsageError);
    });
  }
});

describe("SOCKS replies from what the agent and the service report", () => {
  test("the agent's ConnectToPortError reads as connection refused", () => {
    assert.equal(CONNECT_ERROR_REPLY, Reply.connectionRefused);
  });
  const texts: Array<[string, number]> = [
    ["Forwarding to IP address 169.254.169.254 is forbidden.", Reply.notAllowed],
    ["Unable to start port, dial tcp 127.0.0.1:9: connect: connection refused", Reply.connectionRefused],
    ["Unable to connect to specified port: dial tcp: lookup x.example: no such host", Reply.hostUnreachable],
    ["Unable to connect to specified port: missing address", Reply.hostUnreachable],
    ["dial tcp 10.0.0.1:80: connect: no route to host", Reply.hostUnreachable],
    ["dial tcp 10.0.0.1:80: i/o timeout", Reply.hostUnreachable],
    ["dial tcp 10.0.0.1:80: connect: network is unreachable", Reply.networkUnreachable],
    ["something else entirely", Reply.generalFailure],
    ["", Reply.generalFailure],
  ];
  for (const [text, reply] of texts) {
    test(`${JSON.stringify(text)} → ${reply}`, () => assert.equal(replyForAgentMessage(text), reply));
  }
  test("StartSession errors: access denied → 2, instance not connected → 3, others → 1", () => {
    assert.equal(replyForStartError(new AwsError("AccessDeniedException", "no")), Reply.notAllowed);
    assert.equal(replyForStartError(new AwsError("TargetNotConnected", "no")), Reply.networkUnreachable);
    assert.equal(replyForStartError(new AwsError("ThrottlingException", "slow")), Reply.generalFailure);
    assert.equal(
      replyForStartError(new RunasError("X", "Forwarding to IP address ::1 is forbidden.")),
      Reply.notAllowed,
    );
    assert.equal(replyForStartError(new Error("boom")), Reply.generalFailure);
  });
});
