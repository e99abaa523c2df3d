import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { wildcardMatch } from "../../packages/emulator/src/api/ec2-filters.js";
import { isAllowed } from "../../packages/emulator/src/api/identity.js";
import { queryFilters, queryList } from "../../packages/emulator/src/api/input.js";
import { decodeNextToken, encodeNextToken } from "../../packages/emulator/src/api/pagination.js";
import { parseAuthorization } from "../../packages/emulator/src/api/sigv4.js";
import { element, escapeXml } from "../../packages/emulator/src/api/xml.js";
import { formatExports, parseExports } from "../../packages/emulator/src/program/exports.js";

describe("parseAuthorization", () => {
  test("reads the SDK's header", () => {
    const header =
      "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE000000000/20240101/us-east-1/ssm/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" +
      "a".repeat(64);
    assert.deepEqual(parseAuthorization(header), {
      accessKeyId: "AKIAEXAMPLE000000000",
      date: "20240101",
      region: "us-east-1",
      service: "ssm",
      signedHeaders: ["content-type", "host", "x-amz-date", "x-amz-target"],
      signature: "a".repeat(64),
    });
  });

  test("describes malformed headers", () => {
    assert.match(String(parseAuthorization("Basic abc")), /AWS4-HMAC-SHA256/);
    assert.match(String(parseAuthorization("AWS4-HMAC-SHA256 Credential=x")), /requires 'Credential'/);
    assert.match(
      String(
        parseAuthorization(
          `AWS4-HMAC-SHA256 Credential=K/2024/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=${"a".repeat(64)}`,
        ),
      ),
      /scoped to a valid date/,
    );
    assert.match(
      String(
        parseAuthorization(
          "AWS4-HMAC-SHA256 Credential=K/20240101/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=zz",
        ),
      ),
      /64 hex/,
    );
  });
});

describe("small pure helpers", () => {
  test("EC2 wildcards", () => {
    assert.ok(wildcardMatch("web*", "web-1"));
    assert.ok(wildcardMatch("w?b", "web"));
    assert.ok(!wildcardMatch("w?b", "weeb"));
    assert.ok(wildcardMatch("a.b", "a.b"));
    assert.ok(!wildcardMatch("a.b", "axb"), "regex characters are literal");
    assert.ok(wildcardMatch("\\*", "*"));
    assert.ok(!wildcardMatch("\\*", "x"));
    assert.ok(wildcardMatch("*", ""));
  });

  test("allow-lists", () => {
    assert.ok(isAllowed(["ssm:*"], "ssm:StartSession"));
    assert.ok(isAllowed(["ec2:Describe*"], "ec2:DescribeInstances"));
    assert.ok(isAllowed(["SSM:startsession"], "ssm:StartSession"), "actions are case-insensitive");
    assert.ok(!isAllowed(["ec2:Describe*"], "ssm:StartSession"));
    assert.ok(!isAllowed([], "sts:GetCallerIdentity"));
    assert.ok(isAllowed(["*"], "kms:Decrypt"));
  });

  test("query lists and filters", () => {
    const p = new URLSearchParams(
      "InstanceId.2=b&InstanceId.1=a&InstanceId.10=c&Filter.2.Name=tag:Name&Filter.2.Value.1=x&Filter.1.Name=tag-key&Filter.1.Value.2=q&Filter.1.Value.1=p",
    );
    assert.deepEqual(queryList(p, "InstanceId"), ["a", "b", "c"]);
    assert.deepEqual(queryFilters(p), [
      { name: "tag-key", values: ["p", "q"] },
      { name: "tag:Name", values: ["x"] },
    ]);
  });

  test("next tokens are bound to their query", () => {
    const token = encodeNextToken(5, "abc");
    assert.equal(decodeNextToken(token, "abc"), 5);
    assert.equal(decodeNextToken(token, "other"), undefined);
    assert.equal(decodeNextToken("garbage", "abc"), undefined);
  });

  test("XML escaping and lists", () => {
    assert.equal(escapeXml(`<a href="x">&'`), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
    assert.equal(
      element("tagSet", [{ key: "a&b", value: undefined }]),
      "<tagSet><item><key>a&amp;b</key></item></tagSet>",
    );
    assert.equal(element("x", undefined), "");
    assert.equal(element("n", 5, { xmlns: "u" }), '<n xmlns="u">5</n>');
  });

  test("export lines round-trip, quoting only when needed", () => {
    const env = { A: "/tmp/plain-path", B: "has space", C: "it's" };
    const text = formatExports(env);
    assert.equal(text, "export A=/tmp/plain-path\nexport B='has space'\nexport C='it'\\''s'\n");
    assert.deepEqual(parseExports(text), env);
  });
});
