/** Runs `aws-runas ssm forward`: listener → credentials → target → StartSession → port session. */
import { exposureWarning } from "../../forward/bind.js";
import { listenLocal, runPortSession } from "../../session/port.js";
import { type StartSessionRequest, startSession } from "../../session/start.js";
import type { RunContext } from "../context.js";
import type { ForwardInput } from "../inputs.js";
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
      const channel = await openChannel(aws, started, instanceId, ctx);
      scope.setChannel(channel);
      ctx.stderr.write(
        `Port ${localPort} opened for sessionId ${started.sessionId}.\nWaiting for connections...\n`,
      );
      const { outcome } = await runPortSession({
        channel,
        server,
        logger: ctx.logger,
        stop: scope.stop.stopped,
      });
      return exitCodeFor("forward", outcome, started.sessionId, () =>
        ctx.stderr.write(`\nExiting session with sessionId: ${started.sessionId}.\n`),
      );
    });
  } finally {
    server?.close();
    aws.destroy();
  }
}
