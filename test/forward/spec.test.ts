import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UsageError } from "@aws-runas/wire/errors.js";
import {
  exposureWarning,
  isLoopbackAddress,
  parseBindAddress,
} from "../../packages/aws-runas/src/forward/bind.js";
import {
  isInstanceDestination,
  type LocalForward,
  parseLocalForward,
} from "../../packages/aws-runas/src/forward/spec.js";

const fwd = (
  bindAddress: string | undefined,
  localPort: number,
  host: string,
  hostPort: number,
): LocalForward => ({
  bindAddress,
  localPort,
  host,
  hostPort,
});

describe("parseLocalForward (-L, OpenSSH syntax)", () => {
  const good: Array<[string, LocalForward]> = [
    ["8080:localhost:80", fwd(undefined, 8080, "localhost", 80)],
    ["0:db.internal:5432", fwd(undefined, 0, "db.internal", 5432)],
    ["127.0.0.1:8080:localhost:80", fwd("127.0.0.1", 8080, "localhost", 80)],
    ["0.0.0.0:8080:10.0.0.5:80", fwd("0.0.0.0", 8080, "10.0.0.5", 80)],
    ["[::1]:8080:localhost:80", fwd("::1", 8080, "localhost", 80)],
    ["[::]:8080:localhost:80", fwd("::", 8080, "localhost", 80)],
    ["8080:[fd00::5]:443", fwd(undefined, 8080, "fd00::5", 443)],
    ["[::1]:8443:[2001:db8::1]:443", fwd("::1", 8443, "2001:db8::1", 443)],
    ["*:8080:localhost:80", fwd("0.0.0.0", 8080, "localhost", 80)],
    [":8080:localhost:80", fwd("0.0.0.0", 8080, "localhost", 80)],
    ["localhost:8080:cache.internal:6379", fwd("127.0.0.1", 8080, "cache.internal", 6379)],
    ["65535:h:65535", fwd(undefined, 65535, "h", 65535)],
  ];
  for (const [text, expected] of good) {
    test(`accepts ${text}`, () => assert.deepEqual(parseLocalForward(text), expected));
  }

  const bad: Array<[string, RegExp]> = [
    ["", /expected local_port:host:host_port/],
    ["8080", /expected local_port:host:host_port/],
    ["8080:localhost", /expected local_port:host:host_port/],
    ["a:b:c:d:e", /too many ':'/],
    ["::1:8080:localhost:80", /too many ':'|not an IP address/],
    ["8080:fd00::5:443", /too many ':'/],
    ["x:localhost:80", /local_port is not a port number/],
    ["70000:localhost:80", /local_port 70000 is out of range/],
    ["8080:localhost:0", /host_port 0 is out of range/],
    ["8080:localhost:http", /host_port is not a port number/],
    ["8080::80", /empty or invalid host/],
    ["[::1:8080:localhost:80", /unbalanced/],
    ["[::1]x:8080:localhost:80", /unbalanced/],
    ["db.example.com:8080:localhost:80", /not an IP address/],
    ["[127.0.0.1]:8080:localhost:80", /not an IP address/],
    ["8080:[localhost]x:80", /unbalanced/],
  ];
  for (const [text, message] of bad) {
    test(`rejects ${JSON.stringify(text)} with one line and the syntax as hint`, () => {
      assert.throws(
        () => parseLocalForward(text),
        (error: unknown) => {
          assert.ok(error instanceof UsageError);
          assert.match(error.message, /^invalid -L /);
          assert.match(error.message, message);
          assert.doesNotMatch(error.message, /\n/);
          assert.match(error.hint ?? "", /-L \[bind_address:\]local_port:host:host_port/);
          return true;
        },
      );
    });
  }

  test("localhost (any case) is the instance itself; everything else goes through it", () => {
    assert.equal(isInstanceDestination({ host: "localhost" }), true);
    assert.equal(isInstanceDestination({ host: "LocalHost" }), true);
    for (const host of ["127.0.0.1", "::1", "db.internal", "localhost.localdomain"]) {
      assert.equal(isInstanceDestination({ host }), false, host);
    }
  });
});

describe("parseBindAddress (--address)", () => {
  const cases: Array<[string, string]> = [
    ["127.0.0.1", "127.0.0.1"],
    ["0.0.0.0", "0.0.0.0"],
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["::", "::"],
    ["*", "0.0.0.0"],
    ["localhost", "127.0.0.1"],
    [" 10.1.2.3 ", "10.1.2.3"],
  ];
  for (const [text, expected] of cases) {
    test(`${JSON.stringify(text)} → ${expected}`, () => assert.equal(parseBindAddress(text), expected));
  }
  for (const text of ["", "example.com", "300.1.1.1", "[10.0.0.1]", "::1]", "[::1"]) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseBindAddress(text), UsageError);
    });
  }

  test("loopback addresses are 127/8, ::1 and IPv4-mapped loopback", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"])
      assert.equal(isLoopbackAddress(a), true, a);
    for (const a of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "fe80::1", "localhost"]) {
      assert.equal(isLoopbackAddress(a), false, a);
    }
  });

  test("one warning line for every exposed listener, none when all are loopback", () => {
    assert.equal(
      exposureWarning([
        { host: "127.0.0.1", port: 1 },
        { host: "::1", port: 2 },
      ]),
      undefined,
    );
    const w = exposureWarning([
      { host: "0.0.0.0", port: 8080 },
      { host: "127.0.0.1", port: 1 },
      { host: "::", port: 9090 },
    ]);
    assert.equal(
      w,
      "listening on 0.0.0.0:8080, [::]:9090, not only on this machine: others on that network can use the tunnel",
    );
  });
});
