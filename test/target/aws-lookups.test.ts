import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RunasError } from "@aws-runas/wire/errors.js";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import type { SsmClient } from "../../packages/aws-runas/src/aws/ssm-client.js";
import {
  type AwsLookups,
  createAwsLookups,
  type Ec2Client,
} from "../../packages/aws-runas/src/target/aws-lookups.js";
import { FakeEc2, type FakeInstance, FakeSsm } from "./fake-aws.js";

// Compile-time check: the real clients fit the adapter's parameter types.
export const withRealClients = (ssm: SsmClient): AwsLookups =>
  createAwsLookups({ ec2: new EC2Client({ region: "us-east-1" }), ssm });

const fleet: FakeInstance[] = Array.from({ length: 120 }, (_, i) => ({
  id: `i-${(0x100 + i).toString(16).padStart(17, "0")}`,
  state: i % 3 === 0 ? "stopped" : "running",
  launchTime: new Date(Date.UTC(2024, 0, 1 + i)),
  tags: { Name: `n${i}` },
  ping: i % 2 === 0 ? "Online" : "ConnectionLost",
}));

describe("createAwsLookups", () => {
  test("describeInstances reads every page and keeps launch time and state", async () => {
    const ec2 = new FakeEc2(fleet, 7);
    const lookups = createAwsLookups({ ec2, ssm: new FakeSsm(fleet) });
    const found = await lookups.describeInstances([{ name: "instance-state-name", values: ["running"] }]);
    assert.equal(found.length, fleet.filter((i) => i.state === "running").length);
    assert.equal(ec2.calls.length, Math.ceil(fleet.length / 7));
    const first = fleet[1]!;
    assert.deepEqual(
      found.find((f) => f.instanceId === first.id),
      { instanceId: first.id, launchTime: first.launchTime, state: "running" },
    );
  });

  test("describeInstanceInformation splits ids into calls of 50 and reads every page", async () => {
    const ssm = new FakeSsm(fleet, 20);
    const lookups = createAwsLookups({ ec2: new FakeEc2(fleet), ssm });
    const ids = fleet.map((i) => i.id);
    const statuses = await lookups.describeInstanceInformation(ids);
    assert.equal(statuses.length, fleet.length);
    assert.equal(statuses.find((s) => s.instanceId === fleet[0]!.id)?.pingStatus, "Online");
    assert.equal(statuses.find((s) => s.instanceId === fleet[1]!.id)?.pingStatus, "ConnectionLost");
    assert.ok(ssm.calls.every((call) => (call.Filters?.[0]?.Values?.length ?? 0) <= 50));
    assert.ok(ssm.calls.every((call) => call.MaxResults !== undefined && call.MaxResults <= 50));
    // 120 ids = 50 + 50 + 20, each read in pages of 20.
    assert.equal(ssm.calls.length, 3 + 3 + 1);
  });

  test("ec2PageSize sets MaxResults and is checked", async () => {
    const ec2 = new FakeEc2(fleet);
    await createAwsLookups({ ec2, ssm: new FakeSsm(fleet) }, { ec2PageSize: 5 }).describeInstances([]);
    assert.equal(ec2.calls.length, Math.ceil(fleet.length / 5));
    assert.ok(ec2.calls.every((call) => call.MaxResults === 5));
    for (const bad of [4, 1001, 5.5]) {
      assert.throws(
        () => createAwsLookups({ ec2, ssm: new FakeSsm(fleet) }, { ec2PageSize: bad }),
        RangeError,
      );
    }
  });

  test("no ids: no call", async () => {
    const ssm = new FakeSsm(fleet);
    assert.deepEqual(
      await createAwsLookups({ ec2: new FakeEc2(fleet), ssm }).describeInstanceInformation([]),
      [],
    );
    assert.equal(ssm.calls.length, 0);
  });

  test("an endpoint that never stops paging is cut off with an error", async () => {
    let calls = 0;
    const endless: Ec2Client = {
      send: async (command: DescribeInstancesCommand) => {
        assert.ok(command instanceof DescribeInstancesCommand);
        calls++;
        return { $metadata: {}, Reservations: [], NextToken: "again" };
      },
    };
    const lookups = createAwsLookups({ ec2: endless, ssm: new FakeSsm([]) });
    await assert.rejects(lookups.describeInstances([]), (error: unknown) => {
      assert.ok(error instanceof RunasError);
      assert.equal(error.code, "AWS_TOO_MANY_PAGES");
      return true;
    });
    assert.equal(calls, 1000);
  });
});
