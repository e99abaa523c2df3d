import assert from "node:assert/strict";
import { isIP } from "node:net";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  AuthMethod,
  type ConnectRequest,
  encodeConnectRequest,
  encodeMethodSelection,
  encodeReply,
  formatIpv6,
  parseGreeting,
  parseIpv6,
  parseRequest,
  Reply,
} from "../../packages/aws-runas/src/socks/codec.js";

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex");

describe("SOCKS5 greeting", () => {
  test("no-auth offered among others; bytes after it are not consumed", () => {
    assert.deepEqual(parseGreeting(hex("05 02 00 02 ff")), {
      kind: "ok",
      value: { methods: [0, 2] },
      consumed: 4,
    });
  });
  test("incomplete until every method byte is there", () => {
    for (const prefix of ["", "05", "05 03", "05 03 00 01"]) {
      assert.deepEqual(parseGreeting(hex(prefix)), { kind: "incomplete" }, prefix);
    }
  });
  test("SOCKS4, other protocols and an empty method list are errors", () => {
    assert.match((parseGreeting(hex("04 01 00 50")) as { message: string }).message, /SOCKS4/);
    assert.match(
      (parseGreeting(Buffer.from("GET / HTTP/1.1")) as { message: string }).message,
      /not a SOCKS/,
    );
    assert.equal(parseGreeting(hex("05 00")).kind, "error");
  });
  test("method selection", () => {
    assert.deepEqual(encodeMethodSelection(AuthMethod.none), hex("05 00"));
    assert.deepEqual(encodeMethodSelection(AuthMethod.noAcceptable), hex("05 ff"));
  });
});

describe("SOCKS5 CONNECT request", () => {
  const cases: Array<[string, string, ConnectRequest]> = [
    ["IPv4", "05 01 00 01 0a000005 1f90", { command: 1, type: "ipv4", host: "10.0.0.5", port: 8080 }],
    [
      "domain",
      `05 01 00 03 0b ${Buffer.from("db.internal").toString("hex")} 1538`,
      { command: 1, type: "domain", host: "db.internal", port: 5432 },
    ],
    [
      "IPv6 (RFC 5952 text)",
      "05 01 00 04 20010db8000000000000000000000001 01bb",
      { command: 1, type: "ipv6", host: "2001:db8::1", port: 443 },
    ],
    [
      "IPv6 loopback",
      "05 01 00 04 00000000000000000000000000000001 0050",
      { command: 1, type: "ipv6", host: "::1", port: 80 },
    ],
  ];
  for (const [name, bytes, expected] of cases) {
    test(name, () => {
      const buf = Buffer.concat([hex(bytes), Buffer.from("early data")]);
      const parsed = parseRequest(buf);
      assert.deepEqual(parsed, { kind: "ok", value: expected, consumed: hex(bytes).length });
      for (let cut = 0; cut < hex(bytes).length; cut++) {
        assert.deepEqual(
          parseRequest(hex(bytes).subarray(0, cut)),
          { kind: "incomplete" },
          `first ${cut} bytes`,
        );
      }
    });
  }

  const errors: Array<[string, string, number | undefined]> = [
    ["BIND is not supported (reply 7)", "05 02 00 01 7f000001 0050", Reply.commandNotSupported],
    ["UDP ASSOCIATE is not supported (reply 7)", "05 03 00 01 00000000 0000", Reply.commandNotSupported],
    ["unknown address type (reply 8)", "05 01 00 05 7f000001 0050", Reply.addressTypeNotSupported],
    ["empty domain name (reply 4)", "05 01 00 03 00 0050", Reply.hostUnreachable],
    ["control characters in a name (reply 4)", "05 01 00 03 03 610a62 0050", Reply.hostUnreachable],
    ["port 0 (reply 4)", "05 01 00 01 7f000001 0000", Reply.hostUnreachable],
    ["wrong version (no reply)", "04 01 0050 7f000001 00", undefined],
  ];
  for (const [name, bytes, reply] of errors) {
    test(name, () => {
      const parsed = parseRequest(hex(bytes));
      assert.equal(parsed.kind, "error");
      assert.equal((parsed as { reply?: number }).reply, reply);
    });
  }

  const hostArb = fc.oneof(
    fc.ipV4().map((host) => ({ type: "ipv4" as const, host })),
    fc.ipV6().map((host) => ({ type: "ipv6" as const, host: formatIpv6(parseIpv6(host)!) })),
    fc.domain().map((host) => ({ type: "domain" as const, host })),
  );

  test("property: every encoded CONNECT parses back to itself, with any trailing bytes left over", () => {
    fc.assert(
      fc.property(
        hostArb,
        fc.integer({ min: 1, max: 65535 }),
        fc.uint8Array({ maxLength: 40 }),
        (dest, port, tail) => {
          const encoded = encodeConnectRequest({ ...dest, port });
          const parsed = parseRequest(Buffer.concat([encoded, tail]));
          assert.deepEqual(parsed, {
            kind: "ok",
            value: { command: 1, ...dest, port },
            consumed: encoded.length,
          });
        },
      ),
    );
  });

  test("property: any prefix of a request is incomplete, never a wrong answer", () => {
    fc.assert(
      fc.property(hostArb, fc.integer({ min: 1, max: 65535 }), fc.nat(), (dest, port, n) => {
        const encoded = encodeConnectRequest({ ...dest, port });
        const cut = n % encoded.length;
        assert.deepEqual(parseRequest(encoded.subarray(0, cut)), { kind: "incomplete" });
      }),
    );
  });

  test("property: arbitrary bytes never throw, and an ok result consumes only what it parsed", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, socks) => {
        const buf = Buffer.from(bytes);
        if (socks && buf.length > 0) buf[0] = 5;
        const parsed = parseRequest(buf);
        if (parsed.kind === "ok") {
          assert.ok(parsed.consumed <= buf.length);
          assert.ok(parsed.value.port >= 1 && parsed.value.port <= 65535);
          if (parsed.value.type !== "domain") assert.notEqual(isIP(parsed.value.host), 0);
          assert.equal(parsed.value.command, 1);
        }
        if (parsed.kind === "error" && parsed.reply !== undefined) {
          assert.ok(parsed.reply >= 1 && parsed.reply <= 8);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("SOCKS5 reply and IPv6 text", () => {
  test("reply with the default bound address and with IPv4 / IPv6 ones", () => {
    assert.deepEqual(encodeReply(Reply.succeeded), hex("05 00 00 01 00000000 0000"));
    assert.deepEqual(encodeReply(Reply.connectionRefused), hex("05 05 00 01 00000000 0000"));
    assert.deepEqual(
      encodeReply(Reply.succeeded, { host: "127.0.0.1", port: 1080 }),
      hex("05 00 00 01 7f000001 0438"),
    );
    assert.deepEqual(
      encodeReply(Reply.hostUnreachable, { host: "::1", port: 80 }),
      hex("05 04 00 04 00000000000000000000000000000001 0050"),
    );
  });

  test("RFC 5952: longest zero run compressed, a single zero group not, lower case", () => {
    const cases: Array<[string, string]> = [
      ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
      ["2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["2001:db8:1:1:1:1:0:1", "2001:db8:1:1:1:1:0:1"],
      ["::", "::"],
      ["::ffff:10.0.0.1", "::ffff:a00:1"],
      ["fe80::", "fe80::"],
    ];
    for (const [input, expected] of cases) assert.equal(formatIpv6(parseIpv6(input)!), expected, input);
    for (const bad of [
      "1::2::3",
      "12345::",
      ":::",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "::1.2.3.256",
      "g::1",
    ]) {
      assert.equal(parseIpv6(bad), undefined, bad);
    }
  });

  test("property: parseIpv6 agrees with node on every IPv6 address fast-check makes", () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const bytes = parseIpv6(text);
        assert.ok(bytes, text);
        const formatted = formatIpv6(bytes);
        assert.equal(isIP(formatted), 6);
        assert.deepEqual(parseIpv6(formatted), bytes);
      }),
    );
  });
});
