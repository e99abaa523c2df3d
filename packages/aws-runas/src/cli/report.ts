/** How a failure is shown to the user: one line, an optional hint, a stack only under `-v`. Pure. */
import { RunasError } from "@aws-runas/wire/errors.js";

/**
 * What to do about failures the library reports by code alone. The layer that notices a busy
 * port or a silent smux peer knows neither the flags nor the user; the CLI does, so the advice
 * lives here. A hint the error carries itself (AWS answers, usage errors) comes first.
 */
const HINTS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    LOCAL_PORT_IN_USE: "choose another port with -p, or leave -p out for a random free port",
    LOCAL_PORT_DENIED: "ports below 1024 need privileges; use a port of 1024 or above",
    CHANNEL_TIMED_OUT: "the service ended the session while the connection was down; start a new session",
    CHANNEL_LOST: "check the network; the session may have been terminated",
    CHANNEL_RETRANSMIT_LIMIT: "the instance or the network path to it may be down; try again",
    MUX_KEEPALIVE_TIMEOUT:
      "both sides must agree on smux keepalive, which the agent decides from the client version; try again",
    MUX_BAD_FRAME: "the peer does not speak the same smux version, or the byte stream is out of step",
  }),
);

/** The hint shown under an error's line: its own, else the CLI's for its code. */
export function hintFor(error: RunasError): string | undefined {
  return error.hint ?? HINTS.get(error.code);
}

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
    const hint = hintFor(error);
    if (hint) lines.push(`hint: ${oneLine(hint)}`);
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
