/** How a failure is shown to the user: one line, an optional hint, a stack only under `-v`. Pure. */
import { RunasError } from "@aws-runas/wire/errors.js";

/**
 * Formats a thrown value for stderr (ends with a newline).
 *
 * @param verbosity the `-v` count; from 1 the stack (and causes) are appended
 * @param redact scrubs secrets from the text (the run context's logger)
 */
export function formatError(
  error: unknown,
  verbosity: number,
  redact: (text: string) => string = (t) => t,
): string {
  const lines = [`aws-runas: ${oneLine(messageOf(error))}`];
  if (error instanceof RunasError) {
    if (error.hint) lines.push(`hint: ${oneLine(error.hint)}`);
  } else if (verbosity === 0) {
    // Not one of ours: most likely a bug, and the stack is what a report needs.
    lines.push("hint: this is unexpected; run again with -v to see where it happened");
  }
  if (verbosity > 0) lines.push(...stackLines(error));
  return `${redact(lines.join("\n"))}\n`;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** Stack of the error and of each `cause` (depth-limited against cycles). */
function stackLines(error: unknown): string[] {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    if (depth > 0) lines.push(`caused by: ${current.message}`);
    if (current.stack) lines.push(...current.stack.split("\n").filter((l) => /^\s+at /.test(l)));
    current = current.cause;
  }
  return lines;
}
