/**
 * Argv → input pieces every `ssm` command shares: the global flags (with their environment
 * fallbacks) and the `[profile_name] target_spec` positionals. Pure functions.
 */
import { UsageError } from "@aws-runas/wire/errors.js";
import type { LogLevel } from "@aws-runas/wire/log.js";
import type { Env, GlobalInput } from "../inputs.js";

/** The global flags as commander stores them (keys from `GLOBAL_FLAGS`). */
export interface GlobalOptionValues {
  duration?: string;
  roleDuration?: string;
  otp?: string;
  mfaSerial?: string;
  externalId?: string;
  refresh?: boolean;
  expiration?: boolean;
  whoami?: boolean;
  /** Count of `-v`. */
  verbose?: number;
}

const MAX_VERBOSITY = 3;

/**
 * Combines global flags given before `ssm` with those given after the subcommand: values after
 * the subcommand win, `-v` counts add up.
 */
export function mergeGlobalOptions(
  before: GlobalOptionValues,
  after: GlobalOptionValues,
): GlobalOptionValues {
  return {
    duration: after.duration ?? before.duration,
    roleDuration: after.roleDuration ?? before.roleDuration,
    otp: after.otp ?? before.otp,
    mfaSerial: after.mfaSerial ?? before.mfaSerial,
    externalId: after.externalId ?? before.externalId,
    refresh: Boolean(after.refresh || before.refresh),
    expiration: Boolean(after.expiration || before.expiration),
    whoami: Boolean(after.whoami || before.whoami),
    verbose: (before.verbose ?? 0) + (after.verbose ?? 0),
  };
}

/** Global flags → {@link GlobalInput}; a flag wins over its environment variable. */
export function parseGlobalInput(opts: GlobalOptionValues, env: Env): GlobalInput {
  return {
    sessionTokenDuration: flagOrEnv(opts.duration, "--duration", env, "SESSION_TOKEN_DURATION"),
    roleDuration: flagOrEnv(opts.roleDuration, "--role-duration", env, "CREDENTIALS_DURATION"),
    mfaCode: checkMfaCode(flagOrEnv(opts.otp, "--otp", env, "MFA_CODE"), opts.otp !== undefined),
    mfaSerial: flagOrEnv(opts.mfaSerial, "--mfa-serial", env, "MFA_SERIAL"),
    externalId: flagOrEnv(opts.externalId, "--external-id", env, "EXTERNAL_ID"),
    refresh: opts.refresh === true,
    showExpiration: opts.expiration === true,
    whoami: opts.whoami === true,
    verbosity: Math.min(opts.verbose ?? 0, MAX_VERBOSITY) as LogLevel,
  };
}

/**
 * An MFA code is six digits (what STS accepts): anything else is refused before any AWS call,
 * without echoing it back.
 */
function checkMfaCode(code: string | undefined, fromFlag: boolean): string | undefined {
  if (code === undefined || isMfaCodeShape(code)) return code?.trim();
  throw new UsageError(
    `invalid ${fromFlag ? "--otp" : "MFA_CODE"}: an MFA code is 6 digits`,
    `give the current code from the MFA device${fromFlag ? ", or leave out -o to be prompted" : ", or unset MFA_CODE to be prompted"}`,
  );
}

/** Six digits, blanks around them allowed. Pure. */
export function isMfaCodeShape(code: string): boolean {
  return /^\d{6}$/.test(code.trim());
}

/** A flag's value, else its (non-empty) environment variable. An explicitly empty flag is an error. */
function flagOrEnv(value: string | undefined, flag: string, env: Env, name: string): string | undefined {
  if (value !== undefined) {
    if (value.trim() === "")
      throw new UsageError(`empty value for ${flag}`, `give ${flag} a value or leave it out`);
    return value;
  }
  const fromEnv = env[name];
  return fromEnv === undefined || fromEnv.trim() === "" ? undefined : fromEnv;
}

/** The two positionals of every `ssm` subcommand. */
export interface ProfileAndTarget {
  profile: string | undefined;
  targetSpec: string;
}

/**
 * `[profile_name] target_spec`: with two positionals the first is the profile; with one it is
 * the target and the profile is left to the credentials layer.
 *
 * @param usage the command's usage line, for the hint
 */
export function splitProfileAndTarget(args: readonly string[], usage: string): ProfileAndTarget {
  const hint = `usage: ${usage}`;
  if (args.length === 0) throw new UsageError("missing target_spec", hint);
  if (args.length > 2) {
    const extra = args.slice(2).map((a) => JSON.stringify(a));
    throw new UsageError(`too many arguments: ${extra.join(" ")}`, hint);
  }
  if (args.length === 1) return { profile: undefined, targetSpec: args[0] ?? "" };
  const profile = args[0] ?? "";
  if (profile.trim() === "") {
    throw new UsageError("empty profile_name", "give a profile name, or leave it out to use AWS_PROFILE");
  }
  return { profile, targetSpec: args[1] ?? "" };
}
