import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SshFormatError } from "../../packages/aws-runas/src/ssh/errors.js";
import { expandPath, type TokenValues } from "../../packages/aws-runas/src/ssh/tokens.js";

/** `${NAME}` as ssh_config writes an environment variable. */
const env = (name: string) => `$${"{"}${name}}`;

const values: TokenValues = {
  home: "/home/alice",
  localUser: "alice",
  remoteUser: "ec2-user",
  host: "i-0abc",
  originalHost: "web",
  port: 2222,
  localHostname: "laptop.example.com",
  uid: 1000,
};

describe("expandPath", () => {
  const cases: [string, string][] = [
    ["~", "/home/alice"],
    ["~/.ssh/id_ed25519", "/home/alice/.ssh/id_ed25519"],
    ["%d/.ssh/%r@%h", "/home/alice/.ssh/ec2-user@i-0abc"],
    ["/keys/%u-%n-%p", "/keys/alice-web-2222"],
    ["/keys/%l/%L/%i", "/keys/laptop.example.com/laptop/1000"],
    ["/keys/100%%", "/keys/100%"],
    [`${env("KEYS")}/%h`, "/vault/i-0abc"],
    ["/no/tokens", "/no/tokens"],
    ["relative/key", "relative/key"],
  ];
  for (const [raw, expected] of cases) {
    test(`${raw} -> ${expected}`, () => assert.equal(expandPath(raw, values, { KEYS: "/vault" }), expected));
  }

  const bad: [string, RegExp][] = [
    ["/keys/%C", /unsupported token %C/],
    ["/keys/%", /unsupported token %/],
    ["~bob/.ssh/id", /cannot expand ~bob/],
    [`${env("MISSING")}/id`, /MISSING .* is not set/],
  ];
  for (const [raw, message] of bad) {
    test(`${raw} is refused`, () => {
      assert.throws(
        () => expandPath(raw, values, {}),
        (e: unknown) => e instanceof SshFormatError && message.test(e.message),
      );
    });
  }
});
