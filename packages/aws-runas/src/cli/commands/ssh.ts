/** `aws-runas ssm ssh` argv → {@link SshInput} (pure). */
import { UsageError } from "@aws-runas/wire/errors.js";
import { parseSshTarget } from "../../target/spec.js";
import type { Env, SshInput } from "../inputs.js";
import { type GlobalOptionValues, parseGlobalInput, splitProfileAndTarget } from "./global.js";

/** Usage line used in error hints. */
export const SSH_USAGE = "aws-runas ssm ssh [command options] [profile_name] target_spec";

/** The ssh subcommand's own flags as commander stores them. */
export interface SshOptionValues extends GlobalOptionValues {
  plugin?: boolean;
  ec2ic?: boolean;
  sshHost?: string;
}

/** Builds the ssh input from `[profile_name] [user@]host[:port]`; throws `UsageError` on bad input. */
export function parseSshInput(opts: SshOptionValues, args: readonly string[], env: Env): SshInput {
  const { profile, targetSpec } = splitProfileAndTarget(args, SSH_USAGE);
  const { user, host, port } = parseSshTarget(targetSpec);
  return {
    command: "ssh",
    global: parseGlobalInput(opts, env),
    profile,
    target: host,
    user,
    port,
    ec2ic: opts.ec2ic === true,
    ...(opts.sshHost === undefined ? {} : { sshHost: parseSshHost(opts.sshHost) }),
    plugin: opts.plugin === true,
  };
}

/** `--ssh-host`: one word (ssh host names have no spaces); `%n` that ssh did not expand is a mistake. */
function parseSshHost(value: string): string {
  if (value.trim() === "" || /\s/.test(value) || value.includes("%")) {
    throw new UsageError(
      `invalid --ssh-host ${JSON.stringify(value)}`,
      "pass the name given to ssh: --ssh-host %n inside a ProxyCommand",
    );
  }
  return value;
}
