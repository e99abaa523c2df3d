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

/** `ssm forward` / `ssm socks --address`: where the local listener binds. */
export const ADDRESS_FLAG: FlagSpec = {
  key: "address",
  long: "--address",
  takesValue: true,
  description: "Local address to listen on, e.g. ::1, or 0.0.0.0 for every interface",
  defaultText: "127.0.0.1",
};

/** `ssm forward -L [bind_address:]local_port:host:host_port` (OpenSSH syntax), repeatable. */
export const LOCAL_FORWARD_FLAG: FlagSpec = {
  key: "local",
  long: "--local",
  short: "-L",
  takesValue: true,
  repeat: "collect",
  description:
    "Forward [bind_address:]local_port:host:host_port (host localhost = the instance); repeat for more",
};

/** `ssm socks --port, -p`. */
export const SOCKS_PORT_FLAG: FlagSpec = {
  key: "port",
  long: "--port",
  short: "-p",
  takesValue: true,
  description: "The local port of the SOCKS5 proxy",
  defaultText: "random port",
};

/** `ssm socks --allow PATTERN`, repeatable. */
export const ALLOW_FLAG: FlagSpec = {
  key: "allow",
  long: "--allow",
  takesValue: true,
  repeat: "collect",
  description:
    "Only proxy to destinations matching HOST[:PORT] (* wildcards, port range a-b); repeat for more",
};

/** `ssm socks --idle-timeout`. */
export const IDLE_TIMEOUT_FLAG: FlagSpec = {
  key: "idleTimeout",
  long: "--idle-timeout",
  takesValue: true,
  description: "End a destination's session after this long without connections, e.g. 90s or 10m",
  defaultText: "5m",
};

/** `ssm socks --max-sessions`. */
export const MAX_SESSIONS_FLAG: FlagSpec = {
  key: "maxSessions",
  long: "--max-sessions",
  takesValue: true,
  description: "Most destination sessions open at once; more destinations get SOCKS reply 1",
  defaultText: "16",
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

/** `ssm ssh --ssh-host`: the name given to ssh (`%n`), whose Host blocks `--ec2ic` reads. */
export const SSH_HOST_FLAG: FlagSpec = {
  key: "sshHost",
  long: "--ssh-host",
  takesValue: true,
  description: "The host as given to ssh (pass %n): --ec2ic looks up its IdentityFile in ~/.ssh/config",
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

/** `ssm shell --escape-char`: OpenSSH's `-e` (here `-e` is --expiration already). */
export const ESCAPE_CHAR_FLAG: FlagSpec = {
  key: "escapeChar",
  long: "--escape-char",
  takesValue: true,
  description: "Escape character: ~. ends the session, ~? lists the escapes; none turns it off",
  defaultText: "~",
  env: "RUNAS_ESCAPE_CHAR",
};

/** `ssm list --json`. */
export const JSON_FLAG: FlagSpec = {
  key: "json",
  long: "--json",
  takesValue: false,
  description: "Print the instances as JSON",
  defaultText: "false",
};

/** `ssm list --filter key=pattern`. */
export const FILTER_FLAG: FlagSpec = {
  key: "filter",
  long: "--filter",
  takesValue: true,
  repeat: "collect",
  description: "Only instances whose tag matches, e.g. Name=web* or env:prod; repeat for more",
};

/** `--pick` on shell, forward and ssh: choose the instance from a list. */
export const PICK_FLAG: FlagSpec = {
  key: "pick",
  long: "--pick",
  takesValue: false,
  description: "Choose the instance from an interactive list (on the terminal) instead of a target",
  defaultText: "false",
};

/** The flags each `ssm` subcommand defines itself (global flags and `--help` come on top). */
export const SHELL_FLAGS: readonly FlagSpec[] = [
  PLUGIN_FLAG,
  DOCUMENT_FLAG,
  PARAMETER_FLAG,
  ESCAPE_CHAR_FLAG,
  PICK_FLAG,
];
export const FORWARD_FLAGS: readonly FlagSpec[] = [
  PORT_FLAG,
  PLUGIN_FLAG,
  HOST_FLAG,
  PICK_FLAG,
  ADDRESS_FLAG,
  LOCAL_FORWARD_FLAG,
  NO_RECONNECT_FLAG,
];
export const SSH_FLAGS: readonly FlagSpec[] = [EC2IC_FLAG, PLUGIN_FLAG, SSH_HOST_FLAG, PICK_FLAG];
export const LIST_FLAGS: readonly FlagSpec[] = [JSON_FLAG, FILTER_FLAG];
export const SOCKS_FLAGS: readonly FlagSpec[] = [
  SOCKS_PORT_FLAG,
  ADDRESS_FLAG,
  ALLOW_FLAG,
  IDLE_TIMEOUT_FLAG,
  MAX_SESSIONS_FLAG,
];

/** Flags whose next argument is their value (completion must skip it). */
export function flagsTakingValues(flags: readonly FlagSpec[]): string[] {
  return flags.filter((f) => f.takesValue).flatMap((f) => (f.short ? [f.long, f.short] : [f.long]));
}
