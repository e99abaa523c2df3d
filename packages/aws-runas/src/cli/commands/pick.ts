/**
 * `--pick` on `ssm shell|forward|ssh`: the target comes from the interactive picker, so the
 * positionals are `[profile_name]`, plus the parts of target_spec that are not the instance —
 * `:port` for forward, `[user@][:port]` for ssh. They are rewritten into the usual
 * `[profile_name] target_spec` with {@link PICK_TARGET} as the host, so the command parsers stay
 * as they are and `resolveInstance` knows to ask the user. Pure.
 */
import { UsageError } from "@aws-runas/wire/errors.js";

/** Stands for "the instance the user picks"; never a valid instance id, tag, address or name. */
export const PICK_TARGET = "pick.aws-runas.invalid";

export function pickPositionals(command: "shell" | "forward" | "ssh", args: readonly string[]): string[] {
  const usage = {
    shell: "aws-runas ssm shell --pick [command options] [profile_name]",
    forward: "aws-runas ssm forward --pick [command options] [profile_name] :port",
    ssh: "aws-runas ssm ssh --pick [command options] [profile_name] [user@][:port]",
  }[command];
  const last = args.at(-1);
  const isSpec = last !== undefined && (last.startsWith(":") || (command === "ssh" && last.includes("@")));
  const spec = isSpec ? last : undefined;
  const profiles = isSpec ? args.slice(0, -1) : [...args];
  if (profiles.length > 1) {
    throw new UsageError(
      `too many arguments with --pick: ${profiles
        .slice(1)
        .map((a) => JSON.stringify(a))
        .join(" ")}`,
      `usage: ${usage}`,
    );
  }
  if (command === "forward" && spec === undefined) {
    throw new UsageError("--pick needs the remote port, as :port", `usage: ${usage}`);
  }
  if (command === "shell" && spec !== undefined) {
    throw new UsageError(`unexpected ${JSON.stringify(spec)} with --pick`, `usage: ${usage}`);
  }
  let target = PICK_TARGET;
  if (spec !== undefined) {
    const at = spec.lastIndexOf("@");
    target =
      at >= 0 ? `${spec.slice(0, at + 1)}${PICK_TARGET}${spec.slice(at + 1)}` : `${PICK_TARGET}${spec}`;
  }
  return [...profiles, target];
}
