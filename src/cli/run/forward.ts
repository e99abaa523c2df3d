/** Runs `aws-runas ssm forward`: listener → credentials → target → StartSession → port session. */
import { exposureWarning } from "../../forward/bind.js";
import { listenLocal, runPortSession } from "../../session/port.js";
import { type StartSessionRequest, startSession, terminateSession } from "../../session/start.js";
import type { RunContext } from "../context.js";
import type { ForwardInput } from "../inputs.js";
import { openAwsSession, openChannel, resolveInstance } from "./aws-session.js";
import { preparePluginFor, runWithPlugin } from "./plugin.js";

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
    const started = await startSession(ssm, request, ctx.logger);
    if (!server)
      return await runWithPlugin({ plugin: plugin!, aws, started, request, ctx, interactive: false });

    const channel = await openChannel(aws, started, instanceId, ctx);
    ctx.stderr.write(
      `Port ${localPort} opened for sessionId ${started.sessionId}.\nWaiting for connections...\n`,
    );
    const stop = new Promise<void>((resolve) => {
      for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => resolve());
    });
    try {
      const result = await runPortSession({ channel, server, logger: ctx.logger, stop });
      // The flag ends mux and new basic sessions; the API call covers old agents and is harmless otherwise.
      await terminateSession(ssm, started.sessionId, ctx.logger);
      ctx.stderr.write(`\nExiting session with sessionId: ${started.sessionId}.\n`);
      return result.exitCode;
    } finally {
      channel.close();
    }
  } finally {
    server?.close();
    aws.destroy();
  }
}
