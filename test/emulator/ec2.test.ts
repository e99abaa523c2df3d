import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  EC2Client,
  paginateDescribeInstances,
} from "@aws-sdk/client-ec2";
import {
  ADDRESS,
  ALICE,
  BOB,
  FLEET_INSTANCE_IDS,
  FLEET_TAG,
  INSTANCE,
  type RunningEmulator,
} from "../../packages/emulator/src/index.js";
import { clientConfig, rejectsWith, startApiEmulator, type TestCredentials } from "./api-helpers.js";

describe("EC2 DescribeInstances", () => {
  let emu: RunningEmulator;
  let ec2: EC2Client;
  const extra: EC2Client[] = [];

  before(async () => {
    emu = await startApiEmulator();
    ec2 = new EC2Client(clientConfig(emu));
  });
  after(async () => {
    ec2.destroy();
    for (const c of extra) c.destroy();
    await emu.close();
  });

  const client = (credentials: TestCredentials) => {
    const c = new EC2Client(clientConfig(emu, credentials));
    extra.push(c);
    return c;
  };

  async function ids(input: DescribeInstancesCommandInput): Promise<string[]> {
    const out = await ec2.send(new DescribeInstancesCommand(input));
    return (out.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId ?? "")).sort();
  }

  test("the SDK parses every field the resolver uses", async () => {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [INSTANCE.web] }));
    assert.equal(out.Reservations?.length, 1);
    assert.equal(out.Reservations?.[0]?.OwnerId, "123456789012");
    const web = out.Reservations?.[0]?.Instances?.[0];
    assert.equal(web?.InstanceId, INSTANCE.web);
    assert.deepEqual(web?.State, { Code: 16, Name: "running" });
    assert.equal(web?.PrivateIpAddress, ADDRESS.webPrivate);
    assert.equal(web?.PublicIpAddress, ADDRESS.webPublic);
    assert.equal(web?.Ipv6Address, ADDRESS.webIpv6);
    assert.equal(web?.LaunchTime?.toISOString(), "2024-01-15T09:00:00.000Z");
    assert.deepEqual(web?.Tags?.map((t) => `${t.Key}=${t.Value}`).sort(), [
      "Name=web",
      "env=prod",
      "team=platform",
    ]);
    assert.equal(web?.Placement?.AvailabilityZone, "us-east-1a");
    assert.equal(web?.PrivateDnsName, "ip-10-0-0-10.ec2.internal");
    // Resource ids are the prefix and hex digits, as EC2 makes them.
    assert.match(web?.VpcId ?? "", /^vpc-[0-9a-f]{17}$/);
    assert.match(web?.SubnetId ?? "", /^subnet-[0-9a-f]{8,17}$/);
    assert.match(web?.NetworkInterfaces?.[0]?.VpcId ?? "", /^vpc-[0-9a-f]{17}$/);
    const eni = web?.NetworkInterfaces?.[0];
    assert.equal(eni?.PrivateIpAddress, ADDRESS.webPrivate);
    assert.equal(eni?.Association?.PublicIp, ADDRESS.webPublic);
    assert.deepEqual(
      eni?.Ipv6Addresses?.map((a) => a.Ipv6Address),
      [ADDRESS.webIpv6],
    );
  });

  test("managed (mi-) instances are not EC2 instances", async () => {
    const all = await ids({});
    assert.ok(!all.includes(INSTANCE.managed));
    assert.equal(all.length, emu.fixture.instances.length - 1);
    await rejectsWith(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: [INSTANCE.managed] })),
      "InvalidInstanceID.Malformed",
    );
    await rejectsWith(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-0fffffffffffffff0"] })),
      "InvalidInstanceID.NotFound",
    );
  });

  test("tag filters, with * and ? wildcards", async () => {
    assert.deepEqual(await ids({ Filters: [{ Name: "tag:Name", Values: ["worker"] }] }), [
      INSTANCE.workerOnline,
      INSTANCE.workerLost,
    ]);
    assert.deepEqual(await ids({ Filters: [{ Name: "tag:Name", Values: ["we*"] }] }), [INSTANCE.web]);
    assert.deepEqual(await ids({ Filters: [{ Name: "tag:Name", Values: ["w?b"] }] }), [INSTANCE.web]);
    assert.deepEqual(
      await ids({ Filters: [{ Name: "tag:Name", Values: ["W*"] }] }),
      [],
      "tag values are case-sensitive",
    );
    assert.deepEqual(
      await ids({ Filters: [{ Name: "tag:Name", Values: ["web", "db"] }] }),
      [INSTANCE.web, INSTANCE.db].sort(),
    );
    assert.deepEqual(
      await ids({
        Filters: [
          { Name: "tag:env", Values: ["prod"] },
          { Name: "tag:Name", Values: ["secure"] },
        ],
      }),
      [INSTANCE.kms],
    );
    assert.deepEqual(await ids({ Filters: [{ Name: "tag-key", Values: ["team"] }] }), [INSTANCE.web]);
    assert.equal(
      (await ids({ Filters: [{ Name: `tag:${FLEET_TAG.key}`, Values: [FLEET_TAG.value] }] })).length,
      12,
    );
  });

  test("address filters: public, private and IPv6", async () => {
    assert.deepEqual(await ids({ Filters: [{ Name: "ip-address", Values: [ADDRESS.webPublic] }] }), [
      INSTANCE.web,
    ]);
    assert.deepEqual(await ids({ Filters: [{ Name: "private-ip-address", Values: [ADDRESS.dbPrivate] }] }), [
      INSTANCE.db,
    ]);
    assert.deepEqual(
      await ids({
        Filters: [{ Name: "network-interface.ipv6-addresses.ipv6-address", Values: [ADDRESS.v6onlyIpv6] }],
      }),
      [INSTANCE.ipv6Only],
    );
    assert.deepEqual(await ids({ Filters: [{ Name: "ip-address", Values: [ADDRESS.dbPrivate] }] }), []);
  });

  test("instance-id and instance-state-name filters; stopped instances excluded by state", async () => {
    assert.deepEqual(await ids({ Filters: [{ Name: "instance-id", Values: [INSTANCE.stopped] }] }), [
      INSTANCE.stopped,
    ]);
    assert.deepEqual(
      await ids({
        Filters: [
          { Name: "instance-id", Values: [INSTANCE.stopped] },
          { Name: "instance-state-name", Values: ["running"] },
        ],
      }),
      [],
    );
    assert.deepEqual(await ids({ Filters: [{ Name: "instance-state-name", Values: ["stopped"] }] }), [
      INSTANCE.stopped,
    ]);
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [INSTANCE.stopped] }));
    assert.deepEqual(out.Reservations?.[0]?.Instances?.[0]?.State, { Code: 80, Name: "stopped" });
  });

  test("unknown filters are InvalidParameterValue", async () => {
    const err = await rejectsWith(
      ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "colour", Values: ["red"] }] })),
      "InvalidParameterValue",
    );
    assert.match(err.message, /colour/);
  });

  test("pagination: MaxResults 5 needs several pages and the paginator reads them all", async () => {
    const filter = { Filters: [{ Name: `tag:${FLEET_TAG.key}`, Values: [FLEET_TAG.value] }] };
    const first = await ec2.send(new DescribeInstancesCommand({ ...filter, MaxResults: 5 }));
    assert.equal(first.Reservations?.length, 5);
    assert.ok(first.NextToken);
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const p of paginateDescribeInstances({ client: ec2, pageSize: 5 }, filter)) {
      pages.push(p.Reservations?.length ?? 0);
      for (const r of p.Reservations ?? []) for (const i of r.Instances ?? []) seen.push(i.InstanceId ?? "");
    }
    assert.deepEqual(pages, [5, 5, 2]);
    assert.deepEqual(seen.sort(), [...FLEET_INSTANCE_IDS].sort());
  });

  test("pagination errors: MaxResults out of range, with InstanceIds, and foreign tokens", async () => {
    await rejectsWith(ec2.send(new DescribeInstancesCommand({ MaxResults: 4 })), "InvalidParameterValue");
    await rejectsWith(ec2.send(new DescribeInstancesCommand({ MaxResults: 1001 })), "InvalidParameterValue");
    await rejectsWith(
      ec2.send(new DescribeInstancesCommand({ MaxResults: 5, InstanceIds: [INSTANCE.web] })),
      "InvalidParameterCombination",
    );
    const first = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }));
    await rejectsWith(
      ec2.send(new DescribeInstancesCommand({ MaxResults: 6, NextToken: first.NextToken })),
      "InvalidPaginationToken",
    );
  });

  test("authentication and permission errors use EC2's codes", async () => {
    await rejectsWith(
      client({ accessKeyId: ALICE.accessKeyId, secretAccessKey: "wrong" }).send(
        new DescribeInstancesCommand({}),
      ),
      "SignatureDoesNotMatch",
    );
    await rejectsWith(
      client({ accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "x" }).send(
        new DescribeInstancesCommand({}),
      ),
      "AuthFailure",
    );
    // bob may describe
    assert.ok((await client(BOB).send(new DescribeInstancesCommand({}))).Reservations);
    const restricted = await startApiEmulator({
      fixture: {
        ...emu.fixture,
        users: emu.fixture.users.map((u) => ({ ...u, allow: u.userName === "bob" ? [] : u.allow })),
      },
    });
    const c = new EC2Client(clientConfig(restricted, BOB));
    try {
      const err = await rejectsWith(c.send(new DescribeInstancesCommand({})), "UnauthorizedOperation");
      assert.equal(err.$metadata?.httpStatusCode, 403);
      assert.match(err.message, /ec2:DescribeInstances/);
    } finally {
      c.destroy();
      await restricted.close();
    }
  });
});
