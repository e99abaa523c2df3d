/**
 * The `aws-runas-emulator` program.
 *
 * ```
 * aws-runas-emulator [--port N] [--fixture FILE] [--dns-port N] [--pacing realistic|none]
 *                    [--fault SPEC ...] [--state-dir DIR] [-v] [--detach [--log FILE]]
 * aws-runas-emulator --stop
 * aws-runas-emulator authorized-keys --state-dir DIR <user>
 * ```
 * Started without a subcommand it serves until SIGINT/SIGTERM and prints only `export` lines on
 * stdout (logs go to stderr). With `--detach` it runs in the background and the command returns
 * once it is ready, so `eval "$(aws-runas-emulator --detach)"` works (see detach.ts).
 * `authorized-keys` prints the EC2 Instance Connect keys valid now for `<user>` (sshd's
 * `AuthorizedKeysCommand`).
 */

import { exitCodeFor, RunasError, UsageError } from "@aws-runas/wire/errors.js";
import { createLogger, type LogLevel } from "@aws-runas/wire/log.js";
import { Command, CommanderError, Option } from "commander";
import { startEmulator } from "../index.js";
import { readAuthorizedKeys } from "../world/authorized-keys.js";
import {
  detachedExports,
  READY_FD,
  reportToParent,
  startDetached,
  stopDetached,
  unsetLine,
} from "./detach.js";
import { formatExports } from "./exports.js";
import { parseEmulatorOptions, type RawEmulatorOptions } from "./options.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

function reportError(error: unknown, verbose: boolean): void {
  if (error instanceof RunasError) {
    process.stderr.write(`aws-runas-emulator: ${error.message}\n`);
    if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
  } else {
    process.stderr.write(`aws-runas-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exitCode = exitCodeFor(error);
}

interface ProgramOptions extends RawEmulatorOptions {
  verbose?: number;
  detach?: boolean;
  log?: string;
  stop?: boolean;
  /** Internal: the fd on which a detached child reports readiness (set by --detach). */
  readyFd?: string;
}

/** The serving options again as arguments, for the detached child. */
function childArguments(raw: ProgramOptions): string[] {
  const args: string[] = [];
  if (raw.port !== undefined) args.push("--port", raw.port);
  if (raw.fixture !== undefined) args.push("--fixture", raw.fixture);
  if (raw.dnsPort !== undefined) args.push("--dns-port", raw.dnsPort);
  if (raw.pacing !== undefined) args.push("--pacing", raw.pacing);
  for (const fault of raw.fault ?? []) args.push("--fault", fault);
  if (raw.stateDir !== undefined) args.push("--state-dir", raw.stateDir);
  if (raw.requireSignedChannel) args.push("--require-signed-channel");
  for (let i = 0; i < (raw.verbose ?? 0); i++) args.push("-v");
  return [...args, "--ready-fd", String(READY_FD)];
}

async function run(raw: ProgramOptions): Promise<void> {
  if (raw.stop) {
    if (raw.detach) throw new UsageError("--stop and --detach do not go together");
    const note = await stopDetached(process.env.RUNAS_EMULATOR_PID);
    if (note) process.stderr.write(`aws-runas-emulator: ${note}\n`);
    process.stdout.write(unsetLine());
    return;
  }
  if (raw.log !== undefined && !raw.detach) throw new UsageError("--log goes with --detach");
  if (raw.log === "") throw new UsageError("--log needs a file name");
  if (raw.detach) {
    parseEmulatorOptions(raw); // usage errors here, before anything starts
    const script = process.argv[1] ?? "";
    const detached = await startDetached({
      command: process.execPath,
      args: [...process.execArgv, script, ...childArguments(raw)],
      logFile: raw.log,
    });
    process.stdout.write(detachedExports(detached));
    process.stderr.write(
      `aws-runas-emulator: running in the background (pid ${detached.pid}${raw.log ? `, log ${raw.log}` : ""}); ` +
        `stop it with: eval "$(aws-runas-emulator --stop)"  (or kill $RUNAS_EMULATOR_PID)\n`,
    );
    return;
  }
  if (raw.readyFd === undefined) return serve(raw, undefined);
  const fd = Number(raw.readyFd);
  try {
    await serve(raw, fd);
  } catch (error) {
    reportToParent(fd, {
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      hint: error instanceof RunasError ? error.hint : undefined,
      exitCode: exitCodeFor(error),
    });
    throw error;
  }
}

async function serve(raw: ProgramOptions, readyFd: number | undefined): Promise<void> {
  const options = parseEmulatorOptions(raw);
  const logger = createLogger(Math.min(raw.verbose ?? 0, 3) as LogLevel);
  const emulator = await startEmulator({
    port: options.port,
    fixturePath: options.fixturePath,
    dnsPort: options.dnsPort,
    pacing: options.pacing,
    faults: options.faults,
    stateDir: options.stateDir,
    requireSignedChannel: options.requireSignedChannel,
    logger,
  });
  if (readyFd === undefined) process.stdout.write(formatExports(emulator.env));
  else reportToParent(readyFd, { ok: true, env: emulator.env });
  logger.info(
    `aws-runas-emulator: listening on ${emulator.endpointUrl} (state in ${emulator.stateDir}); Ctrl-C to stop`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.debug(`emulator: ${signal}, shutting down`);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await emulator.close();
}

function buildProgram(): Command {
  const program = new Command("aws-runas-emulator")
    .description("Local stand-in for the AWS APIs and Session Manager used by aws-runas (tests, demos)")
    .option("--port <n>", "API port on 127.0.0.1 (0 = any free port)")
    .option("--fixture <file>", "JSON fixture describing instances, DNS, IAM and KMS (default: built-in)")
    .option("--dns-port <n>", "DNS server port on 127.0.0.1 (0 = any free port)")
    .option("--pacing <mode>", "agent read pacing: realistic (1 KiB reads, 1 ms pause) or none", "none")
    .option(
      "--fault <spec>",
      "inject a fault (repeatable): drop-websocket-after=N, duplicate=P, reorder=P (P: percent of the frames to the client), delay=MS, corrupt-digest=N, refuse-resume, target-not-connected=ID",
      collect,
    )
    .option(
      "--state-dir <dir>",
      "directory for config, credentials and state files (default: a temp dir removed on exit)",
    )
    .option("--require-signed-channel", "refuse data-channel websockets whose upgrade is not SigV4-signed")
    .option("-v, --verbose", "log API calls to stderr (repeat for more)", (_: string, n: number) => n + 1, 0)
    .option(
      "--detach",
      "run in the background: print the exports (and RUNAS_EMULATOR_PID) once ready, then return",
    )
    .option("--log <file>", "with --detach: append the emulator's output to this file (default: discarded)")
    .option("--stop", "stop the emulator RUNAS_EMULATOR_PID names and print `unset` for its variables")
    .addOption(new Option("--ready-fd <n>").hideHelp())
    .showHelpAfterError()
    // Options after a subcommand belong to it (both have --state-dir).
    .enablePositionalOptions()
    .exitOverride()
    .action(async (opts: ProgramOptions) => {
      await run(opts);
    });
  program
    .command("authorized-keys")
    .description(
      "print the EC2 Instance Connect keys currently valid for <user> (sshd AuthorizedKeysCommand)",
    )
    .argument("<user>", "OS user name")
    .requiredOption("--state-dir <dir>", "the emulator's state directory (RUNAS_EMULATOR_STATE_DIR)")
    .action(async (user: string, opts: { stateDir: string }) => {
      if (opts.stateDir === "") throw new UsageError("--state-dir needs a directory");
      for (const key of await readAuthorizedKeys(opts.stateDir, user)) process.stdout.write(`${key}\n`);
    });
  return program;
}

async function main(argv: readonly string[]): Promise<void> {
  const verbose = argv.includes("-v") || argv.includes("--verbose");
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed the message (or the help text).
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    reportError(error, verbose);
  }
}

await main(process.argv);
