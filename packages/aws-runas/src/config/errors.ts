import { ExitCode, RunasError } from "@aws-runas/wire/errors.js";

/** Stable codes for problems with profiles, config files and option values. */
export type ConfigErrorCode =
  | "CONFIG_UNREADABLE"
  | "CONFIG_MALFORMED"
  | "CONFIG_UNKNOWN_PROFILE"
  | "CONFIG_UNKNOWN_SOURCE_PROFILE"
  | "CONFIG_PROFILE_CYCLE"
  | "CONFIG_NO_CREDENTIALS"
  | "CONFIG_BAD_ROLE_ARN"
  | "CONFIG_BAD_DURATION";

/**
 * A profile or option value we cannot use. Values given on the command line or in the
 * environment exit with the usage code; problems in the files are runtime failures.
 */
export class ConfigError extends RunasError {
  declare readonly code: ConfigErrorCode;
  constructor(
    code: ConfigErrorCode,
    message: string,
    options: { hint?: string; usage?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, {
      hint: options.hint,
      cause: options.cause,
      exitCode: options.usage ? ExitCode.usage : ExitCode.runtime,
    });
  }
}
