/**
 * Errors of the emulator program itself (not the AWS errors its APIs answer with, which live in
 * `api/errors.ts` because they are data sent to clients, not failures of the emulator).
 */
import { ExitCode, RunasError } from "@aws-runas/wire/errors.js";

/** A `--fixture` file that cannot be read or does not describe a valid world. */
export class FixtureError extends RunasError {
  constructor(message: string, hint?: string) {
    super("EMULATOR_FIXTURE", message, { hint, exitCode: ExitCode.usage });
  }
}

/** The emulator could not start (port in use, state directory not writable...). */
export class EmulatorStartError extends RunasError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super("EMULATOR_START", message, options);
  }
}
