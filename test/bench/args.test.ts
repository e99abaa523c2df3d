import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BenchArgsError, DEFAULT_JSON_FILE, parseBenchArgs, Suites } from "../../bench/lib/args.js";

describe("bench command line", () => {
  test("no options: every suite, build first, no JSON, no profile", () => {
    assert.deepEqual(parseBenchArgs([]), { suites: [...Suites], build: true, quick: false, help: false });
  });

  test("--json with and without a file", () => {
    assert.equal(parseBenchArgs(["--json"]).json, DEFAULT_JSON_FILE);
    assert.equal(parseBenchArgs(["--json", "--quick"]).json, DEFAULT_JSON_FILE);
    assert.equal(parseBenchArgs(["--json", "out/r.json"]).json, "out/r.json");
  });

  test("--profile forward, --only, --no-build, --quick, --help", () => {
    const args = parseBenchArgs([
      "--profile",
      "forward",
      "--only",
      "micro,startup",
      "--no-build",
      "--quick",
      "-h",
    ]);
    assert.equal(args.profile, "forward");
    assert.deepEqual(args.suites, ["micro", "startup"]);
    assert.equal(args.build, false);
    assert.equal(args.quick, true);
    assert.equal(args.help, true);
  });

  test("bad input names the option", () => {
    assert.throws(
      () => parseBenchArgs(["--profile", "shell"]),
      /--profile takes one of: forward \(got "shell"\)/,
    );
    assert.throws(() => parseBenchArgs(["--profile"]), /--profile needs a value/);
    assert.throws(
      () => parseBenchArgs(["--only", "micro,bogus"]),
      /--only takes suites from: .* \(got "bogus"\)/,
    );
    assert.throws(() => parseBenchArgs(["--fast"]), BenchArgsError);
  });
});
