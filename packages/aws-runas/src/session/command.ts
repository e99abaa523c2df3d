/**
 * Remote commands (`ssm shell … -- command [args…]`) over an AWS-StartNonInteractiveCommand
 * session (ssm-protocol.md §2.1, §4.6, §6.1).
 *
 * What agents can do decides the shape of the request:
 * - The agent splits the command into words and runs it without a shell, and gives it no stdin
 *   (its only use of client input is 0x03 → SIGINT, 0x1C → SIGQUIT). So the command goes out as
 *   `sh -c '<script>'`, and piped stdin travels inside the script, base64-encoded.
 * - Agents from 3.1.1511.0 send stderr as StdErr (pt 11) and the exit status as ExitCode
 *   (pt 12) when asked with `separateOutputStream`. Older ones (from 3.0.1124.0) merge stderr
 *   into stdout and send no exit code: the script therefore ends by printing a marker line with
 *   the status, which is cut from stdout again and used when no ExitCode message came.
 *
 * The pure parts (script building, ExitCode parsing, the marker filter) are exported for tests.
 */

import { ChannelError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import { PayloadType } from "@aws-runas/wire/protocol/index.js";
import type { DataChannel } from "../datachannel/index.js";
import { isNewerThan } from "./versions.js";

/** First agent release that sends StdErr and ExitCode (agent release notes). */
export const SEPARATE_OUTPUT_AGENT = "3.1.1511.0";
/** First agent release with the NonInteractiveCommands plugin (agent release notes). */
export const NON_INTERACTIVE_AGENT = "3.0.1124.0";
/** Raw stdin bytes a remote command takes (it rides inside the StartSession request). */
export const MAX_COMMAND_STDIN = 48 * 1024;

/** Quotes one word for both the agent's word splitter (shlex) and POSIX sh. */
export function quoteWord(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export interface RemoteCommandParts {
  /** The words after `--`; joined with spaces and run by the remote `sh`, as ssh does. */
  words: readonly string[];
  /** Piped stdin for the command (empty: the command's stdin is /dev/null). */
  stdin: Buffer;
  /** The exit-status marker's unique name (see {@link ExitMarkerFilter}). */
  marker: string;
}

/** The `command` parameter of AWS-StartNonInteractiveCommand for the given parts. */
export function buildRemoteCommand(parts: RemoteCommandParts): string {
  const userCommand = `sh -c ${quoteWord(parts.words.join(" "))}`;
  const withInput =
    parts.stdin.length > 0
      ? `printf %s ${parts.stdin.toString("base64")} | base64 -d | ${userCommand}`
      : `${userCommand} </dev/null`;
  // The marker goes out after the command's own output, and the script keeps its status.
  const script = `${withInput}; rc=$?; printf '\\n%s:%d\\n' ${parts.marker} "$rc"; exit "$rc"`;
  return `sh -c ${quoteWord(script)}`;
}

/** `EXIT_CODE: <n>` (AGT `sendExitCode`) → n; undefined for anything else. */
export function parseExitCode(payload: Buffer): number | undefined {
  const m = /^EXIT_CODE: (-?\d+)\s*$/.exec(payload.toString("utf8"));
  return m ? Number(m[1]) : undefined;
}

/** A remote status → ours: 0..255 as is, anything else (-1 = killed by a signal) → 255. */
export function localExitCode(remote: number): number {
  return Number.isInteger(remote) && remote >= 0 && remote <= 255 ? remote : 255;
}

/**
 * Cuts the trailing `\n<marker>:<status>\n` line from stdout. Only bytes that could still be
 * the start of that line are held back (a final newline, say), so output streams as it comes.
 */
export class ExitMarkerFilter {
  readonly #marker: string;
  readonly #pattern: RegExp;
  readonly #hold: number;
  #tail = Buffer.alloc(0);

  constructor(marker: string) {
    this.#marker = marker;
    this.#pattern = new RegExp(`\\n${marker}:(-?\\d+)\\n$`);
    this.#hold = marker.length + 16;
  }

  /** Returns the bytes that can no longer be part of the marker line. */
  push(chunk: Buffer): Buffer {
    const all = this.#tail.length === 0 ? chunk : Buffer.concat([this.#tail, chunk]);
    const keepFrom = this.#markerStart(all);
    this.#tail = Buffer.from(all.subarray(keepFrom));
    return all.subarray(0, keepFrom);
  }

  /** The first newline from which the rest may still grow into the marker line (else the end). */
  #markerStart(all: Buffer): number {
    for (
      let p = all.indexOf(0x0a, Math.max(0, all.length - this.#hold));
      p >= 0;
      p = all.indexOf(0x0a, p + 1)
    ) {
      const rest = all.subarray(p + 1).toString("latin1");
      const head = `${this.#marker}:`;
      if (head.startsWith(rest) || (rest.startsWith(head) && /^-?\d*\n?$/.test(rest.slice(head.length)))) {
        return p;
      }
    }
    return all.length;
  }

  /** At the end: the rest of the output and the status, when the marker line was there. */
  end(): { rest: Buffer; status: number | undefined } {
    const tail = this.#tail;
    this.#tail = Buffer.alloc(0);
    const m = this.#pattern.exec(tail.toString("latin1"));
    if (!m) return { rest: tail, status: undefined };
    return { rest: tail.subarray(0, m.index), status: Number(m[1]) };
  }
}

export interface CommandSessionOptions {
  channel: DataChannel;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  marker: string;
  logger: Logger;
  /** Ends the session on the service side (TerminateSession). */
  terminate: () => Promise<void>;
  /** Process-level signal source (injected for tests). */
  signals?: NodeJS.EventEmitter;
}

/** `version` is `floor` or newer (four-part versions). */
function atLeast(version: string, floor: string): boolean {
  return version === floor || isNewerThan(version, floor);
}

type Listener = Parameters<NodeJS.EventEmitter["on"]>[1];

/** Go's `ExitError.ExitCode()` for a process ended by a signal, as the agent reports it. */
const SIGNALLED = -1;

/** Exit status when the user interrupts twice, or a fatal signal arrives (128 + signal). */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129, SIGPIPE: 141 };

/**
 * Runs the command session until channel_closed; resolves with our exit status (the remote one).
 * The first Ctrl-C is passed on (the agent interrupts the command); a second one, SIGTERM or
 * SIGHUP end the session with TerminateSession.
 */
export async function runCommandSession(options: CommandSessionOptions): Promise<number> {
  const { channel, stdout, stderr, logger } = options;
  const signals = options.signals ?? process;
  const filter = new ExitMarkerFilter(options.marker);
  let exitCode: number | undefined;
  /** Why the service closed the session (channel_closed), empty on a normal end. */
  let closedOutput = "";
  let interrupted = false;
  let stdoutClosed = false;
  const cleanups: Array<() => void> = [];
  const on = (emitter: NodeJS.EventEmitter, event: string, fn: Listener) => {
    emitter.on(event, fn);
    cleanups.push(() => emitter.off(event, fn));
  };

  try {
    const ended = new Promise<number | "closed">((resolve, reject) => {
      channel.once("channelClosed", ({ output }: { output: string }) => {
        closedOutput = output.trim();
        resolve("closed");
      });
      channel.once("close", () => resolve("closed"));
      channel.once("error", reject);
      const stopBy = (signal: string) => {
        logger.debug(`${signal}: terminating the session`);
        void options.terminate().finally(() => resolve(SIGNAL_EXIT[signal] ?? 1));
      };
      on(signals, "SIGINT", () => {
        if (interrupted || !channel.isReady) return stopBy("SIGINT");
        interrupted = true;
        stderr.write("Interrupting the remote command; press Ctrl-C again to end the session.\n");
        channel.write(Buffer.from([0x03]));
      });
      on(signals, "SIGTERM", () => stopBy("SIGTERM"));
      on(signals, "SIGHUP", () => stopBy("SIGHUP"));
      // Nobody reads our stdout any more (`… | head -1`): end the session quietly, like SIGPIPE.
      on(stdout, "error", () => {
        if (stdoutClosed) return;
        stdoutClosed = true;
        stopBy("SIGPIPE");
      });
    });

    channel.once("ready", (info: { customerMessage: string }) => {
      if (info.customerMessage) stderr.write(`${info.customerMessage}\n`);
      const agent = channel.agentVersion;
      if (agent && atLeast(agent, NON_INTERACTIVE_AGENT) && !atLeast(agent, SEPARATE_OUTPUT_AGENT)) {
        logger.warn(
          `SSM Agent ${agent} sends the command's stderr mixed into stdout (separate streams need agent 3.1.1511.0 or later)`,
        );
      }
    });
    on(channel, "sideband", (type: number, data: Buffer) => {
      if (type === PayloadType.stdErr) stderr.write(data);
      else if (type === PayloadType.exitCode) exitCode = parseExitCode(data) ?? exitCode;
    });
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        const out = filter.push(chunk);
        if (stdoutClosed) return;
        if (out.length > 0 && !stdout.write(out)) {
          channel.pause();
          stdout.once("drain", () => channel.resume());
        }
      };
      channel.on("data", onData);
      cleanups.push(() => channel.off("data", onData));
      ended.then(() => resolve(), reject);
    });
    const result = await ended;
    if (typeof result === "number") return result;
    // Output the stream still holds (pushed before channel_closed but not yet emitted).
    channel.pause();
    for (
      let chunk = channel.read() as Buffer | null;
      chunk !== null;
      chunk = channel.read() as Buffer | null
    ) {
      const out = filter.push(chunk);
      if (out.length > 0 && !stdoutClosed) stdout.write(out);
    }
    const { rest, status } = filter.end();
    if (rest.length > 0 && !stdoutClosed) {
      await new Promise<void>((resolve) => stdout.write(rest, () => resolve()));
    }
    const remote = exitCode ?? status;
    if (remote === undefined && closedOutput !== "") {
      // The agent said why (e.g. it has no NonInteractiveCommands plugin): that is the one line.
      throw new ChannelError("SESSION_ENDED", `session ${channel.sessionId} ended: ${closedOutput}`);
    }
    if (remote === undefined) {
      throw new ChannelError("NO_EXIT_CODE", "the session ended without the command's exit status", {
        hint: "the command may have been stopped on the instance, or the agent could not run it",
      });
    }
    // Killed by a signal (the agent says -1): after our Ctrl-C that signal was SIGINT.
    if (remote === SIGNALLED && interrupted) return SIGNAL_EXIT.SIGINT!;
    if (localExitCode(remote) !== remote) logger.debug(`remote exit status ${remote} reported as 255`);
    return localExitCode(remote);
  } finally {
    for (const cleanup of cleanups.reverse()) cleanup();
    // A late write to a dead pipe must not crash the exit with an unhandled error.
    if (stdoutClosed) stdout.on("error", () => {});
  }
}
