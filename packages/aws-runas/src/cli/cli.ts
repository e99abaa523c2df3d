/**
 * The whole `aws-runas` program as a function: argv in, exit code out. Parses with
 * {@link parseCommandLine}, then loads the one module the command needs with a dynamic
 * `import()` — the AWS SDK and the session stack sit behind those, so `--help` and `--version`
 * never load them.
 */
import { exitCodeFor } from "@aws-runas/wire/errors.js";
import { type CliIo, createRunContext, type RunContext } from "./context.js";
import type { CompleteInput, CompletionInput, ListInput, SsmInput } from "./inputs.js";
import { parseCommandLine } from "./program.js";
import { formatError } from "./report.js";

/** Runs the program and returns its exit code; every failure is printed once, here. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let verbosity = 0;
  let redact = (text: string) => text;
  try {
    const outcome = parseCommandLine(argv, {
      env: io.env,
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
    if (outcome.kind === "exit") return outcome.exitCode;
    const input = outcome.input;
    if (input.command === "completion" || input.command === "complete") return await runCompletion(input, io);
    verbosity = input.global.verbosity;
    const ctx = createRunContext(io, input.global.verbosity, [input.global.mfaCode]);
    redact = ctx.logger.redact;
    return await runSession(input, ctx);
  } catch (error) {
    io.stderr.write(formatError(error, verbosity, redact));
    return exitCodeFor(error);
  }
}

async function runSession(input: SsmInput | ListInput, ctx: RunContext): Promise<number> {
  switch (input.command) {
    case "shell": {
      if (input.remoteCommand) {
        const { runRemoteCommand } = await import("./run/command.js");
        return runRemoteCommand(input, ctx);
      }
      const { runShell } = await import("./run/shell.js");
      return runShell(input, ctx);
    }
    case "forward": {
      const { runForward } = await import("./run/forward.js");
      return runForward(input, ctx);
    }
    case "ssh": {
      const { runSsh } = await import("./run/ssh.js");
      return runSsh(input, ctx);
    }
    case "list": {
      const { runList } = await import("./run/list.js");
      return runList(input, ctx);
    }
    case "socks": {
      const { runSocks } = await import("./run/socks.js");
      return runSocks(input, ctx);
    }
  }
}

async function runCompletion(input: CompletionInput | CompleteInput, io: CliIo): Promise<number> {
  const { completeLine, completionScript, targetRequest } = await import("./completion.js");
  if (input.command === "completion") {
    io.stdout.write(completionScript(input.shell));
    return 0;
  }
  const { readProfileNames } = await import("./profiles.js");
  // Instance ids and Name tags only where a target can go (the AWS SDK loads only then).
  const request = targetRequest(input.line);
  let targets: string[] = [];
  if (request) {
    const { loadTargetCandidates } = await import("./completion-targets.js");
    targets = await loadTargetCandidates(io.env, request.profile);
  }
  const candidates = completeLine(
    input.line,
    () => readProfileNames(io.env),
    () => targets,
  );
  io.stdout.write(candidates.map((c) => `${c}\n`).join(""));
  return 0;
}
