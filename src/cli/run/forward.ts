/** Runs `aws-runas ssm forward`: listener → credentials → target → StartSession → port session. */
import { type ForwardSession, runHealingForward } from "../../session/heal.js";
import { listenLocal } from "../../session/port.js";
import { type StartSessionRequest, startSession, terminateSession } from "../../session/start.js";
import type { RunContext } from "../context.js";
import type { ForwardInput } from "../inputs.js";
import { formatError } from "../report.js";
import { openAwsSession, openChannel, resolveInstance } from "./aws-session.js";
import { runWithPlugin } from "./plugin.js";

/** Runs the session and resolves with the process exit code. */
export async function runForward(input: ForwardInput, ctx: RunContext): Promise<number> {
  // Bind first: a busy or privileged port fails before any session is created.
  const server = input.plugin ? null : await listenLocal(input.localPort);
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
    if (!server) return await runWithPlugin({ aws, started, request, ctx, interactive: false });

    const open = async (session = started): Promise<ForwardSession> => ({
      sessionId: session.sessionId,
      channel: await openChannel(aws, session, instanceId, ctx),
      terminate: () => terminateSession(ssm, session.sessionId, ctx.logger),
    });
    const first = await open();
    ctx.stderr.write(
      `Port ${localPort} opened for sessionId ${started.sessionId}.\nWaiting for connections...\n`,
    );
    const stop = new Promise<void>((resolve) => {
      for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => resolve());
    });
    // The session runner heals the forward; see src/session/heal.ts.
    const result = await runHealingForward({
      server,
      first,
      open: async () => open(await startSession(ssm, request, ctx.logger)),
      heal: input.reconnect,
      stop,
      logger: ctx.logger,
      status: (line) => ctx.stderr.write(`${line}\n`),
      reportError: (error) => ctx.stderr.write(formatError(error, 0, (text) => ctx.logger.redact(text))),
    });
    // The flag ends mux and new basic sessions; the API call covers old agents and is harmless otherwise.
    await result.last.terminate();
    ctx.stderr.write(`\nExiting session with sessionId: ${result.last.sessionId}.\n`);
    return result.exitCode;
  } finally {
    server?.close();
    aws.destroy();
  }
}
