import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  hostLineMatches,
  isLiteralPattern,
  matchPattern,
} from "../../packages/aws-runas/src/ssh/host-pattern.js";

/** Independent reference: the pattern as an anchored regular expression. */
function referenceMatch(text: string, pattern: string): boolean {
  const source = [...pattern]
    .map((c) =>
      c === "*" ? "[\\s\\S]*" : c === "?" ? "[\\s\\S]" : c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${source}$`).test(text);
}

describe("matchPattern", () => {
  const cases: [string, string, boolean][] = [
    ["i-0123456789abcdef0", "i-*", true],
    ["mi-0123456789abcdef0", "i-*", false],
    ["mi-0123456789abcdef0", "*i-*", true],
    ["web1", "web?", true],
    ["web12", "web?", false],
    ["web", "web*", true],
    ["", "*", true],
    ["", "?", false],
    ["a", "", false],
    ["", "", true],
    ["db.prod.example.com", "*.prod.*", true],
    ["db.dev.example.com", "*.prod.*", false],
    ["Name:web", "Name:*", true],
    ["name:web", "Name:*", false],
    ["abcabd", "*ab?", true],
    ["aaaa", "a*a*a", true],
    ["aa", "a*a*a", false],
    ["x.y", "x?y", true],
    ["10.0.1.5", "10.0.*", true],
  ];
  for (const [text, pattern, expected] of cases) {
    test(`${JSON.stringify(text)} ~ ${JSON.stringify(pattern)} is ${expected}`, () => {
      assert.equal(matchPattern(text, pattern), expected);
    });
  }

  test("agrees with a regular-expression reference on random inputs", () => {
    const alphabet = fc.constantFrom("a", "b", ".", "-", "*", "?");
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 8 }),
        fc.string({ unit: alphabet, maxLength: 12 }),
        (p, t) => {
          const text = t.replace(/[*?]/g, "a");
          assert.equal(matchPattern(text, p), referenceMatch(text, p), `pattern ${p} text ${text}`);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("hostLineMatches", () => {
  const cases: [string[], string, boolean][] = [
    [["*"], "anything", true],
    [["i-*", "mi-*"], "mi-0abc12345", true],
    [["i-*", "mi-*"], "web", false],
    [["*", "!bastion"], "bastion", false],
    [["*", "!bastion"], "web", true],
    [["!bastion", "*"], "bastion", false],
    [["!bastion"], "web", false],
    [["web?", "!web2"], "web1", true],
    [["web?", "!web2"], "web2", false],
    [["*.example.com", "!*.dev.example.com"], "a.dev.example.com", false],
    [["*.example.com", "!*.dev.example.com"], "a.prod.example.com", true],
    [[], "web", false],
  ];
  for (const [patterns, host, expected] of cases) {
    test(`Host ${patterns.join(" ")} for ${host} is ${expected}`, () => {
      assert.equal(hostLineMatches(patterns, host), expected);
    });
  }

  test("isLiteralPattern", () => {
    assert.equal(isLiteralPattern("web"), true);
    assert.equal(isLiteralPattern("web*"), false);
    assert.equal(isLiteralPattern("!web"), false);
    assert.equal(isLiteralPattern("w?b"), false);
    assert.equal(isLiteralPattern(""), false);
  });
});
