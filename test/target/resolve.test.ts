import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { UsageError } from "@aws-runas/wire/errors.js";
import { createLogger } from "@aws-runas/wire/log.js";
import { EC2ServiceException } from "@aws-sdk/client-ec2";
import { rankMatches } from "../../packages/aws-runas/src/target/choose.js";
import {
  createAwsLookups,
  createDnsLookup,
  type DnsLookup,
  type ResolveContext,
  resolveTarget,
  TargetNotFoundError,
} from "../../packages/aws-runas/src/target/index.js";
import type { DnsRecord } from "../../packages/emulator/src/dns/records.js";
import { type DnsServer, startDnsServer } from "../../packages/emulator/src/dns/server.js";
import { clientError, FakeEc2, type FakeInstance, FakeSsm, ssmError } from "./fake-aws.js";

const id = (n: number) => `i-${n.toString(16).padStart(17, "0")}`;
const day = (iso: string) => new Date(`${iso}T00:00:00Z`);

const WEB = id(0xa01);
const WEB_STOPPED = id(0xa02);
const DB = id(0xb01);
const V6 = id(0xc01);
const APP_OLD_ONLINE = id(0xd01);
const APP_NEWEST_LOST = id(0xd02);
const APP_NEW_ONLINE = id(0xd03);
const TWIN_B = id(0xe02);
const TWIN_A = id(0xe01);
const TXT_TARGET = id(0xf01);
const TXT_STOPPED = id(0xf02);
const LAST = id(0x1001);
const MANAGED = "mi-0123456789abcdef0";

const instances: FakeInstance[] = [
  {
    id: WEB,
    state: "running",
    launchTime: day("2024-01-01"),
    tags: { Name: "web", env: "production" },
    publicIp: "203.0.113.10",
    privateIp: "10.0.1.10",
  },
  {
    id: WEB_STOPPED,
    state: "stopped",
    launchTime: day("2024-02-01"),
    tags: { Name: "web", env: "prod-old" },
    privateIp: "10.0.1.11",
  },
  { id: DB, state: "running", launchTime: day("2024-01-02"), tags: { Name: "db" }, privateIp: "10.0.2.20" },
  {
    id: V6,
    state: "running",
    launchTime: day("2024-01-03"),
    tags: { Name: "v6" },
    privateIp: "10.0.3.30",
    ipv6: ["2001:db8::10"],
  },
  {
    id: APP_OLD_ONLINE,
    state: "running",
    launchTime: day("2024-01-01"),
    tags: { Name: "app" },
    ping: "Online",
  },
  {
    id: APP_NEWEST_LOST,
    state: "running",
    launchTime: day("2024-06-01"),
    tags: { Name: "app" },
    ping: "ConnectionLost",
  },
  {
    id: APP_NEW_ONLINE,
    state: "running",
    launchTime: day("2024-03-01"),
    tags: { Name: "app" },
    ping: "Online",
  },
  { id: TWIN_B, state: "running", launchTime: day("2024-04-04"), tags: { Name: "twin" } },
  { id: TWIN_A, state: "running", launchTime: day("2024-04-04"), tags: { Name: "twin" } },
  { id: TXT_TARGET, state: "running", launchTime: day("2024-01-05"), tags: { Name: "txt" } },
  { id: TXT_STOPPED, state: "stopped", launchTime: day("2024-01-05"), tags: { Name: "old" } },
  ...Array.from(
    { length: 12 },
    (_, i): FakeInstance => ({
      id: id(0x2000 + i),
      state: "running",
      launchTime: day("2023-01-01"),
      tags: { Name: `filler-${i}` },
    }),
  ),
  { id: LAST, state: "running", launchTime: day("2024-01-06"), tags: { Name: "last" } },
];

const records: DnsRecord[] = [
  { name: "web.emu.internal", type: "A", value: "203.0.113.10" },
  { name: "web.emu.internal", type: "A", value: "10.0.1.10" },
  { name: "db.emu.internal", type: "A", value: "10.0.2.20" },
  { name: "v6.emu.internal", type: "AAAA", value: "2001:db8::10" },
  { name: "gone.emu.internal", type: "A", value: "198.51.100.99" },
  { name: "txt.emu.internal", type: "TXT", value: "owner=ops" },
  { name: "txt.emu.internal", type: "TXT", value: TXT_TARGET },
  { name: "managed.emu.internal", type: "TXT", value: MANAGED },
  { name: "noid.emu.internal", type: "TXT", value: "hello world" },
  { name: "stopped.emu.internal", type: "TXT", value: TXT_STOPPED },
  { name: "gone-id.emu.internal", type: "TXT", value: id(0xdead) },
  // Twenty-odd records: the answer is over 512 bytes, so it only arrives over TCP (after TC).
  ...Array.from({ length: 24 }, (_, i) => ({
    name: "big-txt.emu.internal",
    type: "TXT" as const,
    value: `v=verification-token-${i}`,
  })),
  { name: "big-txt.emu.internal", type: "TXT", value: TXT_TARGET },
];

let dnsServer: DnsServer;
before(async () => {
  dnsServer = await startDnsServer({ records });
});
after(() => dnsServer.close());

interface Harness {
  ctx: ResolveContext;
  ec2: FakeEc2;
  ssm: FakeSsm;
  warnings: string[];
  dnsQueries: string[];
}

/** A context on fresh fakes (page cap 3, so most lookups read several pages) and the real DNS server. */
function harness(dnsServers = `127.0.0.1:${dnsServer.port}`): Harness {
  const ec2 = new FakeEc2(instances, 3);
  const ssm = new FakeSsm(instances, 2);
  const lines: string[] = [];
  const dnsQueries: string[] = [];
  const real = createDnsLookup({ servers: dnsServers, timeoutMs: 2000, tries: 1 });
  const counted =
    <T>(type: string, query: (name: string) => Promise<T>) =>
    (name: string): Promise<T> => {
      dnsQueries.push(`${type} ${name}`);
      return query(name);
    };
  const dns: DnsLookup = {
    resolve4: counted("A", (name) => real.resolve4(name)),
    resolve6: counted("AAAA", (name) => real.resolve6(name)),
    resolveTxt: counted("TXT", (name) => real.resolveTxt(name)),
  };
  const logger = createLogger(0, (line) => lines.push(line));
  const ctx: ResolveContext = { ...createAwsLookups({ ec2, ssm }), dns, logger };
  return { ctx, ec2, ssm, warnings: lines, dnsQueries };
}

/** The filter names (besides the running-state one) each DescribeInstances call used. */
function filtersUsed(ec2: FakeEc2): string[] {
  const names = ec2.calls.flatMap((call) =>
    call.NextToken ? [] : (call.Filters ?? []).map((f) => f.Name ?? ""),
  );
  return names.filter((name) => name !== "instance-state-name");
}

async function notFound(target: string, h = harness()): Promise<string> {
  let message = "";
  await assert.rejects(resolveTarget(target, h.ctx), (error: unknown) => {
    assert.ok(error instanceof TargetNotFoundError, `expected TargetNotFoundError, got ${String(error)}`);
    assert.ok(!error.message.includes("\n"));
    message = error.message;
    return true;
  });
  return message;
}

describe("resolveTarget", () => {
  test("an instance id is used as is: no AWS call, no DNS query", async () => {
    const h = harness();
    assert.deepEqual(await resolveTarget("i-0123456789abcdef0", h.ctx), {
      instanceId: "i-0123456789abcdef0",
      via: "instance id",
      others: [],
    });
    assert.deepEqual(await resolveTarget(MANAGED, h.ctx), {
      instanceId: MANAGED,
      via: "instance id",
      others: [],
    });
    assert.equal(h.ec2.calls.length, 0);
    assert.equal(h.ssm.calls.length, 0);
    assert.deepEqual(h.dnsQueries, []);
  });

  test("tag Name:web finds the running instance, never the stopped one", async () => {
    const h = harness();
    const resolved = await resolveTarget("Name:web", h.ctx);
    assert.deepEqual(resolved, { instanceId: WEB, via: "tag Name=web", others: [] });
    assert.deepEqual(h.warnings, []);
    const first = h.ec2.calls[0]!;
    assert.deepEqual(first.Filters, [
      { Name: "tag:Name", Values: ["web"] },
      { Name: "instance-state-name", Values: ["running"] },
    ]);
    assert.deepEqual(h.dnsQueries, []);
  });

  test("tag values take EC2 wildcards", async () => {
    assert.equal((await resolveTarget("env:prod*", harness().ctx)).instanceId, WEB);
    assert.equal((await resolveTarget("Name:w?b", harness().ctx)).instanceId, WEB);
  });

  test("a tag with only stopped instances matches nothing", async () => {
    const message = await notFound("Name:old");
    assert.equal(
      message,
      'no instance matches "Name:old" (tag Name=old: 0 running; not an IP address; DNS: not a host name; DNS TXT: not a host name)',
    );
  });

  test("private IP literal searches private-ip-address", async () => {
    const h = harness();
    const resolved = await resolveTarget("10.0.2.20", h.ctx);
    assert.deepEqual(resolved, { instanceId: DB, via: "private IP 10.0.2.20", others: [] });
    assert.deepEqual(filtersUsed(h.ec2), ["private-ip-address"]);
    assert.deepEqual(h.dnsQueries, []);
  });

  test("public IP literal searches ip-address", async () => {
    const h = harness();
    assert.equal((await resolveTarget("203.0.113.10", h.ctx)).instanceId, WEB);
    assert.deepEqual(filtersUsed(h.ec2), ["ip-address"]);
  });

  test("IPv6 literal searches the instances' IPv6 addresses (not as a tag)", async () => {
    const h = harness();
    assert.equal((await resolveTarget("2001:db8::10", h.ctx)).instanceId, V6);
    assert.deepEqual(filtersUsed(h.ec2), ["network-interface.ipv6-addresses.ipv6-address"]);
  });

  test("the IP of a stopped instance matches nothing", async () => {
    assert.equal(
      await notFound("10.0.1.11"),
      'no instance matches "10.0.1.11" (private IP 10.0.1.11: 0 running)',
    );
  });

  test("DNS A name with a public and a private address searches the public one only", async () => {
    const h = harness();
    const resolved = await resolveTarget("web.emu.internal", h.ctx);
    assert.deepEqual(resolved, {
      instanceId: WEB,
      via: "DNS web.emu.internal -> public IP 203.0.113.10",
      others: [],
    });
    assert.deepEqual(filtersUsed(h.ec2), ["ip-address"]);
    assert.deepEqual(h.ec2.calls[0]!.Filters![0], { Name: "ip-address", Values: ["203.0.113.10"] });
  });

  test("DNS A name with only private addresses searches private-ip-address", async () => {
    const h = harness();
    assert.equal((await resolveTarget("db.emu.internal", h.ctx)).instanceId, DB);
    assert.deepEqual(filtersUsed(h.ec2), ["private-ip-address"]);
  });

  test("DNS AAAA name", async () => {
    const h = harness();
    const resolved = await resolveTarget("v6.emu.internal", h.ctx);
    assert.equal(resolved.instanceId, V6);
    assert.equal(resolved.via, "DNS v6.emu.internal -> public IP 2001:db8::10");
  });

  test("DNS TXT holding an i- id is checked to be running", async () => {
    const h = harness();
    const resolved = await resolveTarget("txt.emu.internal", h.ctx);
    assert.deepEqual(resolved, {
      instanceId: TXT_TARGET,
      via: `DNS TXT txt.emu.internal -> ${TXT_TARGET}`,
      others: [],
    });
    assert.deepEqual(h.ec2.calls.at(-1)!.Filters![0], { Name: "instance-id", Values: [TXT_TARGET] });
  });

  test("DNS TXT answer over 512 bytes (truncated on UDP) arrives over TCP and resolves", async () => {
    const resolved = await resolveTarget("big-txt.emu.internal", harness().ctx);
    assert.equal(resolved.instanceId, TXT_TARGET);
    assert.equal(resolved.via, `DNS TXT big-txt.emu.internal -> ${TXT_TARGET}`);
  });

  test("DNS TXT holding a mi- id needs no EC2 call", async () => {
    const h = harness();
    assert.equal((await resolveTarget("managed.emu.internal", h.ctx)).instanceId, MANAGED);
    assert.equal(h.ec2.calls.length, 0);
  });

  test("DNS TXT naming a stopped instance matches nothing, and says it is stopped", async () => {
    const message = await notFound("stopped.emu.internal");
    assert.match(message, new RegExp(`DNS TXT stopped\\.emu\\.internal -> ${TXT_STOPPED}: stopped\\)$`));
  });

  test("DNS TXT naming an instance the account does not have says so, not 'not running'", async () => {
    const message = await notFound("gone-id.emu.internal");
    assert.match(
      message,
      new RegExp(`DNS TXT gone-id\\.emu\\.internal -> ${id(0xdead)}: no such instance\\)$`),
    );
  });

  test("several matches: Online agents first, then the newest; one warning naming the others", async () => {
    const h = harness();
    const resolved = await resolveTarget("Name:app", h.ctx);
    assert.equal(resolved.instanceId, APP_NEW_ONLINE);
    assert.deepEqual(resolved.others, [APP_OLD_ONLINE, APP_NEWEST_LOST]);
    assert.equal(h.warnings.length, 1);
    assert.equal(
      h.warnings[0],
      `warning: "Name:app" matches 3 running instances; using ${APP_NEW_ONLINE} ` +
        `(SSM agent Online, launched 2024-03-01T00:00:00.000Z); others: ${APP_OLD_ONLINE}, ${APP_NEWEST_LOST}`,
    );
    // The agent status was read for exactly the matches, across pages (page cap 2).
    assert.ok(h.ssm.calls.length > 1);
    assert.deepEqual(h.ssm.calls[0]!.Filters, [
      { Key: "InstanceIds", Values: [APP_OLD_ONLINE, APP_NEWEST_LOST, APP_NEW_ONLINE] },
    ]);
  });

  test("several matches with equal rank: the lowest instance id, every time", async () => {
    for (let run = 0; run < 3; run++) {
      const h = harness();
      const resolved = await resolveTarget("Name:twin", h.ctx);
      assert.equal(resolved.instanceId, TWIN_A);
      assert.deepEqual(resolved.others, [TWIN_B]);
      assert.equal(h.warnings.length, 1);
    }
  });

  test("when agent status cannot be read, the newest launch wins", async () => {
    const h = harness();
    h.ssm.failWith = ssmError("AccessDeniedException", "not allowed");
    const resolved = await resolveTarget("Name:app", h.ctx);
    assert.equal(resolved.instanceId, APP_NEWEST_LOST);
    assert.equal(h.warnings.length, 1);
    assert.match(h.warnings[0]!, /SSM agent status unknown/);
  });

  test("reads every page of DescribeInstances, including empty ones", async () => {
    const h = harness();
    assert.equal((await resolveTarget("Name:last", h.ctx)).instanceId, LAST);
    const pages = Math.ceil(instances.length / 3);
    assert.equal(h.ec2.calls.length, pages);
    assert.ok(h.ec2.calls.slice(1).every((call) => call.NextToken));
    assert.ok(h.ec2.calls.every((call) => call.MaxResults === 1000));
  });

  test("unknown tag: one line saying what each step tried", async () => {
    assert.equal(
      await notFound("web:prod"),
      'no instance matches "web:prod" (tag web=prod: 0 running; not an IP address; DNS: not a host name; DNS TXT: not a host name)',
    );
  });

  test("unresolvable name", async () => {
    assert.equal(
      await notFound("nowhere.emu.internal"),
      'no instance matches "nowhere.emu.internal" (not a tag key:value; not an IP address; DNS: no A/AAAA record; DNS TXT: no record)',
    );
  });

  test("a name whose address belongs to no instance", async () => {
    assert.equal(
      await notFound("gone.emu.internal"),
      'no instance matches "gone.emu.internal" (not a tag key:value; not an IP address; ' +
        "DNS gone.emu.internal -> public IP 198.51.100.99: 0 running; DNS TXT: no record)",
    );
  });

  test("TXT without an instance id", async () => {
    assert.equal(
      await notFound("noid.emu.internal"),
      'no instance matches "noid.emu.internal" (not a tag key:value; not an IP address; DNS: no A/AAAA record; DNS TXT: no instance id in 1 record)',
    );
  });

  test("malformed IP address", async () => {
    const h = harness();
    assert.equal(
      await notFound("10.0.0.300", h),
      'no instance matches "10.0.0.300" (not a tag key:value; not a valid IP address; DNS: not a host name; DNS TXT: not a host name)',
    );
    assert.deepEqual(h.dnsQueries, []);
  });

  test("a DNS server that does not answer is reported, not hidden", async () => {
    const closed = await startDnsServer({ records: [] });
    const port = closed.port;
    await closed.close();
    const h = harness(`127.0.0.1:${port}`);
    assert.match(
      await notFound("web.emu.internal", h),
      /DNS: lookup failed \(E[A-Z]+\); DNS TXT: lookup failed/,
    );
  });

  test("AccessDenied from EC2 surfaces as itself, not as not found", async () => {
    for (const target of ["Name:web", "10.0.2.20", "web.emu.internal", "txt.emu.internal"]) {
      const h = harness();
      const denied = clientError(
        EC2ServiceException,
        "AccessDenied",
        "User is not authorized to DescribeInstances",
      );
      h.ec2.failWith = denied;
      await assert.rejects(resolveTarget(target, h.ctx), (error: unknown) => {
        assert.equal(error, denied, `${target}: the SDK error itself`);
        return true;
      });
    }
  });

  test("ExpiredToken surfaces too", async () => {
    const h = harness();
    h.ec2.failWith = clientError(
      EC2ServiceException,
      "ExpiredToken",
      "The security token included in the request is expired",
    );
    await assert.rejects(resolveTarget("Name:web", h.ctx), { name: "ExpiredToken" });
  });

  test("an empty target is a usage error", async () => {
    await assert.rejects(resolveTarget(" ", harness().ctx), UsageError);
  });
});

describe("rankMatches", () => {
  test("Online first, then newest launch, then instance id; missing launch time last", () => {
    const statuses = new Map([
      ["i-3", "Online"],
      ["i-4", "Online"],
      ["i-1", "ConnectionLost"],
    ]);
    const ranked = rankMatches(
      [
        { instanceId: "i-1", launchTime: day("2024-09-01") },
        { instanceId: "i-2" },
        { instanceId: "i-4", launchTime: day("2024-01-01") },
        { instanceId: "i-3", launchTime: day("2024-01-01") },
        { instanceId: "i-5", launchTime: day("2024-05-01") },
      ],
      statuses,
    );
    assert.deepEqual(
      ranked.map((m) => m.instanceId),
      ["i-3", "i-4", "i-1", "i-5", "i-2"],
    );
  });
});
