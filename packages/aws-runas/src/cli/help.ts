/**
 * Help pages in the urfave/cli layout of the original aws-runas (`NAME:` / `USAGE:` /
 * `DESCRIPTION:` / `OPTIONS:` blocks, 3-space indent, aligned option column). The shell, forward
 * and ssh pages reproduce the seed (test/fixtures/seed-ssm.md) line for line, spacing included; the
 * flags we added follow the seed's option lines as a block of their own (after a blank line,
 * aligned among themselves), so the seed's lines never move. Pure text: no I/O, nothing heavy
 * imported.
 */
import {
  ADDRESS_FLAG,
  ALLOW_FLAG,
  DOCUMENT_FLAG,
  EC2IC_FLAG,
  ESCAPE_CHAR_FLAG,
  FILTER_FLAG,
  type FlagSpec,
  GLOBAL_FLAGS,
  HELP_FLAG,
  HOST_FLAG,
  IDLE_TIMEOUT_FLAG,
  JSON_FLAG,
  LOCAL_FORWARD_FLAG,
  MAX_SESSIONS_FLAG,
  NO_RECONNECT_FLAG,
  PARAMETER_FLAG,
  PICK_FLAG,
  PLUGIN_FLAG,
  PORT_FLAG,
  SOCKS_PORT_FLAG,
  SSH_HOST_FLAG,
  VERSION_FLAG,
} from "./flags.js";

/** A `COMMANDS:` entry. */
export interface HelpCommand {
  /** Name and aliases as shown, e.g. `shell, sh`. */
  readonly names: string;
  readonly description: string;
}

/** One help screen. */
export interface HelpPage {
  /** The `NAME:` line, `<path> - <summary>`. */
  readonly name: string;
  readonly usage: string;
  readonly version?: string;
  /** Lines of the `DESCRIPTION:` block; an empty string is a blank line. */
  readonly description?: readonly string[];
  readonly commands?: readonly HelpCommand[];
  /** `OPTIONS` on subcommands, `GLOBAL OPTIONS` on the root (urfave's wording). */
  readonly optionsTitle: string;
  /** The option lines (on the shell, forward and ssh pages: exactly the seed's). */
  readonly options: readonly FlagSpec[];
  /** Options we added, shown after {@link options} as a separate block. */
  readonly addedOptions?: readonly FlagSpec[];
}

const INDENT = "   ";
const HELP_COMMAND: HelpCommand = {
  names: "help",
  description: "Shows a list of commands or help for one command",
};

/** Renders a flag's left column the urfave way: `--port value, -p value`. */
export function formatFlagNames(flag: FlagSpec): string {
  const value = flag.takesValue ? " value" : "";
  const names = [flag.long, ...(flag.short ? [flag.short] : [])];
  return names.map((n) => n + value).join(", ");
}

/** Renders a flag's right column: description, `(default: ...)` and `[$ENV]`. */
export function formatFlagDescription(flag: FlagSpec): string {
  let text = flag.description;
  if (flag.defaultText !== undefined) text += ` (default: ${flag.defaultText})`;
  if (flag.env !== undefined) text += ` [$${flag.env}]`;
  return text;
}

/** Renders a help page; the result ends with a single newline. */
export function renderHelp(page: HelpPage): string {
  const blocks: string[][] = [
    ["NAME:", INDENT + page.name],
    ["USAGE:", INDENT + page.usage],
  ];
  if (page.version !== undefined) blocks.push(["VERSION:", INDENT + page.version]);
  if (page.description !== undefined) {
    blocks.push(["DESCRIPTION:", ...page.description.map((line) => INDENT + line)]);
  }
  if (page.commands !== undefined) {
    blocks.push(["COMMANDS:", ...alignColumns(page.commands.map((c) => [c.names, c.description] as const))]);
  }
  const rows = (flags: readonly FlagSpec[]) =>
    alignColumns(flags.map((f) => [formatFlagNames(f), formatFlagDescription(f)] as const));
  const added = page.addedOptions ?? [];
  blocks.push([
    `${page.optionsTitle}:`,
    ...rows(page.options),
    ...(added.length > 0 ? ["", ...rows(added)] : []),
  ]);
  return `${blocks.map((b) => b.join("\n")).join("\n\n")}\n`;
}

function alignColumns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${INDENT}${left.padEnd(width)}  ${right}`);
}

/**
 * Not a flag: the `-- command [args...]` form of `ssm shell`, shown as one more row of our
 * option block (the seed's page has no place for it).
 */
const REMOTE_COMMAND_ROW: FlagSpec = {
  key: "",
  long: "-- command [args...]",
  takesValue: false,
  description: "Run the command instead of a shell: its stdout, stderr and exit status are ours",
};

/** `aws-runas ssm shell --help` (seed text). */
export const SHELL_HELP: HelpPage = {
  name: "aws-runas ssm shell - Start an SSM shell session",
  usage: "aws-runas ssm shell [command options] profile_name target_spec",
  description: [
    "Create an SSM shell session with the specified 'target_spec' using configuration from the",
    "given 'profile_name'.  The target string can be an EC2 instance ID, a tag key:value string",
    "which uniquely identifies an EC2 instance, the instance's private IPv4 address, or a DNS",
    "TXT record whose value is EC2 instance ID.",
  ],
  optionsTitle: "OPTIONS",
  options: [PLUGIN_FLAG, HELP_FLAG],
  addedOptions: [DOCUMENT_FLAG, PARAMETER_FLAG, ESCAPE_CHAR_FLAG, PICK_FLAG, REMOTE_COMMAND_ROW],
};

/** `aws-runas ssm forward --help` (seed text). */
export const FORWARD_HELP: HelpPage = {
  name: "aws-runas ssm forward - Start an SSM port forwarding session",
  usage: "aws-runas ssm forward [command options] profile_name target_spec",
  description: [
    "Create an SSM port forwarding session with the specified 'target_spec' using configuration",
    "from the given 'profile_name'.  The 'target_spec' is a colon-separated value of the target",
    "and remote port number (ex. i-01234567:8080).  The target string can be an EC2 instance ID,",
    "a tag key:value string which uniquely identifies an EC2 instance, the instance's private",
    "IPv4 address, or a DNS TXT record whose value is EC2 instance ID.  If the '-p' option is",
    "given, the port forwarding session will listen on the specified port on the local system,",
    "otherwise a random port is used.",
  ],
  optionsTitle: "OPTIONS",
  options: [PORT_FLAG, PLUGIN_FLAG, HELP_FLAG],
  addedOptions: [HOST_FLAG, PICK_FLAG, ADDRESS_FLAG, LOCAL_FORWARD_FLAG, NO_RECONNECT_FLAG],
};

/** `aws-runas ssm ssh --help` (seed text). */
export const SSH_HELP: HelpPage = {
  name: "aws-runas ssm ssh - Start an SSH over SSM session",
  usage: "aws-runas ssm ssh [command options] profile_name target_spec",
  description: [
    "Create an SSH over SSM session with the specified 'target_spec' using configuration from",
    "the given 'profile_name'.  The 'target_spec' is a colon-separated value of the target and an",
    "optional remote port number (ex. i-01234567:2222).  If no port is provided, the well-known",
    "SSH port is used.  The target string can be an EC2 instance ID, a tag key:value string which",
    "uniquely identifies an EC2 instance, the instance's private IPv4 address, or a DNS TXT record",
    "whose value is EC2 instance ID.",
    "",
    "This feature is meant to be used in SSH configuration files according to the AWS documentation",
    "at https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-getting-started-enable-ssh-connections.html",
    "except that the ProxyCommand syntax changes to:",
    "  ProxyCommand aws-runas ssm ssh [--ec2ic] profile_name %r@%h:%p",
    "Where profile_name is the AWS configuration profile to use (you should also be able to use the",
    "AWS_PROFILE environment variable, in which case the profile_name could be omitted), and %r@%h:%p",
    "are standard SSH configuration substitutions for the remote user name, host and port number to connect with,",
    "and can be left as-is.  If the optional --ec2ic argument is supplied, the public key is provisioned on the",
    "remote system using EC2 Instance Connect during the SSH session setup.",
  ],
  optionsTitle: "OPTIONS",
  // The seed's ssh block has no --help line: it goes with ours.
  options: [EC2IC_FLAG, PLUGIN_FLAG],
  addedOptions: [HELP_FLAG, SSH_HOST_FLAG, PICK_FLAG],
};

/** `aws-runas ssm list --help` (in the seed's style). */
export const LIST_HELP: HelpPage = {
  name: "aws-runas ssm list - List the SSM managed instances",
  usage: "aws-runas ssm list [command options] [profile_name]",
  description: [
    "List the instances managed by SSM with configuration from the given 'profile_name': the",
    "instance ID, Name tag, private IP address, platform, SSM agent version and ping status,",
    "instances whose agent is online first.  The '--filter' option keeps only instances whose",
    "tag matches (ex. Name=web* or env:prod; '*' and '?' are wildcards), and '--json' prints",
    "the list as JSON for scripts.",
  ],
  optionsTitle: "OPTIONS",
  options: [JSON_FLAG, FILTER_FLAG, HELP_FLAG],
};

/** `aws-runas ssm socks --help` (ours, in the seed's style). */
export const SOCKS_HELP: HelpPage = {
  name: "aws-runas ssm socks - Start a SOCKS5 proxy through an SSM session",
  usage: "aws-runas ssm socks [command options] profile_name target_spec",
  description: [
    "Start a local SOCKS5 proxy whose connections are made from the EC2 instance given by",
    "'target_spec', using configuration from the given 'profile_name'.  The target string can be",
    "an EC2 instance ID, a tag key:value string which uniquely identifies an EC2 instance, the",
    "instance's private IPv4 address, or a DNS TXT record whose value is EC2 instance ID.  Host",
    "names are resolved on the instance side (use socks5h:// or --socks5-hostname in clients).",
    "Each destination host and port gets its own port forwarding session, which later connections",
    "to it share; a session without connections ends after the idle timeout.  If the '-p' option",
    "is given, the proxy listens on the specified port on the local system, otherwise a random",
    "port is used.  No sshd is needed on the instance.",
  ],
  optionsTitle: "OPTIONS",
  options: [SOCKS_PORT_FLAG, HELP_FLAG, ADDRESS_FLAG, ALLOW_FLAG, IDLE_TIMEOUT_FLAG, MAX_SESSIONS_FLAG],
};

/** `aws-runas ssm --help` and bare `aws-runas ssm`. */
export const SSM_HELP: HelpPage = {
  name: "aws-runas ssm - Helpful shortcuts for working with SSM sessions",
  usage: "aws-runas [global options] ssm command [command options] [profile_name] target_spec",
  description: [
    "Open AWS Systems Manager sessions to EC2 instances: an interactive shell, local port",
    "forwarding, or an SSH connection (as an ssh ProxyCommand). The global options of",
    "'aws-runas --help' may also be given after the subcommand.",
  ],
  commands: [
    { names: "shell, sh", description: "Start an SSM shell session" },
    { names: "forward, fwd", description: "Start an SSM port forwarding session" },
    { names: "ssh", description: "Start an SSH over SSM session" },
    { names: "list", description: "List the SSM managed instances" },
    { names: "socks", description: "Start a SOCKS5 proxy through an SSM session" },
    HELP_COMMAND,
  ],
  optionsTitle: "OPTIONS",
  options: [HELP_FLAG],
};

/** `aws-runas completion --help`. */
export const COMPLETION_HELP: HelpPage = {
  name: "aws-runas completion - Print a shell completion script",
  usage: "aws-runas completion bash|zsh|fish",
  description: [
    "Prints a script that completes aws-runas commands, flags and profile names (read from",
    "AWS_CONFIG_FILE or ~/.aws/config, and AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials).",
    "Load it from your shell's start-up file:",
    "  bash (~/.bashrc):  source <(aws-runas completion bash)",
    "  zsh (~/.zshrc, after compinit):  source <(aws-runas completion zsh)",
    "  fish (~/.config/fish/config.fish):  aws-runas completion fish | source",
    "Targets complete to instance ids and Name:value (cached for 60 s next to the config file).",
  ],
  optionsTitle: "OPTIONS",
  options: [HELP_FLAG],
};

/** The root page; it shows the version, so it is built on demand. */
export function rootHelp(version: string): HelpPage {
  return {
    name: "aws-runas - AWS Systems Manager sessions using aws-runas profiles",
    usage: "aws-runas [global options] command [command options] [arguments...]",
    version,
    description: [
      "Starts SSM shell, port forwarding and SSH sessions with credentials from an aws-runas",
      "profile (role, MFA, cached session tokens). Global options may also follow the subcommand.",
    ],
    commands: [
      { names: "ssm", description: "Helpful shortcuts for working with SSM sessions" },
      { names: "completion", description: "Print a shell completion script (bash, zsh or fish)" },
      HELP_COMMAND,
    ],
    optionsTitle: "GLOBAL OPTIONS",
    options: [...GLOBAL_FLAGS, HELP_FLAG, VERSION_FLAG],
  };
}
