// Issue 14 item 13: lines the SDK's INI loader would drop silently are found, with their line.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { findIniProblem } from "../../packages/aws-runas/src/config/ini-check.js";

describe("findIniProblem", () => {
  const fine: [string, string][] = [
    ["empty", ""],
    [
      "profiles, comments, blank lines",
      "# top\n[default]\nregion = eu-west-1\n\n; note\n[profile x]\nregion=us-east-1\n",
    ],
    ["CRLF line ends and a BOM", "\uFEFF[default]\r\nregion = eu-west-1\r\n"],
    [
      "sub-settings under a key",
      "[profile x]\ns3 =\n  max_concurrent_requests = 20\n  addressing_style = path\n",
    ],
    ["a comment after a header", "[profile x] # mine\nregion = us-east-1\n"],
    ["an empty value", "[profile x]\nmfa_serial =\n"],
    ["an indented setting", "[default]\n  region = x\n"],
    ["a comment after a value", "[default]\nregion = x ; eu is closer\n"],
    [
      "sso-session and services sections",
      "[sso-session corp]\nsso_region = us-east-1\n[services s]\nsts =\n  endpoint_url = http://x\n",
    ],
  ];
  for (const [what, text] of fine) {
    test(`accepts: ${what}`, () => assert.equal(findIniProblem(text), undefined));
  }

  const broken: [string, string, number, RegExp][] = [
    ["a header without ]", "[profile x\nregion = us-east-1\n", 1, /without a closing "\]"/],
    ["text after a header", "[default]\n[profile x] region = a\n", 2, /after the section header/],
    ["an empty header", "[]\n", 1, /empty section name/],
    ["a stray line", "[profile x]\nregion = us-east-1\nthis is junk\n", 3, /not a "key = value" setting/],
    ["a colon instead of =", "[profile x]\nregion: us-east-1\n", 2, /not a "key = value" setting/],
    ["a setting before any header", "region = us-east-1\n[default]\n", 1, /before any \[section\]/],
    ["a value without a name", "[default]\n = x\n", 2, /without a name/],
    [
      "an indented line that is no setting",
      "[profile x]\ns3 =\n  just words\n",
      3,
      /not a "key = value" setting/,
    ],
    ["a comment glued to a header", "[profile x]# mine\nregion = a\n", 1, /after the section header/],
  ];
  for (const [what, text, line, message] of broken) {
    test(`reports: ${what} (line ${line})`, () => {
      const problem = findIniProblem(text);
      assert.ok(problem, "a problem");
      assert.equal(problem.line, line);
      assert.match(problem.message, message);
    });
  }
});
