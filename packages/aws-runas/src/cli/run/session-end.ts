/**
 * The one way every session command ends (issue 14, invariant 1): from StartSession on, signals
 * and a closed stdout are watched, and whatever happens next — normal end, remote exit, error,
 * signal, closed pipe, a session refused before it was ready — the session is terminated
 * (`endSession`) before the command returns. The exit code and the single line printed follow
 * the README's "Exit codes" table.
 */

import { ChannelError } from "@aws-runas/wire/errors.js";
import type { SsmClient } from "../../aws/ssm-client.js";
import type { DataChannel } from "../../datachannel/index.js";
import {
  type SessionOutcome,
  SIGNAL_EXIT,
  type StopSignal,
  type StopWatch,
  watchStop,
} from "../../session/ending.js";
import { endSession, type StartedSession } from "../../session/start.js";
import type { RunContext } from "../context.js";

export type SessionCommand = "shell" | "forward" | "ssh";

/**
 * The signals that end each command. A shell releases SIGINT once it runs: from then on Ctrl-C
 * goes to the remote side as a byte.
 */
const STOP_SIGNALS: Readonly<Record<SessionCommand, readonly StopSignal[]>> = {
  shell: ["SIGINT", "SIGTERM", "SIGHUP"],
  forward: ["SIGINT", "SIGTERM", "SIGHUP"],
  ssh: ["SIGINT", "SIGTERM", "SIGHUP"],
};

export interface SessionScope {
  /** Resolves when a signal or a closed stdout asks the command to stop. */
  readonly stop: StopWatch;
  /** Registers the opened data channel, so the end closes it (and flags port sessions). */
  setChannel(channel: DataChannel): void;
  /**
   * A healing forward's next session: the one before (over already, as a rule) is ended now, and
   * `next` becomes the session the end terminates. Its channel is registered with setChannel.
   */
  replaceSession(next: StartedSession): Promise<void>;
}

export interface StartedScopeOptions {
  command: SessionCommand;
  ssm: SsmClient;
  ctx: RunContext;
  /** Resolves with the started session; the stop watch is already on while it runs. */
  start: () => Promise<StartedSession>;
}

/**
 * Starts the session with the stop watch on, runs `body`, and terminates the session on every
 * way out of it — also when `body` throws — before resolving with `body`'s exit code.
 */
export async function runStartedSession(
  options: StartedScopeOptions,
  body: (started: StartedSession, scope: SessionScope) => Promise<number>,
): Promise<number> {
  const { command, ssm, ctx } = options;
  const stop = watchStop({
    signals: STOP_SIGNALS[command],
    // A forward writes nothing to stdout; the others stop quietly when their reader goes away.
    ...(command === "forward" ? {} : { stdout: ctx.stdout }),
  });
  // A hung-up terminal makes stderr fail too: the last line must not become a crash.
  ctx.stderr.on("error", () => {});
  let started: StartedSession;
  try {
    started = await options.start();
  } catch (error) {
    stop.dispose();
    throw error;
  }
  let current = started;
  let channel: DataChannel | undefined;
  const end = (sessionId: string, opened: DataChannel | undefined) =>
    endSession({ ssm, sessionId, logger: ctx.logger, channel: opened, flag: command !== "shell" });
  try {
    return await body(started, {
      stop,
      setChannel: (c) => {
        channel = c;
      },
      replaceSession: async (next) => {
        const [previous, opened] = [current, channel];
        current = next;
        channel = undefined;
        await end(previous.sessionId, opened);
      },
    });
  } finally {
    await end(current.sessionId, channel);
    stop.dispose();
  }
}

/**
 * The exit code for how a session ended (README "Exit codes"); an end with an error throws, so
 * the CLI prints its one line. `closing` prints the normal closing line where the command has one.
 */
export function exitCodeFor(
  command: SessionCommand,
  outcome: SessionOutcome,
  sessionId: string,
  closing: () => void = () => {},
): number {
  if (outcome.kind === "closed") {
    if (outcome.output !== "") {
      throw new ChannelError("SESSION_ENDED", `session ${sessionId} ended: ${outcome.output}`);
    }
    closing();
    return 0;
  }
  const { reason } = outcome;
  switch (reason.kind) {
    case "stdin-closed":
      return 0;
    case "stdout-closed":
      // Like any program whose reader went away (`| head -1`): quiet, with SIGPIPE's status.
      return SIGNAL_EXIT.SIGPIPE;
    case "signal":
      // Stopping a forward with a signal is how it normally ends; ssh hangs up its ProxyCommand
      // with SIGHUP whenever it exits. Both stay quiet about it.
      if (command === "forward") {
        closing();
        return 0;
      }
      if (command === "ssh") return reason.signal === "SIGHUP" ? 0 : SIGNAL_EXIT[reason.signal];
      throw new ChannelError("SIGNAL", `received ${reason.signal}: session ${sessionId} was terminated`, {
        exitCode: SIGNAL_EXIT[reason.signal],
      });
  }
}
