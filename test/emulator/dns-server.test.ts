import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { Resolver } from "node:dns/promises";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import dnsPacket from "dns-packet";
import { DNS_TTL, type DnsRecord } from "../../src/emulator/dns/records.js";
import { type DnsServer, startDnsServer } from "../../src/emulator/dns/server.js";
import { RunasError } from "../../src/errors.js";

// Longer than one 255-byte character-string, yet the answer still fits one 512-byte datagram.
const LONG_TXT = `v=${"x".repeat(300)}`;
const records: DnsRecord[] = [
  { name: "web.emu.internal", type: "A", value: "203.0.113.10" },
  { name: "web.emu.internal", type: "A", value: "203.0.113.11" },
  { name: "v6.emu.internal", type: "AAAA", value: "2001:db8::10", ttl: 300 },
  { name: "Id.Emu.Internal.", type: "TXT", value: "i-0123456789abcdef0" },
  { name: "id.emu.internal", type: "TXT", value: "owner=ops" },
  { name: "long.emu.internal", type: "TXT", value: LONG_TXT },
  ...Array.from({ length: 40 }, (_, i) => ({
    name: "big.emu.internal",
    type: "TXT" as const,
    value: `record-${i}`,
  })),
];

describe("emulator DNS server", () => {
  let server: DnsServer;
  let resolver: Resolver;
  before(async () => {
    server = await startDnsServer({ records });
    resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([`127.0.0.1:${server.port}`]);
  });
  after(() => server.close());

  test("answers A with every address of the name", async () => {
    assert.deepEqual((await resolver.resolve4("web.emu.internal")).sort(), ["203.0.113.10", "203.0.113.11"]);
  });

  test("answers AAAA, with the record's TTL or the default", async () => {
    assert.deepEqual(await resolver.resolve6("v6.emu.internal", { ttl: true }), [
      { address: "2001:db8::10", ttl: 300 },
    ]);
    const [first] = await resolver.resolve4("web.emu.internal", { ttl: true });
    assert.equal(first?.ttl, DNS_TTL);
  });

  test("answers TXT, matching names case-insensitively and without the trailing dot", async () => {
    const txt = (await resolver.resolveTxt("ID.emu.internal")).map((chunks) => chunks.join(""));
    assert.deepEqual(txt.sort(), ["i-0123456789abcdef0", "owner=ops"]);
  });

  test("splits TXT text longer than 255 bytes into character-strings", async () => {
    const [record] = await resolver.resolveTxt("long.emu.internal");
    assert.ok(record);
    assert.ok(record.length > 1);
    assert.ok(record.every((chunk) => Buffer.byteLength(chunk) <= 255));
    assert.equal(record.join(""), LONG_TXT);
  });

  test("unknown names are NXDOMAIN", async () => {
    await assert.rejects(resolver.resolve4("nope.emu.internal"), { code: "ENOTFOUND" });
  });

  test("a known name without the asked type is an empty NOERROR answer", async () => {
    await assert.rejects(resolver.resolveTxt("web.emu.internal"), { code: "ENODATA" });
    await assert.rejects(resolver.resolve4("v6.emu.internal"), { code: "ENODATA" });
  });

  test("raw queries: NXDOMAIN rcode, authoritative flag, FORMERR for garbage, TC when too big", async (t) => {
    const socket = createSocket("udp4");
    t.after(() => socket.close());
    socket.bind(0, "127.0.0.1");
    await once(socket, "listening");
    const ask = async (message: Buffer) => {
      const reply = once(socket, "message");
      socket.send(message, server.port, "127.0.0.1");
      const [data] = (await reply) as [Buffer];
      return dnsPacket.decode(data) as ReturnType<typeof dnsPacket.decode> & { rcode: string };
    };
    const query = (id: number, name: string, type: "A" | "TXT") =>
      dnsPacket.encode({
        type: "query",
        id,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ name, type }],
      });

    const missing = await ask(query(7, "nope.emu.internal", "A"));
    assert.equal(missing.id, 7);
    assert.equal(missing.rcode, "NXDOMAIN");
    assert.equal(missing.flag_aa, true);

    const found = await ask(query(8, "web.emu.internal", "A"));
    assert.equal(found.rcode, "NOERROR");
    assert.equal(found.answers?.length, 2);

    const garbage = Buffer.alloc(14, 0xff);
    garbage.writeUInt16BE(9, 0);
    garbage.writeUInt16BE(0x0100, 2); // a query header whose question runs off the end
    const formErr = await ask(garbage);
    assert.equal(formErr.id, 9);
    assert.equal(formErr.rcode, "FORMERR");

    const big = await ask(query(10, "big.emu.internal", "TXT"));
    assert.equal(big.flag_tc, true);
    assert.equal(big.answers?.length, 0);
  });

  test("close is idempotent", async () => {
    const other = await startDnsServer({ records: [] });
    await Promise.all([other.close(), other.close()]);
    await other.close();
  });
});

describe("record validation", () => {
  const bad: [string, DnsRecord][] = [
    ["A with an IPv6 value", { name: "a.x", type: "A", value: "::1" }],
    ["AAAA with an IPv4 value", { name: "a.x", type: "AAAA", value: "10.0.0.1" }],
    ["empty name", { name: ".", type: "TXT", value: "i-0123456789abcdef0" }],
    ["unknown type", { name: "a.x", type: "MX" as "A", value: "mail.x" }],
    ["negative TTL", { name: "a.x", type: "A", value: "10.0.0.1", ttl: -1 }],
  ];
  for (const [what, record] of bad) {
    test(`rejects ${what}`, async () => {
      await assert.rejects(startDnsServer({ records: [record] }), (error: unknown) => {
        assert.ok(error instanceof RunasError);
        assert.match(error.message, /^DNS record 0 /);
        return true;
      });
    });
  }
});
