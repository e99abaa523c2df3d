// listManagedInstances against the in-process emulator through the client's real AWS clients: every page of
// both APIs, joined by instance id.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { silentLogger } from "@aws-runas/wire/log.js";
import { EC2Client } from "@aws-sdk/client-ec2";
import { createSsmClient } from "../../packages/aws-runas/src/aws/ssm-client.js";
import { listManagedInstances } from "../../packages/aws-runas/src/instances/fetch.js";
import { ALICE, INSTANCE, type RunningEmulator, startEmulator } from "../../packages/emulator/src/index.js";

let emulator: RunningEmulator;
before(async () => {
  emulator = await startEmulator({});
});
after(() => emulator.close());

async function clients() {
  const config = {
    region: emulator.fixture.region,
    endpoint: emulator.endpointUrl,
    credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey },
    maxAttempts: 1,
  };
  return {
    ec2: new EC2Client(config),
    ssm: await createSsmClient({ ...config, logger: silentLogger, env: {} }),
  };
}

test("small pages on both APIs: every managed instance once, with EC2 tags and SSM agent data", async () => {
  emulator.requestLog.clear();
  const listed = await listManagedInstances(await clients(), { ssmPageSize: 5, ec2PageSize: 5 });
  const managed = emulator.fixture.instances.filter((i) => i.agent !== undefined);
  assert.deepEqual(listed.map((i) => i.instanceId).sort(), managed.map((i) => i.instanceId).sort());
  const ops = emulator.requestLog.entries().map((e) => e.operation);
  const ec2Instances = emulator.fixture.instances.filter((i) => i.instanceId.startsWith("i-")).length;
  assert.equal(ops.filter((o) => o === "DescribeInstanceInformation").length, Math.ceil(managed.length / 5));
  assert.equal(ops.filter((o) => o === "DescribeInstances").length, Math.ceil(ec2Instances / 5));
  const web = listed.find((i) => i.instanceId === INSTANCE.web)!;
  assert.deepEqual(
    [web.name, web.privateIp, web.platform, web.agentVersion, web.pingStatus, web.state, web.tags.env],
    ["web", "10.0.0.10", "Linux", "3.3.40.0", "Online", "running", "prod"],
  );
  // The hybrid instance has no EC2 side: its name and address come from SSM.
  const hybrid = listed.find((i) => i.instanceId === INSTANCE.managed)!;
  assert.deepEqual([hybrid.name, hybrid.privateIp, hybrid.state], ["onprem", "192.168.1.50", ""]);
});
