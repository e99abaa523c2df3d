/**
 * The local terminal of an interactive shell session: raw mode on, the original state restored on
 * every exit path (normal end, error, signal, websocket loss), and window size reporting.
 */
import type { ReadStream, WriteStream } from "node:tty";

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** A TTY stdin/stdout pair or plain streams. */
export interface TerminalIo {
  stdin: NodeJS.ReadableStream & Partial<Pick<ReadStream, "isTTY" | "setRawMode" | "isRaw">>;
  stdout: NodeJS.WritableStream & Partial<Pick<WriteStream, "isTTY" | "columns" | "rows">>;
}

export interface RawModeGuard {
  /** Puts the terminal back as it was. Idempotent; also runs on process exit. */
  restore(): void;
}

/** Enters raw mode when stdin is a TTY, and guarantees the restore even if the process dies. */
export function enterRawMode(io: TerminalIo): RawModeGuard {
  const stdin = io.stdin;
  if (!stdin.isTTY || !stdin.setRawMode) return { restore() {} };
  const wasRaw = stdin.isRaw ?? false;
  stdin.setRawMode(true);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.off("exit", restore);
    try {
      stdin.setRawMode?.(wasRaw);
    } catch {
      // The terminal is already gone (hang-up): nothing to restore.
    }
  };
  process.on("exit", restore);
  return { restore };
}

/** The window size of stdout, or null when it is not a terminal. */
export function terminalSize(io: TerminalIo): TerminalSize | null {
  const { stdout } = io;
  if (!stdout.isTTY || !stdout.columns || !stdout.rows) return null;
  return { cols: stdout.columns, rows: stdout.rows };
}
