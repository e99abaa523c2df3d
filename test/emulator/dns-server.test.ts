import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { Resolver } from "node:dns/promises";
import { once } from "node:events";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { RunasError } from "@aws-runas/wire/errors.js";
import dnsPacket from "dns-packet";
import { DNS_TTL, type DnsRecord, zoneApexes } from "../../packages/emulator/src/dns/records.js";
import { type DnsServer, startDnsServer } from "../../packages/emulator/src/dns/server.js";

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
    // Negative answers carry the zone's SOA (RFC 2308): resolvers cache them for its minimum.
    assert.deepEqual(
      missing.authorities?.map((a) => [a.type, a.name]),
      [["SOA", "emu.internal"]],
    );
    const noData = await ask(query(11, "web.emu.internal", "TXT"));
    assert.equal(noData.rcode, "NOERROR");
    assert.equal(noData.answers?.length, 0);
    assert.deepEqual(
      noData.authorities?.map((a) => a.type),
      ["SOA"],
    );
    const foreign = await ask(query(12, "www.example.com", "A"));
    assert.equal(foreign.rcode, "REFUSED");
    assert.equal(foreign.flag_aa, false);
    assert.equal(foreign.answers?.length, 0);

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

  test("a TXT answer over 512 bytes arrives through node's resolver (TC on UDP, then TCP)", async () => {
    const txt = (await resolver.resolveTxt("big.emu.internal")).map((chunks) => chunks.join(""));
    assert.equal(txt.length, 40);
    assert.deepEqual(txt.sort(), Array.from({ length: 40 }, (_, i) => `record-${i}`).sort());
  });

  test("DNS over TCP: length-prefixed queries on one connection, answered whole", async (t) => {
    const socket = connect(server.port, "127.0.0.1");
    t.after(() => socket.destroy());
    await once(socket, "connect");
    const frames: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const twoReplies = new Promise<void>((resolve) => {
      socket.on("data", (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          frames.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
          pending = pending.subarray(2 + pending.readUInt16BE(0));
        }
        if (frames.length === 2) resolve();
      });
    });
    // Both queries in one write, the second split from its length prefix by nothing.
    socket.write(
      Buffer.concat([
        dnsPacket.streamEncode({
          type: "query",
          id: 21,
          questions: [{ name: "big.emu.internal", type: "TXT" }],
        }),
        dnsPacket.streamEncode({
          type: "query",
          id: 22,
          questions: [{ name: "web.emu.internal", type: "A" }],
        }),
      ]),
    );
    await twoReplies;
    const [big, web] = frames.map(
      (f) => dnsPacket.decode(f) as ReturnType<typeof dnsPacket.decode> & { rcode: string },
    );
    assert.equal(big?.id, 21);
    assert.equal(big?.flag_tc, false);
    assert.equal(big?.answers?.length, 40);
    assert.ok((frames[0]?.length ?? 0) > 512);
    assert.equal(web?.id, 22);
    assert.equal(web?.answers?.length, 2);
  });

  test("names outside the zone are REFUSED, not an authoritative NXDOMAIN", async () => {
    await assert.rejects(resolver.resolve4("www.example.com"), { code: "EREFUSED" });
    await assert.rejects(resolver.resolveTxt("internal"), { code: "EREFUSED" });
  });

  test("node's resolver sees the zone's SOA", async () => {
    const soa = await resolver.resolveSoa("emu.internal");
    assert.equal(soa.nsname, "ns.emu.internal");
    assert.equal(soa.hostmaster, "hostmaster.emu.internal");
    assert.equal(soa.minttl, DNS_TTL);
  });

  test("close is idempotent", async () => {
    const other = await startDnsServer({ records: [] });
    await Promise.all([other.close(), other.close()]);
    await other.close();
  });
});

describe("dig against the server (a second, independent client)", { skip: digMissing() }, () => {
  let server: DnsServer;
  const dig = async (...args: string[]) =>
    (
      await promisify(execFile)("dig", [
        "@127.0.0.1",
        "-p",
        String(server.port),
        "+time=2",
        "+tries=1",
        ...args,
      ])
    ).stdout;
  before(async () => {
    server = await startDnsServer({ records });
  });
  after(() => server.close());

  test("dig +tcp answers", async () => {
    assert.deepEqual((await dig("+tcp", "+short", "web.emu.internal", "A")).trim().split("\n").sort(), [
      "203.0.113.10",
      "203.0.113.11",
    ]);
  });
  test("dig over UDP gets TC for a big answer and retries over TCP by itself", async () => {
    const truncated = await dig("+ignore", "+noedns", "big.emu.internal", "TXT");
    assert.match(truncated, /;; flags:[^;]*\btc\b/);
    const full = await dig("+noedns", "+short", "big.emu.internal", "TXT");
    assert.equal(full.trim().split("\n").length, 40);
  });
  test("dig: NXDOMAIN with the SOA in AUTHORITY, REFUSED outside the zone", async () => {
    const missing = await dig("nope.emu.internal", "A");
    assert.match(missing, /status: NXDOMAIN/);
    assert.match(
      missing,
      /;; AUTHORITY SECTION:\nemu\.internal\.\s+\d+\s+IN\s+SOA\s+ns\.emu\.internal\. hostmaster\.emu\.internal\./,
    );
    assert.match(await dig("www.example.com", "A"), /status: REFUSED/);
  });
});

function digMissing(): string | undefined {
  try {
    execFileSync("dig", ["-v"], { stdio: "ignore" });
    return undefined;
  } catch {
    return "dig is not installed";
  }
}

describe("zone apexes from the records", () => {
  const cases: [string[], string[]][] = [
    [["web.emu.internal", "db.emu.internal"], ["emu.internal"]],
    [["web.emu.internal"], ["emu.internal"]],
    [["emu.internal", "web.emu.internal"], ["emu.internal"]],
    [
      ["a.x", "b.y"],
      ["x", "y"],
    ],
    [["a.b.example", "c.example"], ["example"]],
    [[], []],
  ];
  for (const [names, apexes] of cases) {
    test(`${JSON.stringify(names)} -> ${JSON.stringify(apexes)}`, () =>
      assert.deepEqual(zoneApexes(names), apexes));
  }
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
