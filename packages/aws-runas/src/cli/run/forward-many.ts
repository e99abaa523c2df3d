/**
 * `aws-runas ssm forward -L ... -L ... target`: several forwards to one instance in one process.
 * Each `-L` gets its own listener and its own session (mux mode serves any number of connections
 * on it). Sessions start at start, not at the first connection: a destination the service or the
 * instance refuses shows up at once, and the first connection does not wait for a StartSession.
 * Ctrl-C / SIGTERM terminates every session and exits 0.
 */
import type { Server } from "node:net";
import { RunasError } from "@aws-runas/wire/errors.js";
import type { DataChannel } from "../../datachannel/index.js";
import { exposureWarning, formatHostPort } from "../../forward/bind.js";
import { isInstanceDestination, type LocalForward } from "../../forward/spec.js";
import type { StopReason } from "../../session/ending.js";
import { LocalListenError, listenLocal, runPortSession } from "../../session/port.js";
import {
  endSession,
  type StartedSession,
  type StartSessionRequest,
  startSession,
  terminateSession,
} from "../../session/start.js";
import type { RunContext } from "../context.js";
import type { ForwardInput } from "../inputs.js";
import { openAwsSession, openChannel, resolveInstance } from "./aws-session.js";
import { exitCodeFor } from "./session-end.js";

interface Listener {
  forward: LocalForward;
  server: Server;
  host: string;
  port: number;
}

interface Opened {
  started: StartedSession;
  channel: DataChannel;
}

/** The StartSession request of one `-L` destination. */
export function localForwardRequest(
  instanceId: string,
  forward: LocalForward,
  localPort: number,
): StartSessionRequest {
  if (isInstanceDestination(forward)) {
    return {
      target: instanceId,
      documentName: "AWS-StartPortForwardingSession",
      parameters: { portNumber: [String(forward.hostPort)], localPortNumber: [String(localPort)] },
    };
  }
  return {
    target: instanceId,
    documentName: "AWS-StartPortForwardingSessionToRemoteHost",
    parameters: {
      host: [forward.host],
      portNumber: [String(forward.hostPort)],
      localPortNumber: [String(localPort)],
    },
  };
}

export async function runLocalForwards(input: ForwardInput, ctx: RunContext): Promise<number> {
  // Bind every listener first: a busy port fails before any session exists.
  const listeners: Listener[] = [];
  try {
    for (const forward of input.forwards) {
      const server = await listenLocal(forward.localPort, forward.bindAddress ?? input.bindAddress);
      const address = server.address() as { address: string; port: number };
      listeners.push({ forward, server, host: address.address, port: address.port });
    }
  } catch (error) {
    for (const l of listeners) l.server.close();
    // The local ports come from -L here, not -p: the hint says so.
    if (error instanceof LocalListenError && error.code === "LOCAL_PORT_IN_USE") {
      throw new RunasError(error.code, error.message, {
        hint: "choose another local_port in that -L",
        cause: error,
      });
    }
    throw error;
  }
  const closeListeners = () => {
    for (const l of listeners) l.server.close();
  };
  const warning = exposureWarning(listeners);
  if (warning) ctx.logger.warn(warning);

  const aws = await openAwsSession(input, ctx).catch((error) => {
    closeListeners();
    throw error;
  });
  const opened: Opened[] = [];
  // Listened for from before the sessions start: Ctrl-C while they start must terminate the ones
  // that did (the default action would leave them open on the service side).
  let stopped = false;
  const stop = new Promise<StopReason>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.once(signal, () => {
        stopped = true;
        resolve({ kind: "signal", signal });
      });
    }
  });
  try {
    const { instanceId } = await resolveInstance(input.target, aws, ctx);
    if (stopped) return 0;
    const ssm = await aws.client("ssm");
    const results = await Promise.allSettled(
      listeners.map(async (l) => {
        const started = await startSession(
          ssm,
          localForwardRequest(instanceId, l.forward, l.port),
          ctx.logger,
        );
        try {
          return { started, channel: await openChannel(aws, started, instanceId, ctx) };
        } catch (error) {
          await terminateSession(ssm, started.sessionId, ctx.logger);
          throw error;
        }
      }),
    );
    for (const r of results) if (r.status === "fulfilled") opened.push(r.value);
    const endOpened = (o: (typeof opened)[number]) =>
      endSession({ ssm, sessionId: o.started.sessionId, logger: ctx.logger, channel: o.channel, flag: true });
    const failed = results.find((r) => r.status === "rejected");
    if (stopped) {
      await Promise.all(opened.map((o) => endOpened(o)));
      return 0;
    }
    if (failed) {
      // All or nothing: a half-working set of forwards is easy to miss.
      await Promise.all(opened.map((o) => endOpened(o)));
      throw failed.reason;
    }

    for (const [i, l] of listeners.entries()) {
      const dest = formatHostPort(l.forward.host, l.forward.hostPort);
      ctx.stderr.write(
        `Forwarding ${formatHostPort(l.host, l.port)} -> ${dest} (sessionId ${opened[i]!.started.sessionId}).\n`,
      );
    }
    ctx.stderr.write("Waiting for connections...\n");

    const codes = await Promise.all(
      listeners.map(async (l, i) => {
        const { started, channel } = opened[i]!;
        const result = await runPortSession({ channel, server: l.server, logger: ctx.logger, stop });
        // A forward whose session ended stops listening; the others keep running.
        l.server.close();
        // Flag, our close, then the API: an open channel would take the service's close for a drop.
        await endSession({ ssm, sessionId: started.sessionId, logger: ctx.logger, channel, flag: true });
        try {
          return exitCodeFor("forward", result.outcome, started.sessionId, () =>
            ctx.stderr.write(`Exiting session with sessionId: ${started.sessionId}.\n`),
          );
        } catch (error) {
          // One destination failing must not stop the others: its line now, its code at the end.
          ctx.stderr.write(`aws-runas: ${(error as Error).message}\n`);
          return (error as { exitCode?: number }).exitCode ?? 1;
        }
      }),
    );
    return Math.max(0, ...codes);
  } finally {
    for (const o of opened) o.channel.close();
    closeListeners();
    aws.destroy();
  }
}
