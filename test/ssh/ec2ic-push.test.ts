import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AwsError } from "@aws-runas/wire/errors.js";
import { silentLogger } from "@aws-runas/wire/log.js";
import type { EC2InstanceConnectClient } from "@aws-sdk/client-ec2-instance-connect";
import { type PushPublicKeyOptions, pushPublicKey } from "../../packages/aws-runas/src/cli/run/ec2ic.js";
import { NoUsableKeyError } from "../../packages/aws-runas/src/ssh/errors.js";
import { generateKey, tempDir } from "./openssh-tools.js";

/** A stand-in for the EC2 Instance Connect client that records what was sent. */
function fakeAws(reply: (input: Record<string, unknown>) => unknown) {
  const sent: Record<string, unknown>[] = [];
  const client = {
    async send(command: { input: Record<string, unknown> }) {
      sent.push(command.input);
      return reply(command.input);
    },
  } as unknown as EC2InstanceConnectClient;
  const aws: PushPublicKeyOptions["aws"] = {
    client: (async (service: string) => {
      assert.equal(service, "ec2-instance-connect");
      return client;
    }) as PushPublicKeyOptions["aws"]["client"],
  };
  return { aws, sent };
}

describe("pushPublicKey", () => {
  test("sends the discovered key for the OS user and instance", async (t) => {
    const home = await tempDir(t, "runas-home-");
    await mkdir(join(home, ".ssh"));
    const key = await generateKey(join(home, ".ssh", "id_ed25519"), "ed25519", { comment: "me@laptop" });
    const { aws, sent } = fakeAws(() => ({ RequestId: "r-1", Success: true }));
    const pushed = await pushPublicKey({
      aws,
      instanceId: "i-0123456789abcdef0",
      osUser: "ubuntu",
      host: "i-0123456789abcdef0",
      ctx: { env: { HOME: home }, logger: silentLogger },
    });
    assert.equal(pushed.publicKey, key.publicLine);
    assert.deepEqual(sent, [
      { InstanceId: "i-0123456789abcdef0", InstanceOSUser: "ubuntu", SSHPublicKey: key.publicLine },
    ]);
  });

  test("no key: NoUsableKeyError and no API call", async (t) => {
    const home = await tempDir(t, "runas-home-");
    const { aws, sent } = fakeAws(() => ({ Success: true }));
    await assert.rejects(
      pushPublicKey({
        aws,
        instanceId: "i-0abc1234",
        osUser: "ec2-user",
        host: "web",
        ctx: { env: { HOME: home }, logger: silentLogger },
      }),
      NoUsableKeyError,
    );
    assert.deepEqual(sent, []);
  });

  test("AWS errors are translated; Success=false is an error too", async (t) => {
    const home = await tempDir(t, "runas-home-");
    await mkdir(join(home, ".ssh"));
    await generateKey(join(home, ".ssh", "id_ed25519"), "ed25519");
    const ctx = { env: { HOME: home }, logger: silentLogger };
    const denied = fakeAws(() => {
      throw Object.assign(
        new Error("User is not authorized to perform ec2-instance-connect:SendSSHPublicKey"),
        {
          name: "AccessDeniedException",
        },
      );
    });
    await assert.rejects(
      pushPublicKey({ aws: denied.aws, instanceId: "i-0abc1234", osUser: "ec2-user", host: "x", ctx }),
      (e: unknown) =>
        e instanceof AwsError && e.awsCode === "AccessDeniedException" && /access denied/.test(e.message),
    );
    const refused = fakeAws(() => ({ Success: false }));
    await assert.rejects(
      pushPublicKey({ aws: refused.aws, instanceId: "i-0abc1234", osUser: "ec2-user", host: "x", ctx }),
      /EC2 Instance Connect did not accept the key from ~\/.ssh\/id_ed25519/,
    );
  });
});
