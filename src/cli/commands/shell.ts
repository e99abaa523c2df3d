/** `aws-runas ssm shell` argv → {@link ShellInput} (pure). */
import { UsageError } from "../../errors.js";
import { parseShellTarget } from "../../target/spec.js";
import type { Env, ShellInput } from "../inputs.js";
import { type GlobalOptionValues, parseGlobalInput, splitProfileAndTarget } from "./global.js";

/** Usage line used in error hints. */
export const SHELL_USAGE = "aws-runas ssm shell [command options] [profile_name] target_spec";

/** The shell subcommand's own flags as commander stores them. */
export interface ShellOptionValues extends GlobalOptionValues {
  plugin?: boolean;
  document?: string;
  /** Each `--parameter` value in order. */
  parameter?: string[];
}

/** Builds the shell input; throws `UsageError` for bad positionals or flags. */
export function parseShellInput(opts: ShellOptionValues, args: readonly string[], env: Env): ShellInput {
  const { profile, targetSpec } = splitProfileAndTarget(args, SHELL_USAGE);
  const document = opts.document;
  if (document !== undefined && document.trim() === "") {
    throw new UsageError(
      "empty value for --document",
      "name a session document, e.g. AWS-StartInteractiveCommand",
    );
  }
  const rawParameters = opts.parameter ?? [];
  if (rawParameters.length > 0 && document === undefined) {
    throw new UsageError(
      "--parameter needs --document",
      "parameters belong to a session document: add --document NAME",
    );
  }
  return {
    command: "shell",
    global: parseGlobalInput(opts, env),
    profile,
    target: parseShellTarget(targetSpec),
    plugin: opts.plugin === true,
    document,
    parameters: parseDocumentParameters(rawParameters),
  };
}

/**
 * `key=value` strings → StartSession `Parameters` (`{key: [values]}`). The key ends at the first
 * `=`, so values may contain `=`; repeating a key adds another value.
 */
export function parseDocumentParameters(pairs: readonly string[]): Record<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? "" : pair.slice(0, eq).trim();
    if (key === "") {
      throw new UsageError(
        `invalid --parameter ${JSON.stringify(pair)}: expected key=value`,
        'e.g. --parameter command="uptime"',
      );
    }
    const values = byKey.get(key) ?? [];
    values.push(pair.slice(eq + 1));
    byKey.set(key, values);
  }
  // fromEntries defines own properties, so a key like "__proto__" stays plain data.
  return Object.fromEntries(byKey);
}
