/** `aws-runas ssm shell` argv → {@link ShellInput} (pure). */
import { UsageError } from "@aws-runas/wire/errors.js";
import { parseShellTarget } from "../../target/spec.js";
import type { Env, ShellInput } from "../inputs.js";
import { DEFAULT_ESCAPE_CHAR, ESCAPE_ENV, type EscapeChar, parseEscapeChar } from "./escape-char.js";
import { type GlobalOptionValues, parseGlobalInput, splitProfileAndTarget } from "./global.js";

/** Usage line used in error hints. */
export const SHELL_USAGE = "aws-runas ssm shell [command options] [profile_name] target_spec";

/** The shell subcommand's own flags as commander stores them. */
export interface ShellOptionValues extends GlobalOptionValues {
  plugin?: boolean;
  document?: string;
  /** Each `--parameter` value in order. */
  parameter?: string[];
  escapeChar?: string;
}

/** Usage line of the remote-command form. */
export const COMMAND_USAGE =
  "aws-runas ssm shell [command options] [profile_name] target_spec -- command [args...]";

/**
 * Builds the shell input; throws `UsageError` for bad positionals or flags. `remote` holds the
 * words after `--` (a remote command) when there was a `--`.
 */
export function parseShellInput(
  opts: ShellOptionValues,
  args: readonly string[],
  env: Env,
  remote?: readonly string[],
): ShellInput {
  const { profile, targetSpec } = splitProfileAndTarget(args, remote ? COMMAND_USAGE : SHELL_USAGE);
  if (remote !== undefined) {
    if (remote.length === 0 || remote.every((w) => w.trim() === "")) {
      throw new UsageError("missing command after --", `usage: ${COMMAND_USAGE}`);
    }
    if (opts.plugin === true) {
      throw new UsageError(
        "--plugin cannot run a command after --",
        "the plugin mixes the command's output with its own: leave out --plugin",
      );
    }
    if (opts.document !== undefined) {
      throw new UsageError(
        "--document cannot be combined with a command after --",
        "a command after -- runs with AWS-StartNonInteractiveCommand: leave out --document",
      );
    }
  }
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
    remoteCommand: remote,
    escapeChar: parseEscapeOption(opts.escapeChar, env),
  };
}

/** `--escape-char` / `RUNAS_ESCAPE_CHAR` (the flag wins); `~` when neither is set. */
function parseEscapeOption(flag: string | undefined, env: Env): EscapeChar {
  const fromEnv = env[ESCAPE_ENV];
  const text = flag ?? (fromEnv === undefined || fromEnv === "" ? DEFAULT_ESCAPE_CHAR : fromEnv);
  const char = parseEscapeChar(text);
  if (char === undefined) {
    const source = flag === undefined ? ESCAPE_ENV : "--escape-char";
    throw new UsageError(
      `invalid ${source} ${JSON.stringify(text)}`,
      "give one character, ^X for a control character, or none",
    );
  }
  return char;
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
