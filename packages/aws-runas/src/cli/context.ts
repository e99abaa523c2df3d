/** What a command runner gets besides its input: logger, environment and the standard streams. */
import { createLogger, type Logger, type LogLevel } from "@aws-runas/wire/log.js";
import type { Env } from "./inputs.js";

/** The process's standard streams and environment (injected so tests can run the CLI in-process). */
export interface CliIo {
  readonly env: Env;
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** Passed to `runShell` / `runForward` / `runSsh`. */
export interface RunContext extends CliIo {
  /** Logs to stderr at the `-v` level; secrets registered with it are never printed. */
  readonly logger: Logger;
}

/** Builds the run context; `secrets` (e.g. the MFA code) are registered for redaction at once. */
export function createRunContext(
  io: CliIo,
  verbosity: LogLevel,
  secrets: readonly (string | undefined)[] = [],
): RunContext {
  const logger = createLogger(verbosity, (line) => io.stderr.write(`${line}\n`));
  for (const secret of secrets) logger.addSecret(secret);
  return { ...io, logger };
}
