/**
 * Interactive shell sessions (Standard_Stream / InteractiveCommands) over a data channel
 * (ssm-protocol.md §6.1): keystrokes and piped input go out as they come, output is written as
 * it arrives, the window size is sent at start and on every resize, and Ctrl-C / Ctrl-Z / Ctrl-\
 * reach the remote side as bytes (raw mode), never as local signals.
 */

import type { Logger } from "@aws-runas/wire/log.js";
import { type Clock, type DataChannel, systemClock, type TimerHandle } from "../datachannel/index.js";
import { channelEnded, type SessionOutcome, type StopReason, untilReady } from "./ending.js";
import { enterRawMode, type TerminalIo, terminalSize } from "./terminal.js";

export interface ShellSessionOptions {
  channel: DataChannel;
  io: TerminalIo & { stderr: NodeJS.WritableStream };
  logger: Logger;
  /** Resolves when the client must leave (SIGTERM, SIGHUP, stdout closed): see `ending.ts`. */
  stop?: Promise<StopReason>;
  /** Process-level signal source for the signals sent on as bytes (injected for tests). */
  signals?: NodeJS.EventEmitter;
  /** Timers of the end-of-input Ctrl-D repeat (injected for tests). */
  clock?: Clock;
  /** Called once the session runs, before SIGINT & co. are sent on as bytes. */
  onRunning?: () => void;
  /** Keyboard input → bytes to send (the `~.` escapes, `cli/run/escape.ts`). */
  filterInput?: (chunk: Buffer) => Buffer;
}

/** Signals that become bytes for the remote terminal when they reach us anyway (not a TTY, or `kill`). */
const SIGNAL_BYTES: Record<string, number> = { SIGINT: 0x03, SIGTSTP: 0x1a, SIGQUIT: 0x1c };
const CTRL_D = Buffer.from([0x04]);

/**
 * Runs the session until the remote side closes it or `stop` resolves; resolves with how it
 * ended (the caller terminates the session and picks the exit code). The terminal is restored
 * before this returns, on every path.
 */
export async function runShellSession(options: ShellSessionOptions): Promise<SessionOutcome> {
  const { channel, io, logger } = options;
  const signals = options.signals ?? process;
  const raw = enterRawMode(io);
  const cleanups: Array<() => void> = [() => raw.restore()];
  const on = (emitter: NodeJS.EventEmitter, event: string, fn: () => void) => {
    emitter.on(event, fn);
    cleanups.push(() => emitter.off(event, fn));
  };

  try {
    const stopped = (options.stop ?? new Promise<never>(() => {})).then(
      (reason): SessionOutcome => ({ kind: "stopped", reason }),
    );
    const ended = Promise.race([channelEnded(channel), stopped]);

    channel.once("ready", (info: { customerMessage: string }) => {
      if (info.customerMessage) io.stderr.write(`${info.customerMessage}\n`);
    });
    // Closed before any output or handshake: a command that printed nothing, or a session that
    // never started (then channel_closed carries the reason).
    const first = await untilReady(channel, ended);
    if (first !== "ready") return first;

    const sendSize = () => {
      const size = terminalSize(io);
      if (size) channel.sendSize(size.cols, size.rows);
    };
    sendSize();
    on(io.stdout, "resize", sendSize);
    options.onRunning?.();
    for (const [signal, byte] of Object.entries(SIGNAL_BYTES)) {
      on(signals, signal, () => channel.write(Buffer.from([byte])));
    }

    channel.pipe(io.stdout, { end: false });
    cleanups.push(pumpInput(io, channel, logger, options.clock ?? systemClock, options.filterInput));
    return await ended;
  } finally {
    for (const cleanup of cleanups.reverse()) cleanup();
    channel.unpipe(io.stdout);
    io.stdin.pause();
  }
}

/**
 * After the end of piped input, Ctrl-D again each time the session has printed nothing for a
 * while (250 ms, doubling to 4 s). One Ctrl-D is not enough: a command that read stdin (`cat`)
 * takes it as its own end of input, and one typed while a command runs with the terminal in
 * canonical mode (`sleep 1`) is turned into a NUL by the remote tty and never reaches the shell.
 * Repeating it is what a user at a terminal does, and means "stdin has ended" to every reader.
 */
const EOF_REPEAT_FIRST_MS = 250;
const EOF_REPEAT_MAX_MS = 4000;

/**
 * Copies stdin to the channel with back-pressure. At the end of piped input the remote shell
 * gets Ctrl-D on an empty line (repeated, see above), so scripts end the session cleanly.
 */
function pumpInput(
  io: TerminalIo,
  channel: DataChannel,
  logger: Logger,
  clock: Clock,
  filter?: (chunk: Buffer) => Buffer,
): () => void {
  let last = 0x0a;
  const onData = (input: Buffer) => {
    const chunk = filter ? filter(input) : input;
    if (chunk.length === 0) return;
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
    if (!channel.write(chunk)) {
      io.stdin.pause();
      channel.once("drain", () => io.stdin.resume());
    }
  };
  let repeat: TimerHandle | undefined;
  let repeatMs = EOF_REPEAT_FIRST_MS;
  const scheduleRepeat = () => {
    repeat?.cancel();
    repeat = clock.after(repeatMs, () => {
      if (!channel.writable) return;
      logger.debug(`no output for ${repeatMs} ms since the end of input: sending Ctrl-D again`);
      channel.write(CTRL_D);
      repeatMs = Math.min(repeatMs * 2, EOF_REPEAT_MAX_MS);
      scheduleRepeat();
    });
  };
  // Output means the remote side is still busy: wait for it to go quiet again.
  const onOutput = () => {
    if (repeat) scheduleRepeat();
  };
  io.stdin.on("data", onData);
  const onEnd = () => {
    logger.debug("stdin closed: sending end-of-input to the remote shell");
    if (channel.writable) {
      // A shell runs its last line at end of input even without a newline; readline would
      // take Ctrl-D on a non-empty line as delete-char, so finish the line first.
      if (last !== 0x0a && last !== 0x0d) channel.write(Buffer.from("\n"));
      channel.write(CTRL_D);
      channel.on("data", onOutput);
      scheduleRepeat();
    }
  };
  io.stdin.once("end", onEnd);
  io.stdin.resume();
  const stopPump = () => {
    io.stdin.off("data", onData);
    io.stdin.off("end", onEnd);
    channel.off("data", onOutput);
    repeat?.cancel();
    repeat = undefined;
  };
  // A plain listener: once() would reject (unhandled) when the channel dies with an error.
  channel.once("close", stopPump);
  return stopPump;
}
