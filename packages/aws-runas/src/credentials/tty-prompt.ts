/**
 * Asking the user something on the controlling terminal. Under `ssh -o ProxyCommand` our
 * stdin/stdout carry the SSH stream, so a prompt there would corrupt it; the terminal
 * (`/dev/tty`) is the only safe place. Kept tiny and path-driven so a test can hand it a pty.
 */
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { isatty, ReadStream } from "node:tty";
import { RunasError } from "@aws-runas/wire/errors.js";

/** The controlling terminal of this process. */
export const CONTROLLING_TERMINAL = "/dev/tty";

/** There is no terminal to prompt on (no controlling tty, or the path is not a terminal). */
export class NoTerminalError extends RunasError {
  constructor(path: string, cause?: unknown) {
    super("NO_TERMINAL", `no terminal to prompt on (${path})`, { cause });
  }
}

/**
 * Writes `message` to the terminal at `path` (default `/dev/tty`), reads one line from it and
 * returns the line without its end. Ends at Enter (`\n`, or `\r` for a raw-mode terminal) or
 * end of input. Throws {@link NoTerminalError} when `path` cannot be opened as a terminal.
 */
export async function promptOnTerminal(
  message: string,
  path: string = CONTROLLING_TERMINAL,
): Promise<string> {
  let fd: number;
  try {
    // O_NOCTTY: reading a code must never make this terminal our controlling one.
    fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  } catch (error) {
    throw new NoTerminalError(path, error);
  }
  if (!isatty(fd)) {
    closeSync(fd);
    throw new NoTerminalError(path);
  }
  try {
    writeSync(fd, message);
  } catch (error) {
    closeSync(fd);
    throw new NoTerminalError(path, error);
  }
  // The stream owns the descriptor from here on and closes it when destroyed.
  const input = new ReadStream(fd);
  input.setEncoding("utf8");
  return new Promise<string>((resolve, reject) => {
    let buffered = "";
    const finish = (error: Error | undefined, line: string) => {
      input.removeAllListeners("data");
      input.removeAllListeners("end");
      input.removeAllListeners("error");
      input.on("error", () => {});
      input.destroy();
      if (error) reject(new NoTerminalError(path, error));
      else resolve(line);
    };
    input.on("data", (chunk: string) => {
      buffered += chunk;
      const end = buffered.search(/[\r\n]/);
      if (end >= 0) finish(undefined, buffered.slice(0, end));
    });
    input.on("end", () => finish(undefined, buffered));
    input.on("error", (error) => finish(error, ""));
  });
}
