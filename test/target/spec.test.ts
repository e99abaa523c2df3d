import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { describe, test } from "node:test";
import { UsageError } from "@aws-runas/wire/errors.js";
import fc from "fast-check";
import {
  formatForwardTarget,
  formatSshTarget,
  isInstanceId,
  isPrivateAddress,
  parseForwardTarget,
  parseShellTarget,
  parseSshTarget,
} from "../../packages/aws-runas/src/target/spec.js";

interface Vectors {
  ssh: { in: string; user: string; host: string; port: string }[];
  ssh_invalid: { in: string; why: string }[];
  forward: { in: string; target: string; port: string }[];
  forward_invalid: { in: string; why: string }[];
  shell: { in: string; target: string }[];
  shell_invalid: { in: string; why: string }[];
  instanceId: { match: string[]; no_match: string[] };
  privateAddress: { private: string[]; public: string[] };
}

// The project's own target-spec vectors (started from aws-runas' tests; the project owns them now).
const vectorsUrl = new URL("../fixtures/target-spec.json", import.meta.url);
const vectors = JSON.parse(readFileSync(vectorsUrl, "utf8")) as Vectors;

/** A usage error whose message is one line and quotes nothing but what it should. */
function assertUsageError(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof UsageError, `expected UsageError, got ${String(error)}`);
    assert.ok(!error.message.includes("\n"), "message must be one line");
    assert.ok(error.hint, "a hint is given");
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe("vectors file", () => {
  test("holds every section", () => {
    assert.ok(vectors.ssh.length >= 10);
    assert.ok(vectors.ssh_invalid.length >= 4);
    assert.ok(vectors.forward.length >= 3);
    assert.ok(vectors.forward_invalid.length >= 5);
    assert.ok(vectors.shell.length >= 3 && vectors.shell_invalid.length >= 5);
    assert.ok(vectors.instanceId.match.length > 0 && vectors.instanceId.no_match.length > 0);
    assert.ok(vectors.privateAddress.private.length > 0 && vectors.privateAddress.public.length > 0);
  });
});

describe("parseSshTarget", () => {
  for (const v of vectors.ssh) {
    test(`vector ${JSON.stringify(v.in)}`, () => {
      assert.deepEqual(parseSshTarget(v.in), { user: v.user, host: v.host, port: Number(v.port) });
    });
  }
  for (const v of vectors.ssh_invalid) {
    test(`invalid ${JSON.stringify(v.in)} (${v.why})`, () => {
      assertUsageError(() => parseSshTarget(v.in));
    });
  }
  test("messages say what is wrong", () => {
    assertUsageError(() => parseSshTarget(""), /^empty target$/);
    assertUsageError(() => parseSshTarget("u@"), /no host/);
    assertUsageError(() => parseSshTarget("@host"), /empty user name/);
    assertUsageError(() => parseSshTarget("h:0"), /"h:0": port 0 is out of range/);
    assertUsageError(() => parseSshTarget("h:-1"), /port -1 is out of range/);
    assertUsageError(() => parseSshTarget("h:"), /empty port/);
    assertUsageError(() => parseSshTarget(":22"), /no host/);
    assertUsageError(() => parseSshTarget("u@[nope]:22"), /not an IPv6 address/);
  });
  test("IPv6 hosts: bare literal keeps its last group, brackets take a port", () => {
    assert.deepEqual(parseSshTarget("2001:db8::1"), { user: "ec2-user", host: "2001:db8::1", port: 22 });
    assert.deepEqual(parseSshTarget("admin@[2001:db8::1]:2222"), {
      user: "admin",
      host: "2001:db8::1",
      port: 2222,
    });
    assert.deepEqual(parseSshTarget("[fd00::5]"), { user: "ec2-user", host: "fd00::5", port: 22 });
  });
  test("a non-numeric last part belongs to the host", () => {
    assert.deepEqual(parseSshTarget("Name:web"), { user: "ec2-user", host: "Name:web", port: 22 });
    assert.deepEqual(parseSshTarget("a@b@c:23"), { user: "a", host: "b@c", port: 23 });
  });
  test("control characters are escaped in the message", () => {
    assertUsageError(() => parseSshTarget("h\n:0"), /"h\\n:0"/);
  });
});

describe("parseForwardTarget", () => {
  for (const v of vectors.forward) {
    test(`vector ${JSON.stringify(v.in)}`, () => {
      assert.deepEqual(parseForwardTarget(v.in), { target: v.target, port: Number(v.port) });
    });
  }
  for (const v of vectors.forward_invalid) {
    test(`invalid ${JSON.stringify(v.in)} (${v.why})`, () => {
      assertUsageError(() => parseForwardTarget(v.in));
    });
  }
  test("messages say what is wrong", () => {
    assertUsageError(() => parseForwardTarget("i-0123456789abcdef0"), /missing the remote port/);
    assertUsageError(() => parseForwardTarget(":80"), /nothing before the port/);
    assertUsageError(() => parseForwardTarget("i-0123456789abcdef0:"), /empty port/);
    assertUsageError(() => parseForwardTarget("i-0123456789abcdef0:http"), /port "http" is not a number/);
    assertUsageError(() => parseForwardTarget("i-0123456789abcdef0:70000"), /port 70000 is out of range/);
    assertUsageError(() => parseForwardTarget("i-0123456789abcdef0:0"), /port 0 is out of range/);
    assertUsageError(() => parseForwardTarget("[::1]"), /missing the remote port/);
    assertUsageError(() => parseForwardTarget(""), /^empty target$/);
  });
  test("IPv6 in brackets", () => {
    assert.deepEqual(parseForwardTarget("[2001:db8::7]:5432"), { target: "2001:db8::7", port: 5432 });
  });
});

describe("one IPv6 rule for ssh and forward", () => {
  /** What a parser made of a spec: host and port, or the usage error's message. */
  const outcome = (parse: () => { host: string; port: number }): string => {
    try {
      const { host, port } = parse();
      return `${host} port ${port}`;
    } catch (error) {
      assert.ok(error instanceof UsageError, String(error));
      return `error: ${error.message.replace(/^invalid target "[^"]*": /, "")}`;
    }
  };
  for (const spec of [
    "2001:db8::10:2222",
    "2001:db8::10:9000",
    "[2001:db8::10]:2222",
    "1:2:3:4:5:6:7:8:2222",
    "::1:80",
    "fe80::1:2",
    "[2001:db8::10",
    "[::1]x",
  ]) {
    test(`${spec}: ssh and forward agree`, () => {
      const ssh = outcome(() => parseSshTarget(`u@${spec}`));
      const forward = outcome(() => {
        const { target, port } = parseForwardTarget(spec);
        return { host: target, port };
      });
      assert.equal(ssh, forward);
    });
  }
  test("the ambiguity error shows both bracketed readings", () => {
    const hintOf = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (error) {
        assert.match((error as UsageError).message, /ambiguous IPv6 address/);
        return (error as UsageError).hint;
      }
      assert.fail("no error");
    };
    assert.equal(
      hintOf(() => parseSshTarget("root@2001:db8::10:2222")),
      "write [2001:db8::10]:2222 for port 2222, or [2001:db8::10:2222]:22 for the whole address",
    );
    assert.equal(
      hintOf(() => parseForwardTarget("2001:db8::10:9000")),
      "write [2001:db8::10]:9000 for port 9000, or [2001:db8::10:9000]:PORT for the whole address",
    );
  });
  test("a bare IPv6 address: port 22 for ssh, missing port for forward", () => {
    assert.deepEqual(parseSshTarget("2001:db8::1"), { user: "ec2-user", host: "2001:db8::1", port: 22 });
    assertUsageError(() => parseForwardTarget("2001:db8::1"), /missing the remote port/);
  });
});

describe("brackets and tags", () => {
  test("messages say what is wrong", () => {
    assertUsageError(() => parseShellTarget("[::1"), /^invalid target "\[::1": '\[' without a closing '\]'$/);
    assertUsageError(() => parseSshTarget("u@[::1"), /'\[' without a closing '\]'/);
    assertUsageError(() => parseForwardTarget("[2001:db8::10"), /'\[' without a closing '\]'/);
    assertUsageError(() => parseShellTarget("::1]"), /'\]' without an opening '\['/);
    assertUsageError(() => parseSshTarget("u@a[b]"), /brackets only go around a whole IPv6 address/);
    assertUsageError(() => parseShellTarget(":"), /^invalid target ":": empty tag key before ':'$/);
    assertUsageError(() => parseShellTarget("tag:"), /^invalid target "tag:": empty tag value after ':'$/);
    assertUsageError(() => parseForwardTarget("tag::80"), /empty tag value/);
    assertUsageError(() => parseShellTarget("[::1]:22"), /ssm shell takes no port/);
  });
});

describe("parseShellTarget", () => {
  for (const v of vectors.shell) {
    test(`vector ${JSON.stringify(v.in)}`, () => assert.equal(parseShellTarget(v.in), v.target));
  }
  for (const v of vectors.shell_invalid) {
    test(`invalid ${JSON.stringify(v.in)} (${v.why})`, () => {
      assertUsageError(() => parseShellTarget(v.in));
    });
  }
  test("returns the target as given", () => {
    for (const t of ["i-0123456789abcdef0", "Name:web", "10.0.0.5", "web.example.com", "2001:db8::1"]) {
      assert.equal(parseShellTarget(t), t);
    }
  });
  test("drops brackets around an IPv6 address", () => {
    assert.equal(parseShellTarget("[2001:db8::1]"), "2001:db8::1");
  });
  test("rejects blank targets", () => {
    assertUsageError(() => parseShellTarget(""), /^empty target$/);
    assertUsageError(() => parseShellTarget("   "), /^empty target$/);
  });
});

describe("isInstanceId", () => {
  for (const s of vectors.instanceId.match) {
    test(`matches ${JSON.stringify(s)}`, () => assert.equal(isInstanceId(s), true));
  }
  for (const s of vectors.instanceId.no_match) {
    test(`does not match ${JSON.stringify(s)}`, () => assert.equal(isInstanceId(s), false));
  }
});

describe("isPrivateAddress", () => {
  for (const ip of vectors.privateAddress.private) {
    test(`${ip} is private`, () => assert.equal(isPrivateAddress(ip), true));
  }
  for (const ip of vectors.privateAddress.public) {
    test(`${ip} is public`, () => assert.equal(isPrivateAddress(ip), false));
  }
  test("IPv6: unique-local, link-local and loopback are private; global unicast is public", () => {
    for (const ip of ["fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "::1", "::ffff:10.1.2.3"]) {
      assert.equal(isPrivateAddress(ip), true, ip);
    }
    for (const ip of ["2001:db8::1", "2600:1f18::5", "fec0::1", "fbff::1", "::ffff:8.8.8.8"]) {
      assert.equal(isPrivateAddress(ip), false, ip);
    }
  });
  test("non-addresses are not private", () => {
    for (const s of ["", "web", "10.0.0.300", "10.0.0"]) assert.equal(isPrivateAddress(s), false, s);
  });
});

describe("properties", () => {
  const onlyUsageErrors = (parse: (s: string) => unknown) => (s: string) => {
    try {
      parse(s);
    } catch (error) {
      assert.ok(error instanceof UsageError, `unexpected ${String(error)} for ${JSON.stringify(s)}`);
    }
  };
  // Strings built from the characters that matter to the grammar hit the edge cases more often.
  const grammarish = fc
    .array(
      fc.constantFrom("a", "Z", "0", "1", "9", ":", "@", "[", "]", "-", ".", " ", "i-", "65535", "65536"),
      {
        maxLength: 12,
      },
    )
    .map((parts) => parts.join(""));
  const anyInput = fc.oneof(fc.string(), fc.string({ unit: "binary" }), grammarish);

  test("parsers throw nothing but UsageError", () => {
    fc.assert(fc.property(anyInput, onlyUsageErrors(parseSshTarget)), { numRuns: 2000 });
    fc.assert(fc.property(anyInput, onlyUsageErrors(parseForwardTarget)), { numRuns: 2000 });
    fc.assert(fc.property(anyInput, onlyUsageErrors(parseShellTarget)), { numRuns: 2000 });
  });

  const port = fc.integer({ min: 1, max: 65535 });
  const user = fc.string({ minLength: 1 }).filter((u) => !u.includes("@") && u.trim() !== "");
  const host = fc
    .oneof(
      fc.stringMatching(/^m?i-[0-9a-f]{8,17}$/),
      fc.string({ minLength: 1 }),
      grammarish,
      fc.ipV4(),
      fc.ipV6(),
      fc.domain(),
    )
    // Only hosts that are a valid target by themselves (no brackets, tags with key and value).
    .filter((h) => {
      try {
        return h.trim() !== "" && parseShellTarget(h) === h;
      } catch {
        return false;
      }
    });

  test("ssh specs built with formatSshTarget read back the same", () => {
    fc.assert(
      fc.property(user, host, port, (u, h, p) => {
        // "1:" + ":22" reads as the IPv6 literal "1::22": such hosts cannot be written with a port.
        fc.pre(isIPv6(h) || !isIPv6(`${h}:${p}`));
        assert.deepEqual(parseSshTarget(formatSshTarget({ user: u, host: h, port: p })), {
          user: u,
          host: h,
          port: p,
        });
      }),
      { numRuns: 2000 },
    );
  });

  test("forward specs built with formatForwardTarget read back the same", () => {
    fc.assert(
      fc.property(host, port, (h, p) => {
        fc.pre(isIPv6(h) || !isIPv6(`${h}:${p}`));
        assert.deepEqual(parseForwardTarget(formatForwardTarget({ target: h, port: p })), {
          target: h,
          port: p,
        });
      }),
      { numRuns: 2000 },
    );
  });
});
