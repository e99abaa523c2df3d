/**
 * The `aws-runas-emulator` program.
 *
 * ```
 * aws-runas-emulator [--port N] [--fixture FILE] [--dns-port N] [--pacing realistic|none]
 *                    [--fault SPEC ...] [--state-dir DIR] [-v]
 * aws-runas-emulator authorized-keys --state-dir DIR <user>
 * ```
 * Started without a subcommand it serves until SIGINT/SIGTERM and prints only `export` lines on
 * stdout (logs go to stderr), so `eval "$(aws-runas-emulator &)"`-style scripts work.
 * `authorized-keys` prints the EC2 Instance Connect keys valid now for `<user>` (sshd's
 * `AuthorizedKeysCommand`).
 */
import { Command, CommanderError } from "commander";
import { exitCodeFor, RunasError, UsageError } from "../errors.js";
import { createLogger, type LogLevel } from "../log.js";
import { readAuthorizedKeys } from "./authorized-keys.js";
import { formatExports } from "./exports.js";
import { startEmulator } from "./index.js";
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

async function serve(raw: RawEmulatorOptions & { verbose?: number }): Promise<void> {
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
  process.stdout.write(formatExports(emulator.env));
  logger.info(
    `aws-runas-emulator: listening on ${emulator.endpointUrl} (state in ${emulator.stateDir}); Ctrl-C to stop`,
  );
  if (!("RUNAS_DNS_SERVERS" in emulator.env))
    logger.debug("emulator: no DNS server extension registered; RUNAS_DNS_SERVERS not set");
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
      "inject a fault (repeatable): drop-websocket-after=N, duplicate=P, reorder=P, delay=MS, corrupt-digest=N, refuse-resume, target-not-connected=ID",
      collect,
    )
    .option(
      "--state-dir <dir>",
      "directory for config, credentials and state files (default: a temp dir removed on exit)",
    )
    .option("--require-signed-channel", "refuse data-channel websockets whose upgrade is not SigV4-signed")
    .option("-v, --verbose", "log API calls to stderr (repeat for more)", (_: string, n: number) => n + 1, 0)
    .showHelpAfterError()
    // Options after a subcommand belong to it (both have --state-dir).
    .enablePositionalOptions()
    .exitOverride()
    .action(async (opts: RawEmulatorOptions & { verbose?: number }) => {
      await serve(opts);
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
