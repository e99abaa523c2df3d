/**
 * The commander tree of `aws-runas`. Parsing only decides *what* to run: it returns a
 * {@link CommandInput} (or says help/version was printed) and never starts a session, so every
 * argv → input case is testable without I/O. Kept light on purpose: `--help` and `--version` load
 * this file, commander and the help texts, nothing else.
 */

import { type RunasError, UsageError } from "@aws-runas/wire/errors.js";
import { Command, type CommanderError, Option } from "commander";
import { type ForwardOptionValues, parseForwardInput } from "./commands/forward.js";
import { type GlobalOptionValues, mergeGlobalOptions } from "./commands/global.js";
import { type ListOptionValues, parseListInput } from "./commands/list.js";
import { pickPositionals } from "./commands/pick.js";
import { parseShellInput, type ShellOptionValues } from "./commands/shell.js";
import { parseSocksInput, type SocksOptionValues } from "./commands/socks.js";
import { parseSshInput, type SshOptionValues } from "./commands/ssh.js";
import {
  type FlagSpec,
  FORWARD_FLAGS,
  GLOBAL_FLAGS,
  LIST_FLAGS,
  SHELL_FLAGS,
  SOCKS_FLAGS,
  SSH_FLAGS,
  VERSION_FLAG,
} from "./flags.js";
import {
  COMPLETION_HELP,
  FORWARD_HELP,
  type HelpPage,
  LIST_HELP,
  renderHelp,
  rootHelp,
  SHELL_HELP,
  SOCKS_HELP,
  SSH_HELP,
  SSM_HELP,
} from "./help.js";
import type { CommandInput, Env } from "./inputs.js";
import { VERSION } from "./version.js";

/** Where parsing writes help and version text. */
export interface ParseIo {
  readonly env: Env;
  /** Help and version (stdout). */
  writeOut(text: string): void;
  /** Help shown because of a mistake (stderr). */
  writeErr(text: string): void;
}

/** Result of parsing: a command to run, or an exit code after help/version was printed. */
export type ParseOutcome =
  | { readonly kind: "run"; readonly input: CommandInput }
  | { readonly kind: "exit"; readonly exitCode: number };

/**
 * Parses `argv` (without the node and script paths). Throws {@link UsageError} (exit code 2) for
 * any mistake in the command line, with a one-line message and a hint.
 */
export function parseCommandLine(argv: readonly string[], io: ParseIo): ParseOutcome {
  let outcome: ParseOutcome | undefined;
  const decide = (next: ParseOutcome) => {
    outcome = next;
  };
  const program = buildProgram(io, decide, argv);
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof HelpShown) return { kind: "exit", exitCode: error.exitCode };
    throw error;
  }
  // Every command has an action, so commander always decides something; guard anyway.
  if (outcome === undefined) throw new UsageError("nothing to do", "run 'aws-runas --help'");
  return outcome;
}

/** Thrown through commander when it printed help or the version (exit without running anything). */
class HelpShown extends Error {
  constructor(readonly exitCode: number) {
    super("help shown");
  }
}

const HELP_PAGES: Readonly<Record<string, HelpPage>> = {
  ssm: SSM_HELP,
  "ssm shell": SHELL_HELP,
  "ssm forward": FORWARD_HELP,
  "ssm ssh": SSH_HELP,
  "ssm list": LIST_HELP,
  "ssm socks": SOCKS_HELP,
  completion: COMPLETION_HELP,
};

const ALIASES: Readonly<Record<string, string>> = { sh: "shell", fwd: "forward" };

function buildProgram(
  io: ParseIo,
  decide: (outcome: ParseOutcome) => void,
  argv: readonly string[] = [],
): Command {
  const showHelp = (page: HelpPage) => {
    io.writeOut(renderHelp(page));
    decide({ kind: "exit", exitCode: 0 });
  };
  // `help [ssm [shell]]`, urfave style.
  const showHelpFor = (prefix: readonly string[], words: readonly string[]) => {
    const path = [...prefix, ...words.map((w) => ALIASES[w] ?? w)].join(" ");
    const page = path === "" ? rootHelp(VERSION) : HELP_PAGES[path];
    if (page === undefined) {
      throw new UsageError(
        `no help for unknown command "${path}"`,
        "run 'aws-runas --help' to list the commands",
      );
    }
    showHelp(page);
  };

  const root = new Command("aws-runas");
  configure(root, rootHelp(VERSION), "aws-runas", io);
  root.version(VERSION, `${VERSION_FLAG.short}, ${VERSION_FLAG.long}`, VERSION_FLAG.description);
  addFlags(root, GLOBAL_FLAGS);
  root.argument("[command...]").action((words: string[]) => {
    if (words.length === 0) return showHelp(rootHelp(VERSION));
    if (words[0] === "help") return showHelpFor([], words.slice(1));
    throw unknownCommand(words[0] ?? "", "aws-runas");
  });

  const ssm = root.command("ssm");
  configure(ssm, SSM_HELP, "aws-runas ssm", io);
  ssm.argument("[command...]").action((words: string[]) => {
    if (words.length === 0) return showHelp(SSM_HELP);
    if (words[0] === "help") return showHelpFor(["ssm"], words.slice(1));
    throw unknownCommand(words[0] ?? "", "aws-runas ssm");
  });

  // Each session subcommand also accepts the global flags itself, so that short-flag groups
  // mixing both (`-Pv`) work after the subcommand; values from both places are merged.
  const session = (name: string, alias: string | undefined, page: HelpPage, flags: readonly FlagSpec[]) => {
    const cmd = ssm.command(name);
    if (alias !== undefined) cmd.alias(alias);
    configure(cmd, page, `aws-runas ssm ${name}`, io);
    addFlags(cmd, flags);
    addFlags(cmd, GLOBAL_FLAGS);
    return cmd.argument("[args...]");
  };
  const globals = (cmd: Command): GlobalOptionValues =>
    mergeGlobalOptions(root.opts<GlobalOptionValues>(), cmd.opts<GlobalOptionValues>());

  session("shell", "sh", SHELL_HELP, SHELL_FLAGS).action((args: string[], _o: unknown, cmd: Command) => {
    const opts: ShellOptionValues = { ...cmd.opts<ShellOptionValues>(), ...globals(cmd) };
    // Commander passes the words after `--` on as operands; they are the remote command.
    const dashes = argv.indexOf("--");
    const remote = dashes < 0 ? undefined : argv.slice(dashes + 1);
    const positionals = remote ? args.slice(0, Math.max(0, args.length - remote.length)) : args;
    decide({ kind: "run", input: parseShellInput(opts, picked(cmd, "shell", positionals), io.env, remote) });
  });
  session("forward", "fwd", FORWARD_HELP, FORWARD_FLAGS).action(
    (args: string[], _o: unknown, cmd: Command) => {
      const opts: ForwardOptionValues = { ...cmd.opts<ForwardOptionValues>(), ...globals(cmd) };
      decide({ kind: "run", input: parseForwardInput(opts, picked(cmd, "forward", args), io.env) });
    },
  );
  session("ssh", undefined, SSH_HELP, SSH_FLAGS).action((args: string[], _o: unknown, cmd: Command) => {
    const opts: SshOptionValues = { ...cmd.opts<SshOptionValues>(), ...globals(cmd) };
    decide({ kind: "run", input: parseSshInput(opts, picked(cmd, "ssh", args), io.env) });
  });

  session("list", undefined, LIST_HELP, LIST_FLAGS).action((args: string[], _o: unknown, cmd: Command) => {
    const opts: ListOptionValues = { ...cmd.opts<ListOptionValues>(), ...globals(cmd) };
    decide({ kind: "run", input: parseListInput(opts, args, io.env) });
  });

  session("socks", undefined, SOCKS_HELP, SOCKS_FLAGS).action((args: string[], _o: unknown, cmd: Command) => {
    const opts: SocksOptionValues = { ...cmd.opts<SocksOptionValues>(), ...globals(cmd) };
    decide({ kind: "run", input: parseSocksInput(opts, args, io.env) });
  });

  const completion = root.command("completion");
  configure(completion, COMPLETION_HELP, "aws-runas completion", io);
  completion.argument("[shell...]").action((words: string[]) => {
    const shell = words[0];
    const hint = "usage: aws-runas completion bash|zsh|fish";
    if (shell === undefined) throw new UsageError("missing shell name", hint);
    if (words.length > 1) throw new UsageError(`too many arguments: ${JSON.stringify(words[1])}`, hint);
    if (shell !== "bash" && shell !== "zsh" && shell !== "fish") {
      throw new UsageError(`unsupported shell ${JSON.stringify(shell)}`, hint);
    }
    decide({ kind: "run", input: { command: "completion", shell } });
  });

  // Called by the completion scripts on Tab: `aws-runas __complete -- "<line up to the cursor>"`.
  const complete = root.command("__complete", { hidden: true });
  configure(complete, rootHelp(VERSION), "aws-runas __complete", io);
  complete.argument("[line...]").action((words: string[]) => {
    decide({ kind: "run", input: { command: "complete", line: words.join(" ") } });
  });

  return root;
}

/** Help text, output streams and error translation for one command. */
function configure(cmd: Command, page: HelpPage, path: string, io: ParseIo): void {
  cmd.configureHelp({ formatHelp: () => renderHelp(page) });
  cmd.configureOutput({
    writeOut: (text) => io.writeOut(text),
    writeErr: (text) => io.writeErr(text),
    // Errors are thrown instead and printed once, by main, in our own format.
    outputError: () => {},
  });
  cmd.exitOverride((error) => {
    throw translateCommanderError(error, path);
  });
}

/** Commander's exits → help-shown marker or a {@link UsageError} with a hint. */
function translateCommanderError(error: CommanderError, path: string): Error {
  // Help or version printed (exit 0), or help printed to stderr because something was missing.
  if (error.exitCode === 0) return new HelpShown(0);
  if (error.code === "commander.help") return new HelpShown(2);
  const [first = "", ...rest] = error.message.split("\n");
  const message = first.replace(/^error:\s*/, "");
  const suggestion = /\(Did you mean (.+)\?\)/.exec(rest.join(" "));
  const hint = suggestion ? `did you mean ${suggestion[1]}?` : `run '${path} --help' for usage`;
  return new UsageError(message, hint);
}

function unknownCommand(word: string, path: string): RunasError {
  return new UsageError(
    `unknown command ${JSON.stringify(`${path.replace(/^aws-runas ?/, "")} ${word}`.trim())}`,
    `run '${path} --help' to list the commands`,
  );
}

/** With `--pick`, the positionals without an instance become a target_spec naming the picker. */
function picked(
  cmd: Command,
  command: "shell" | "forward" | "ssh",
  args: readonly string[],
): readonly string[] {
  return cmd.opts<{ pick?: boolean }>().pick === true ? pickPositionals(command, args) : args;
}

function addFlags(cmd: Command, flags: readonly FlagSpec[]): void {
  for (const flag of flags) {
    const names = flag.short ? `${flag.short}, ${flag.long}` : flag.long;
    const option = new Option(flag.takesValue ? `${names} <value>` : names, flag.description);
    if (flag.repeat === "count") option.argParser((_: unknown, previous: number) => previous + 1).default(0);
    if (flag.repeat === "collect") {
      option.argParser((value: string, previous: string[]) => [...previous, value]).default([]);
    }
    cmd.addOption(option);
  }
}
