/**
 * `ssm ssh --ec2ic`: find the user's SSH public key (see `src/ssh/discover.ts` for the order)
 * and authorize it for the login user with EC2 Instance Connect SendSSHPublicKey, which keeps
 * it valid for 60 seconds — long enough for the ssh client to authenticate over the session
 * that starts next. Loaded only when `--ec2ic` is given, so its imports stay light.
 */

import { RunasError } from "@aws-runas/wire/errors.js";
import { SendSSHPublicKeyCommand } from "@aws-sdk/client-ec2-instance-connect";
import { awsErrorFrom } from "../../aws/index.js";
import { type DiscoveredKey, discoverPublicKey } from "../../ssh/discover.js";
import type { RunContext } from "../context.js";
import type { AwsSession } from "./aws-session.js";

export interface PushPublicKeyOptions {
  /** Credentials, region and SDK clients of this run. */
  readonly aws: Pick<AwsSession, "client">;
  /** The resolved target instance. */
  readonly instanceId: string;
  /** The login user the key is authorized for (`%r`, default `ec2-user`). */
  readonly osUser: string;
  /** The target host (`%h` or the ProxyCommand's own): selects the `Host` blocks of the ssh config... */
  readonly host: string;
  /** ...unless ssh's own name for it is given (`--ssh-host %n`), which then selects them. */
  readonly alias?: string | undefined;
  /** Environment (`HOME`, `SSH_AUTH_SOCK`...) and logger. */
  readonly ctx: Pick<RunContext, "env" | "logger">;
  /** Remote port, for `%p` in IdentityFile paths (default 22). */
  readonly port?: number;
  /** ssh config to read instead of `$HOME/.ssh/config`. */
  readonly sshConfigPath?: string;
}

/** Discovers the public key and pushes it; resolves with the key that was pushed. */
export async function pushPublicKey(options: PushPublicKeyOptions): Promise<DiscoveredKey> {
  const { aws, instanceId, osUser, ctx } = options;
  const key = await discoverPublicKey({
    host: options.host,
    ...(options.alias === undefined ? {} : { alias: options.alias }),
    remoteUser: osUser,
    port: options.port,
    env: ctx.env,
    sshConfigPath: options.sshConfigPath,
    logger: ctx.logger,
  });
  const client = await aws.client("ec2-instance-connect");
  let success: boolean | undefined;
  try {
    const out = await client.send(
      new SendSSHPublicKeyCommand({
        InstanceId: instanceId,
        InstanceOSUser: osUser,
        SSHPublicKey: key.publicKey,
      }),
    );
    success = out.Success;
  } catch (error) {
    throw awsErrorFrom(error);
  }
  if (success === false) {
    throw new RunasError("EC2IC_REFUSED", `EC2 Instance Connect did not accept the key from ${key.origin}`);
  }
  ctx.logger.debug(
    `ec2ic: ${key.key.type} key ${key.fingerprint} authorized for ${osUser}@${instanceId} for 60 s`,
  );
  return key;
}
