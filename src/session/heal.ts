/**
 * A forward that heals (issue 15 item 5): when its session ends for good — idle timeout,
 * maximum session duration, agent restart, terminated elsewhere, or a connection that could not
 * be resumed — the listener stays open, and the next local connection starts a new session
 * (one line says so). Connections open at the end are closed; Ctrl-C / SIGTERM still end it all.
 * Without `heal` the first session's end ends the forward, as before.
 */
import { once } from "node:events";
import type { Server, Socket } from "node:net";
import type { DataChannel } from "../datachannel/index.js";
import { RunasError } from "../errors.js";
import type { Logger } from "../log.js";
import { runPortSession } from "./port.js";

/** One started session of the forward. */
export interface ForwardSession {
  sessionId: string;
  channel: DataChannel;
  /** TerminateSession (best effort), after the user stopped the forward. */
  terminate(): Promise<void>;
}

export interface HealingForwardOptions {
  server: Server;
  first: ForwardSession;
  /** StartSession + open the channel, for the next session. */
  open(): Promise<ForwardSession>;
  heal: boolean;
  stop: Promise<void>;
  logger: Logger;
  /** One status line (no newline). */
  status(line: string): void;
  /** Prints a failed heal (one error line, with its hint). */
  reportError(error: unknown): void;
}

export interface HealingForwardResult {
  exitCode: number;
  /** The session that was running at the end. */
  last: ForwardSession;
  /** True when the user stopped it (the last session was terminated). */
  stopped: boolean;
}

export async function runHealingForward(options: HealingForwardOptions): Promise<HealingForwardResult> {
  const { server, logger } = options;
  let stopped = false;
  const stop = options.stop.then(() => {
    stopped = true;
  });
  let current = options.first;
  let initial: Socket[] = [];
  for (;;) {
    let exitCode = 0;
    let ending = "closed by the service";
    current.channel.once("channelClosed", ({ output }: { output: string }) => {
      if (output.trim()) ending = output.trim().replace(/\.$/, "");
    });
    try {
      const result = await runPortSession({
        channel: current.channel,
        server,
        logger,
        stop,
        keepListening: options.heal,
        initial,
      });
      exitCode = result.exitCode;
    } catch (error) {
      if (stopped || !options.heal) throw error;
      ending = (error as Error).message;
    } finally {
      current.channel.close();
    }
    // exitCode 1: the session never became ready (the agent refused it): nothing to heal.
    if (stopped || !options.heal || exitCode !== 0) return { exitCode, last: current, stopped };
    logger.debug(`session ${current.sessionId} ended (${ending}); waiting for the next connection`);
    for (;;) {
      const socket = await nextConnection(server, stop);
      if (!socket) return { exitCode: 0, last: current, stopped: true };
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
        if (stopped) return { exitCode: 0, last: current, stopped: true };
      }
    }
  }
}

/** The next connection to `server` (paused), or null when `stop` comes first. */
async function nextConnection(server: Server, stop: Promise<void>): Promise<Socket | null> {
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
