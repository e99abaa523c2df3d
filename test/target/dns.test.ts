import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UsageError } from "@aws-runas/wire/errors.js";
import {
  createDnsLookupFromEnv,
  DNS_SERVERS_ENV,
  parseDnsServers,
} from "../../packages/aws-runas/src/target/dns.js";
import { startDnsServer } from "../../packages/emulator/src/dns/server.js";

describe("parseDnsServers", () => {
  const valid: [string, string[]][] = [
    ["127.0.0.1", ["127.0.0.1"]],
    ["127.0.0.1:5353", ["127.0.0.1:5353"]],
    [" 10.0.0.2:53 , 10.0.0.3 ", ["10.0.0.2:53", "10.0.0.3"]],
    ["[::1]:53", ["[::1]:53"]],
    ["[2001:db8::53]", ["2001:db8::53"]],
    ["::1", ["::1"]],
    ["fd00::53,127.0.0.1:1053", ["fd00::53", "127.0.0.1:1053"]],
  ];
  for (const [text, servers] of valid) {
    test(`reads ${JSON.stringify(text)}`, () => assert.deepEqual(parseDnsServers(text), servers));
  }

  const invalid: [string, RegExp][] = [
    ["", /no server given/],
    [" , ", /no server given/],
    ["127.0.0.1,,10.0.0.1", /empty entry/],
    ["dns.example.com", /"dns.example.com": not an IP address/],
    ["dns.example.com:53", /not an IP address/],
    ["127.0.0.1:0", /port "0" must be 1-65535/],
    ["127.0.0.1:65536", /port "65536" must be 1-65535/],
    ["127.0.0.1:dns", /port "dns" must be 1-65535/],
    ["127.0.0.1:", /port "" must be 1-65535/],
    ["[127.0.0.1]:53", /is not an IPv6 address/],
    ["[::1]:x", /port "x"/],
    ["2001:db8::53:dns", /put an IPv6 address with a port in brackets/],
    ["10.0.0.300", /not an IP address/],
  ];
  for (const [text, message] of invalid) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parseDnsServers(text),
        (error: unknown) => {
          assert.ok(error instanceof UsageError);
          assert.match(error.message, /^invalid RUNAS_DNS_SERVERS entry /);
          assert.match(error.message, message);
          assert.match(error.hint ?? "", /\[::1\]:53/);
          return true;
        },
      );
    });
  }
});

describe("createDnsLookupFromEnv", () => {
  test("uses the servers named in RUNAS_DNS_SERVERS", async (t) => {
    const server = await startDnsServer({
      records: [{ name: "only.here.test", type: "A", value: "192.0.2.7" }],
    });
    t.after(() => server.close());
    const lookup = createDnsLookupFromEnv({ [DNS_SERVERS_ENV]: `127.0.0.1:${server.port}` });
    assert.deepEqual(await lookup.resolve4("only.here.test"), ["192.0.2.7"]);
  });

  test("a bad value is a usage error at creation", () => {
    assert.throws(() => createDnsLookupFromEnv({ [DNS_SERVERS_ENV]: "nope" }), UsageError);
  });

  test("unset or blank means the system resolver", () => {
    assert.ok(createDnsLookupFromEnv({}));
    assert.ok(createDnsLookupFromEnv({ [DNS_SERVERS_ENV]: "  " }));
  });
});
