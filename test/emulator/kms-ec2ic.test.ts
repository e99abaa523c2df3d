import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { EC2InstanceConnectClient, SendSSHPublicKeyCommand } from "@aws-sdk/client-ec2-instance-connect";
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  BOB,
  INSTANCE,
  KMS_KEY,
  type RunningEmulator,
  readAuthorizedKeys,
} from "../../packages/emulator/src/index.js";
import { clientConfig, ed25519PublicKey, rejectsWith, startApiEmulator } from "./api-helpers.js";

describe("KMS", () => {
  let emu: RunningEmulator;
  let kms: KMSClient;
  before(async () => {
    emu = await startApiEmulator();
    kms = new KMSClient(clientConfig(emu));
  });
  after(async () => {
    kms.destroy();
    await emu.close();
  });

  const context = { "aws:ssm:SessionId": "alice-0123456789abcdef0", "aws:ssm:TargetId": INSTANCE.kms };

  test("GenerateDataKey as the plugin calls it; the agent side unwraps it with the same context", async () => {
    const out = await kms.send(
      new GenerateDataKeyCommand({ KeyId: KMS_KEY.keyId, NumberOfBytes: 64, EncryptionContext: context }),
    );
    assert.equal(out.KeyId, KMS_KEY.arn);
    assert.equal(out.Plaintext?.length, 64);
    assert.ok(out.CiphertextBlob && out.CiphertextBlob.length > 64);
    assert.ok(
      !Buffer.from(out.CiphertextBlob).includes(Buffer.from(out.Plaintext ?? [])),
      "the blob does not contain the key",
    );
    const unwrapped = emu.dataKeys.decryptDataKey(out.CiphertextBlob, context);
    assert.deepEqual(new Uint8Array(unwrapped.plaintext), out.Plaintext);
    assert.equal(unwrapped.keyArn, KMS_KEY.arn);
    assert.throws(
      () =>
        emu.dataKeys.decryptDataKey(out.CiphertextBlob ?? new Uint8Array(), {
          ...context,
          "aws:ssm:TargetId": INSTANCE.web,
        }),
      (e: Error & { awsCode?: string }) => e.awsCode === "InvalidCiphertextException",
    );
    const tampered = Buffer.from(out.CiphertextBlob);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    assert.throws(
      () => emu.dataKeys.decryptDataKey(tampered, context),
      (e: Error & { awsCode?: string }) => e.awsCode === "InvalidCiphertextException",
    );
  });

  test("KeyId may be the key ARN or an alias; KeySpec sizes", async () => {
    const byArn = await kms.send(new GenerateDataKeyCommand({ KeyId: KMS_KEY.arn, KeySpec: "AES_256" }));
    assert.equal(byArn.Plaintext?.length, 32);
    const byAlias = await kms.send(new GenerateDataKeyCommand({ KeyId: KMS_KEY.alias, KeySpec: "AES_128" }));
    assert.equal(byAlias.Plaintext?.length, 16);
    assert.equal(byAlias.KeyId, KMS_KEY.arn);
  });

  test("Decrypt API round trip and context check", async () => {
    const out = await kms.send(
      new GenerateDataKeyCommand({ KeyId: KMS_KEY.keyId, NumberOfBytes: 32, EncryptionContext: context }),
    );
    const dec = await kms.send(
      new DecryptCommand({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: context }),
    );
    assert.deepEqual(dec.Plaintext, out.Plaintext);
    await rejectsWith(
      kms.send(new DecryptCommand({ CiphertextBlob: out.CiphertextBlob })),
      "InvalidCiphertextException",
    );
  });

  test("AccessDenied names the key ARN 'on resource', as KMS does (also for an alias and for Decrypt)", async () => {
    const bobKms = new KMSClient(clientConfig(emu, BOB));
    try {
      const denied = async (send: Promise<unknown>, action: string) => {
        await assert.rejects(send, (error: Error & { name: string }) => {
          assert.equal(error.name, "AccessDeniedException");
          assert.equal(
            error.message,
            `User: ${BOB.arn} is not authorized to perform: ${action} on resource: ${KMS_KEY.arn} ` +
              `because no identity-based policy allows the ${action} action`,
          );
          return true;
        });
      };
      for (const KeyId of [KMS_KEY.keyId, KMS_KEY.alias, KMS_KEY.arn])
        await denied(
          bobKms.send(new GenerateDataKeyCommand({ KeyId, NumberOfBytes: 32 })),
          "kms:GenerateDataKey",
        );
      const out = await kms.send(new GenerateDataKeyCommand({ KeyId: KMS_KEY.keyId, NumberOfBytes: 32 }));
      await denied(bobKms.send(new DecryptCommand({ CiphertextBlob: out.CiphertextBlob })), "kms:Decrypt");
    } finally {
      bobKms.destroy();
    }
  });

  test("errors: unknown key, both or neither size inputs", async () => {
    await rejectsWith(
      kms.send(new GenerateDataKeyCommand({ KeyId: "alias/nope", NumberOfBytes: 32 })),
      "NotFoundException",
    );
    await rejectsWith(
      kms.send(
        new GenerateDataKeyCommand({ KeyId: "00000000-0000-0000-0000-000000000000", NumberOfBytes: 32 }),
      ),
      "NotFoundException",
    );
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: KMS_KEY.keyId })), "ValidationException");
    await rejectsWith(
      kms.send(new GenerateDataKeyCommand({ KeyId: KMS_KEY.keyId, NumberOfBytes: 32, KeySpec: "AES_256" })),
      "ValidationException",
    );
    await rejectsWith(
      kms.send(new GenerateDataKeyCommand({ KeyId: KMS_KEY.keyId, NumberOfBytes: 2048 })),
      "ValidationException",
    );
  });
});

describe("EC2 Instance Connect", () => {
  let emu: RunningEmulator;
  let ec2ic: EC2InstanceConnectClient;
  before(async () => {
    emu = await startApiEmulator();
    ec2ic = new EC2InstanceConnectClient(clientConfig(emu));
  });
  after(async () => {
    ec2ic.destroy();
    await emu.close();
  });

  test("SendSSHPublicKey authorizes the key for its OS user for 60 s", async () => {
    const key = ed25519PublicKey();
    const out = await ec2ic.send(
      new SendSSHPublicKeyCommand({
        InstanceId: INSTANCE.web,
        InstanceOSUser: "ec2-user",
        SSHPublicKey: key,
        AvailabilityZone: "us-east-1a",
      }),
    );
    assert.equal(out.Success, true);
    assert.match(out.RequestId ?? "", /^[0-9a-f-]{36}$/);
    assert.deepEqual(await readAuthorizedKeys(emu.stateDir, "ec2-user"), [key]);
    assert.deepEqual(await readAuthorizedKeys(emu.stateDir, "root"), []);
    emu.clock.advance(59);
    // Writes after an advance are asynchronous; a fresh key write orders after it.
    const other = ed25519PublicKey("second");
    await ec2ic.send(
      new SendSSHPublicKeyCommand({
        InstanceId: INSTANCE.web,
        InstanceOSUser: "ec2-user",
        SSHPublicKey: other,
      }),
    );
    assert.deepEqual(await readAuthorizedKeys(emu.stateDir, "ec2-user"), [key, other]);
    emu.clock.advance(2);
    await ec2ic.send(
      new SendSSHPublicKeyCommand({ InstanceId: INSTANCE.web, InstanceOSUser: "nobody", SSHPublicKey: key }),
    );
    assert.deepEqual(
      await readAuthorizedKeys(emu.stateDir, "ec2-user"),
      [other],
      "the first key expired after 60 s",
    );
  });

  test("errors: bad key, bad user, unknown or stopped instance, wrong zone", async () => {
    const key = ed25519PublicKey();
    const send = (
      input: Partial<{
        InstanceId: string;
        InstanceOSUser: string;
        SSHPublicKey: string;
        AvailabilityZone: string;
      }>,
    ) =>
      ec2ic.send(
        new SendSSHPublicKeyCommand({
          InstanceId: INSTANCE.web,
          InstanceOSUser: "ec2-user",
          SSHPublicKey: key,
          ...input,
        }),
      );
    await rejectsWith(send({ SSHPublicKey: "ssh-ed25519 AAAAnotakey" }), "InvalidArgsException");
    await rejectsWith(send({ SSHPublicKey: key.replace("ssh-ed25519", "ssh-rsa") }), "InvalidArgsException");
    await rejectsWith(send({ InstanceOSUser: "bad user" }), "InvalidArgsException");
    await rejectsWith(send({ InstanceId: "i-0fffffffffffffff0" }), "EC2InstanceNotFoundException");
    await rejectsWith(send({ InstanceId: INSTANCE.stopped }), "EC2InstanceStateInvalidException");
    await rejectsWith(send({ AvailabilityZone: "us-east-1b" }), "InvalidArgsException");
  });
});
