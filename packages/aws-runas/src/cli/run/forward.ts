/** Runs `aws-runas ssm forward`: listener → credentials → target → StartSession → port session. */
import { exposureWarning } from "../../forward/bind.js";
import { type ForwardSession, runHealingForward } from "../../session/heal.js";
import { listenLocal } from "../../session/port.js";
import { type StartedSession, type StartSessionRequest, startSession } from "../../session/start.js";
import type { RunContext } from "../context.js";
import type { ForwardInput } from "../inputs.js";
import { formatError } from "../report.js";
import { openAwsSession, openChannel, resolveInstance } from "./aws-session.js";
import { preparePluginFor, runWithPlugin } from "./plugin.js";
import { exitCodeFor, runStartedSession } from "./session-end.js";

/** Runs the session and resolves with the process exit code. */
export async function runForward(input: ForwardInput, ctx: RunContext): Promise<number> {
  if (input.forwards.length > 0) {
    const { runLocalForwards } = await import("./forward-many.js");
    return runLocalForwards(input, ctx);
  }
  const plugin = input.plugin ? await preparePluginFor(ctx) : undefined; // before any session exists
  // Bind first: a busy or privileged port fails before any session is created.
  const server = plugin ? null : await listenLocal(input.localPort, input.bindAddress);
  const warning =
    server &&
    exposureWarning(
      [server.address() as { address: string; port: number }].map((a) => ({ host: a.address, port: a.port })),
    );
  if (warning) ctx.logger.warn(warning);
  const aws = await openAwsSession(input, ctx).catch((error) => {
    server?.close();
    throw error;
  });
  try {
    const { instanceId } = await resolveInstance(input.target, aws, ctx);
    const localPort = server ? (server.address() as { port: number }).port : input.localPort;
    const request: StartSessionRequest = input.remoteHost
      ? {
          target: instanceId,
          documentName: "AWS-StartPortForwardingSessionToRemoteHost",
          parameters: {
            host: [input.remoteHost],
            portNumber: [String(input.remotePort)],
            localPortNumber: [String(localPort)],
          },
        }
      : {
          target: instanceId,
          documentName: "AWS-StartPortForwardingSession",
          parameters: { portNumber: [String(input.remotePort)], localPortNumber: [String(localPort)] },
        };
    const ssm = await aws.client("ssm");
    if (!server) {
      const started = await startSession(ssm, request, ctx.logger);
      return await runWithPlugin({ plugin: plugin!, aws, started, request, ctx, interactive: false });
    }

    const start = () => startSession(ssm, request, ctx.logger);
    return await runStartedSession({ command: "forward", ssm, ctx, start }, async (started, scope) => {
      const open = async (session: StartedSession): Promise<ForwardSession> => {
        const channel = await openChannel(aws, session, instanceId, ctx);
        scope.setChannel(channel);
        return { sessionId: session.sessionId, channel };
      };
      const first = await open(started);
      ctx.stderr.write(
        `Port ${localPort} opened for sessionId ${started.sessionId}.\nWaiting for connections...\n`,
      );
      // The listener outlives a session that ends for good; see src/session/heal.ts.
      const { outcome, last } = await runHealingForward({
        server,
        first,
        open: async () => {
          const next = await startSession(ssm, request, ctx.logger);
          await scope.replaceSession(next);
          return open(next);
        },
        heal: input.reconnect,
        stop: scope.stop.stopped,
        logger: ctx.logger,
        status: (line) => ctx.stderr.write(`${line}\n`),
        reportError: (error) => ctx.stderr.write(formatError(error, 0, (text) => ctx.logger.redact(text))),
      });
      return exitCodeFor("forward", outcome, last.sessionId, () =>
        ctx.stderr.write(`\nExiting session with sessionId: ${last.sessionId}.\n`),
      );
    });
  } finally {
    server?.close();
    aws.destroy();
  }
}
