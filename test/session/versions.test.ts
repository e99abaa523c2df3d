import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  isNewerThan,
  muxKeepAliveFor,
  parseVersion,
  portModeFor,
  supportsTerminateFlag,
} from "../../packages/aws-runas/src/session/versions.js";

const LPF = { type: "LocalPortForwarding", portNumber: "80" };

describe("client version gates (ssm-protocol.md §7.1, §7.3, §6.3)", () => {
  test("only four numeric parts make a version", () => {
    assert.deepEqual(parseVersion("3.3.40.0"), [3, 3, 40, 0]);
    for (const bad of [undefined, "", "3.3.40", "3.3.40.0.1", "3.3.x.0", "v3.3.40.0"])
      assert.equal(parseVersion(bad), null);
  });

  test("strictly newer, component by component", () => {
    const table: Array<[string | undefined, string, boolean]> = [
      ["3.0.196.1", "3.0.196.0", true],
      ["3.0.196.0", "3.0.196.0", false],
      ["3.0.1000.0", "3.0.196.0", true],
      ["2.9.999.9", "3.0.196.0", false],
      ["10.0.0.0", "9.99.99.99", true],
      ["3.3.40", "3.0.196.0", false],
      [undefined, "3.0.196.0", false],
    ];
    for (const [version, threshold, expected] of table) {
      assert.equal(isNewerThan(version, threshold), expected, `${version} > ${threshold}`);
    }
  });

  test("port mode: mux after 3.0.196.0, basic up to it, stream without LocalPortForwarding", () => {
    assert.equal(portModeFor("3.3.40.0", LPF), "mux");
    assert.equal(portModeFor("3.0.196.0", LPF), "basic");
    assert.equal(portModeFor("garbage", LPF), "basic"); // unparsable counts as "not supported"
    assert.equal(portModeFor("3.3.40.0", { portNumber: "22" }), "stream"); // AWS-StartSSHSession
    assert.equal(portModeFor("3.3.40.0", null), "stream");
  });

  test("smux keepalive only for agents up to 3.1.1511.0; TerminateSession flag after 2.3.722.0", () => {
    assert.equal(muxKeepAliveFor("3.1.1511.0"), true);
    assert.equal(muxKeepAliveFor("3.1.1511.1"), false);
    assert.equal(muxKeepAliveFor("3.3.40.0"), false);
    assert.equal(supportsTerminateFlag("2.3.722.0"), false);
    assert.equal(supportsTerminateFlag("2.3.722.1"), true);
  });
});
