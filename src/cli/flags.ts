/**
 * Every command-line flag, described once. `program.ts` builds commander options from these
 * specs, `help.ts` renders the urfave/cli-style help lines from them and `complete.ts` offers
 * them on Tab, so the three can never disagree.
 */

/** One flag of one command. */
export interface FlagSpec {
  /** Property name under which commander stores the value (camelCase of {@link long}). */
  readonly key: string;
  /** Long form, e.g. `--duration`. */
  readonly long: string;
  /** Short form, e.g. `-d`. */
  readonly short?: string;
  /** True when the flag takes a value (`--port 8080`). */
  readonly takesValue: boolean;
  /** `count`: a repeatable switch that counts (`-vvv`); `collect`: a repeatable value flag. */
  readonly repeat?: "count" | "collect";
  /** Help text, in the seed's wording for the seed's flags. */
  readonly description: string;
  /** Shown as `(default: ...)` in the help. */
  readonly defaultText?: string;
  /** Environment variable used when the flag is absent, shown as `[$NAME]` in the help. */
  readonly env?: string;
}

/** `--help, -h`: commander provides it; listed here only for help and completion. */
export const HELP_FLAG: FlagSpec = {
  key: "help",
  long: "--help",
  short: "-h",
  takesValue: false,
  description: "show help",
  defaultText: "false",
};

/** `--version, -V`: handled by commander on the root command. */
export const VERSION_FLAG: FlagSpec = {
  key: "version",
  long: "--version",
  short: "-V",
  takesValue: false,
  description: "print the version",
  defaultText: "false",
};

/**
 * Credential and output flags shared by every `ssm` command (cli-reference §1). They are
 * accepted before `ssm` and after the subcommand alike.
 */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  {
    key: "duration",
    long: "--duration",
    short: "-d",
    takesValue: true,
    description: "Session token lifetime, e.g. 12h or 90m (15m-36h)",
    defaultText: "12h",
    env: "SESSION_TOKEN_DURATION",
  },
  {
    key: "roleDuration",
    long: "--role-duration",
    short: "-a",
    takesValue: true,
    description: "Assumed role credentials lifetime, e.g. 1h or 90m (15m-12h)",
    defaultText: "1h",
    env: "CREDENTIALS_DURATION",
  },
  {
    key: "otp",
    long: "--otp",
    short: "-o",
    takesValue: true,
    description: "MFA token code (no prompt when given)",
    env: "MFA_CODE",
  },
  {
    key: "mfaSerial",
    long: "--mfa-serial",
    short: "-M",
    takesValue: true,
    description: "Serial number (or ARN) of the MFA device",
    env: "MFA_SERIAL",
  },
  {
    key: "externalId",
    long: "--external-id",
    short: "-X",
    takesValue: true,
    description: "External ID to use with AssumeRole",
    env: "EXTERNAL_ID",
  },
  {
    key: "refresh",
    long: "--refresh",
    short: "-r",
    takesValue: false,
    description: "Drop the profile's cached credentials first",
    defaultText: "false",
  },
  {
    key: "expiration",
    long: "--expiration",
    short: "-e",
    takesValue: false,
    description: "Print the credential expiration time on stderr",
    defaultText: "false",
  },
  {
    key: "whoami",
    long: "--whoami",
    short: "-w",
    takesValue: false,
    description: "Print the AWS caller identity on stderr",
    defaultText: "false",
  },
  {
    key: "verbose",
    long: "--verbose",
    short: "-v",
    takesValue: false,
    repeat: "count",
    description: "Debug output on stderr; repeat (-vv, -vvv) for more detail",
    defaultText: "false",
  },
];

/** `--plugin, -P` (seed wording). */
export const PLUGIN_FLAG: FlagSpec = {
  key: "plugin",
  long: "--plugin",
  short: "-P",
  takesValue: false,
  description: "Use the SSM session plugin instead of built-in code",
  defaultText: "false",
};

/** `ssm forward --port, -p` (seed wording). */
export const PORT_FLAG: FlagSpec = {
  key: "port",
  long: "--port",
  short: "-p",
  takesValue: true,
  description: "The local port for the forwarded connection",
  defaultText: "random port",
};

/** `ssm forward --host`: forward to another host through the instance. */
export const HOST_FLAG: FlagSpec = {
  key: "host",
  long: "--host",
  takesValue: true,
  description: "Forward to this remote host through the instance instead of to the instance itself",
};

/** `ssm forward --no-reconnect`: exit when the session ends instead of starting a new one. */
export const NO_RECONNECT_FLAG: FlagSpec = {
  key: "noReconnect",
  long: "--no-reconnect",
  takesValue: false,
  description: "Exit when the session ends instead of starting a new one on the next connection",
};

/** `ssm ssh --ec2ic` (seed wording). */
export const EC2IC_FLAG: FlagSpec = {
  key: "ec2ic",
  long: "--ec2ic",
  takesValue: false,
  description: "Send public key to instance using EC2 Instance Connect",
  defaultText: "false",
};

/** `ssm shell --document`: start another session document. */
export const DOCUMENT_FLAG: FlagSpec = {
  key: "document",
  long: "--document",
  takesValue: true,
  description: "Start this SSM session document instead of the standard shell",
};

/** `ssm shell --parameter k=v`: parameters of the `--document`. */
export const PARAMETER_FLAG: FlagSpec = {
  key: "parameter",
  long: "--parameter",
  takesValue: true,
  repeat: "collect",
  description: "Parameter of the --document as key=value; repeat for more",
};

/** The flags each `ssm` subcommand defines itself (global flags and `--help` come on top). */
export const SHELL_FLAGS: readonly FlagSpec[] = [PLUGIN_FLAG, DOCUMENT_FLAG, PARAMETER_FLAG];
export const FORWARD_FLAGS: readonly FlagSpec[] = [PORT_FLAG, PLUGIN_FLAG, HOST_FLAG, NO_RECONNECT_FLAG];
export const SSH_FLAGS: readonly FlagSpec[] = [EC2IC_FLAG, PLUGIN_FLAG];

/** Flags whose next argument is their value (completion must skip it). */
export function flagsTakingValues(flags: readonly FlagSpec[]): string[] {
  return flags.filter((f) => f.takesValue).flatMap((f) => (f.short ? [f.long, f.short] : [f.long]));
}
