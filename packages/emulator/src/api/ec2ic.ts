/**
 * EC2 Instance Connect (JSON 1.1, `AWSEC2InstanceConnectService.*`): SendSSHPublicKey authorizes
 * a public key for an OS user on an instance for 60 seconds (served to sshd by the
 * `authorized-keys` subcommand).
 */
import { randomUUID } from "node:crypto";
import type { JsonOperation } from "./context.js";
import { ApiError } from "./errors.js";
import { JsonInput } from "./input.js";

const OS_USER = /^[A-Za-z_][A-Za-z0-9@._-]{0,30}[A-Za-z0-9$_-]?$/;
const KEY_TYPES = [
  "ssh-rsa",
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
];

/** True for an OpenSSH public key line whose blob names the same key type. */
export function isOpenSshPublicKey(line: string): boolean {
  const [type, blob] = line.trim().split(/\s+/);
  if (!type || !blob || !KEY_TYPES.includes(type) || !/^[A-Za-z0-9+/]+={0,3}$/.test(blob)) return false;
  const bytes = Buffer.from(blob, "base64");
  if (bytes.length < 4) return false;
  const nameLength = bytes.readUInt32BE(0);
  return nameLength === type.length && bytes.subarray(4, 4 + nameLength).toString("ascii") === type;
}

const invalidArgs = (message: string) => new ApiError("InvalidArgsException", message);

const sendSshPublicKey: JsonOperation = async (call, ctx) => {
  const input = new JsonInput(call.json);
  const instanceId = input.requiredString("InstanceId");
  const osUser = input.requiredString("InstanceOSUser");
  const publicKey = input.requiredString("SSHPublicKey");
  const zone = input.string("AvailabilityZone");
  if (!/^i-[0-9a-f]{8,17}$/.test(instanceId)) throw invalidArgs(`Invalid instance id: ${instanceId}`);
  if (!OS_USER.test(osUser)) throw invalidArgs(`Invalid OS user: ${osUser}`);
  if (publicKey.length < 80 || publicKey.length > 4096 || !isOpenSshPublicKey(publicKey)) {
    throw invalidArgs(
      "The SSH public key is not a valid OpenSSH public key (ssh-rsa, ssh-ed25519 or ecdsa).",
    );
  }
  const instance = ctx.fixture.instances.find((i) => i.instanceId === instanceId);
  if (!instance) throw new ApiError("EC2InstanceNotFoundException", `Instance ${instanceId} not found.`);
  const instanceZone = instance.availabilityZone ?? `${ctx.fixture.region}a`;
  if (zone !== undefined && zone !== instanceZone) {
    throw invalidArgs(`Instance ${instanceId} is not in availability zone ${zone}.`);
  }
  if (instance.state !== "running") {
    throw new ApiError(
      "EC2InstanceStateInvalidException",
      `Instance ${instanceId} is not in a valid state for this operation.`,
    );
  }
  await ctx.authorizedKeys.add(instanceId, osUser, publicKey);
  return { RequestId: randomUUID(), Success: true };
};

/** EC2 Instance Connect operations by name. */
export const ec2icOperations: Readonly<Record<string, JsonOperation>> = {
  SendSSHPublicKey: sendSshPublicKey,
};
