/**
 * A forward that heals (issue 15 item 5): when its session ends for good — idle timeout,
 * maximum session duration, agent restart, terminated elsewhere, or a connection that could not
 * be resumed — the listener stays open, and the next local connection starts a new session
 * (one line says so). Connections open at the end are closed; Ctrl-C / SIGTERM still end it all.
 * Without `heal` the first session's end ends the forward, as before. Terminating the sessions
 * is the caller's (the shared session end, src/cli/run/session-end.ts).
 */
import { once } from "node:events";
import type { Server, Socket } from "node:net";
import { RunasError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import type { DataChannel } from "../datachannel/index.js";
import type { SessionOutcome, StopReason } from "./ending.js";
import { runPortSession } from "./port.js";

/** One started session of the forward, its channel open. */
export interface ForwardSession {
  sessionId: string;
  channel: DataChannel;
}

export interface HealingForwardOptions {
  server: Server;
  first: ForwardSession;
  /** StartSession + open the channel, for the next session. */
  open(): Promise<ForwardSession>;
  heal: boolean;
  /** Resolves when the user asks to stop (see ending.ts). */
  stop: Promise<StopReason>;
  logger: Logger;
  /** One status line (no newline). */
  status(line: string): void;
  /** Prints a failed heal (one error line, with its hint). */
  reportError(error: unknown): void;
}

export interface HealingForwardResult {
  /** How the forward ended: stopped by the user, or (without healing) how its session ended. */
  outcome: SessionOutcome;
  /** The session that was running at the end. */
  last: ForwardSession;
}

export async function runHealingForward(options: HealingForwardOptions): Promise<HealingForwardResult> {
  const { server, logger, stop } = options;
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  let current = options.first;
  let initial: Socket[] = [];
  for (;;) {
    let ending = "closed by the service";
    try {
      const result = await runPortSession({
        channel: current.channel,
        server,
        logger,
        stop,
        keepListening: options.heal,
        initial,
      });
      // Not ready: the agent refused the session (e.g. nothing listens there): nothing to heal.
      if (!options.heal || !result.ready || result.outcome.kind === "stopped") {
        return { outcome: result.outcome, last: current };
      }
      if (result.outcome.output) ending = result.outcome.output.replace(/\.$/, "");
    } catch (error) {
      if (stopped || !options.heal) throw error;
      ending = (error as Error).message;
    }
    current.channel.close();
    options.status(
      `Session ${current.sessionId} ended (${ending}); the next connection starts a new session.`,
    );
    for (;;) {
      const socket = await nextConnection(server, stop);
      if (!socket) return { outcome: { kind: "stopped", reason: await stop }, last: current };
      try {
        const next = await options.open();
        options.status(
          `Session ${current.sessionId} had ended (${ending}); started session ${next.sessionId} for a new connection.`,
        );
        current = next;
        initial = [socket];
        break;
      } catch (error) {
        socket.destroy();
        options.reportError(error);
        if (stopped) return { outcome: { kind: "stopped", reason: await stop }, last: current };
      }
    }
  }
}

/** The next connection to `server` (paused), or null when `stop` comes first. */
async function nextConnection(server: Server, stop: Promise<StopReason>): Promise<Socket | null> {
  if (!server.listening) throw new RunasError("LOCAL_LISTENER_CLOSED", "the local listener has closed");
  const ac = new AbortController();
  const connection = once(server, "connection", { signal: ac.signal }).then(([socket]) => socket as Socket);
  connection.catch(() => {}); // aborted when `stop` wins
  try {
    const got = await Promise.race([connection, stop.then(() => null)]);
    got?.pause();
    return got;
  } finally {
    ac.abort();
  }
}
