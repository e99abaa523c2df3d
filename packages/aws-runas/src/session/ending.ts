/**
 * How a session we started ends — the same for `shell`, `forward` and `ssh` (issue 14,
 * invariant 1). Two halves:
 *
 * - {@link watchStop}: the reasons from outside the session to stop it — SIGINT / SIGTERM /
 *   SIGHUP (each command picks the signals that end it), and stdout closed under us (EPIPE, a
 *   reader such as `head -1` that went away) — folded into one promise. While the watch is on,
 *   those signals never kill the process before the session is terminated; a second one while
 *   the session is being ended gives up on it and lets the signal act.
 * - {@link SessionOutcome}: how the session itself ended, which the commands turn into their
 *   exit code and at most one line (see the README's "Exit codes" table).
 *
 * The termination itself (flag and TerminateSession API) is `endSession` in `start.ts`; every
 * command calls it in a `finally`, so no path can skip it.
 */
import type { DataChannel } from "../datachannel/index.js";

export type StopSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

/** Why something outside the session asked it to stop. */
export type StopReason = { kind: "signal"; signal: StopSignal } | { kind: "stdout-closed" };

/** How a session ended, as its runner saw it. */
export type SessionOutcome =
  /** The service closed the channel (channel_closed); `output` is its reason, empty on a normal end. */
  | { kind: "closed"; output: string }
  /** Our side asked to stop (signal, stdout closed, stdin closed for `ssh`). */
  | { kind: "stopped"; reason: StopReason | { kind: "stdin-closed" } };

/** Exit status of a process killed by `signal`, as shells report it (128 + the signal number). */
export const SIGNAL_EXIT: Readonly<Record<StopSignal | "SIGPIPE", number>> = {
  SIGHUP: 129,
  SIGINT: 130,
  SIGPIPE: 141,
  SIGTERM: 143,
};

export interface StopWatchOptions {
  /** The signals that end this command (shell: TERM and HUP; INT goes to the remote side). */
  signals: readonly StopSignal[];
  /** Watched for EPIPE / a closed pipe; writes after that are dropped instead of thrown. */
  stdout?: NodeJS.WritableStream;
  /** Signal source (injected for tests). */
  source?: NodeJS.EventEmitter;
  /** A second signal while the session is being ended: default, let the signal act. */
  force?: (signal: StopSignal) => void;
}

export interface StopWatch {
  /** Resolves with the first reason to stop; never rejects. */
  readonly stopped: Promise<StopReason>;
  /** The reason, once there is one. */
  readonly reason: StopReason | undefined;
  /**
   * Stops watching `signal`: its owner handles it from now on (a running shell sends SIGINT on
   * to the remote side as a byte; until then Ctrl-C ends the session like the other signals).
   */
  release(signal: StopSignal): void;
  /** Removes every listener; signals act normally again. Idempotent. */
  dispose(): void;
}

/** Starts watching; dispose it once the session has been ended. */
export function watchStop(options: StopWatchOptions): StopWatch {
  const source = options.source ?? process;
  let reason: StopReason | undefined;
  let resolveStopped!: (reason: StopReason) => void;
  const stopped = new Promise<StopReason>((resolve) => {
    resolveStopped = resolve;
  });
  const cleanups: Array<() => void> = [];
  const signalListeners = new Map<StopSignal, () => void>();
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
  const stop = (next: StopReason) => {
    if (reason) return;
    reason = next;
    resolveStopped(next);
  };

  const force =
    options.force ??
    ((signal: StopSignal) => {
      // The user insists (e.g. Ctrl-C again while TerminateSession is slow): stop waiting.
      dispose();
      process.kill(process.pid, signal);
    });
  for (const signal of options.signals) {
    const onSignal = () => {
      if (reason) force(signal);
      else stop({ kind: "signal", signal });
    };
    source.on(signal, onSignal);
    signalListeners.set(signal, onSignal);
    cleanups.push(() => source.off(signal, onSignal));
  }

  const stdout = options.stdout;
  if (stdout) {
    // Without a listener an EPIPE is an uncaught exception with a stack trace.
    // Any write error (EPIPE, ECONNRESET...) means the same: nobody reads our output any more.
    const onError = () => stop({ kind: "stdout-closed" });
    stdout.on("error", onError);
    // The listener stays after dispose(): a late write to a dead pipe must not crash the exit.
    cleanups.push(() => {
      stdout.off("error", onError);
      stdout.on("error", () => {});
    });
  }

  return {
    stopped,
    get reason() {
      return reason;
    },
    release(signal) {
      const listener = signalListeners.get(signal);
      if (listener) source.off(signal, listener);
      signalListeners.delete(signal);
    },
    dispose,
  };
}

/**
 * How the channel ends: channel_closed (with the service's reason), or our own close(); rejects
 * with the channel's error (connection lost for good, decryption failure...).
 */
export function channelEnded(channel: DataChannel): Promise<SessionOutcome> {
  return new Promise<SessionOutcome>((resolve, reject) => {
    channel.once("channelClosed", (info?: { output?: string }) =>
      resolve({ kind: "closed", output: (info?.output ?? "").trim() }),
    );
    channel.once("error", reject);
    channel.once("close", () => resolve({ kind: "closed", output: "" }));
  });
}

/** Resolves when the channel is ready, or with how it ended first (closed, lost, or `stop`). */
export function untilReady(
  channel: DataChannel,
  ended: Promise<SessionOutcome>,
): Promise<"ready" | SessionOutcome> {
  return Promise.race([
    channel.whenReady().then(
      () => "ready" as const,
      // Closed before it was ready: `ended` says how; it settles at the same time.
      () => ended,
    ),
    ended,
  ]);
}
