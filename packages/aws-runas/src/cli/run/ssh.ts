/**
 * Runs `aws-runas ssm ssh` as an SSH ProxyCommand: credentials → target → (EC2 Instance Connect)
 * → StartSession(AWS-StartSSHSession) → raw stream on stdin/stdout. Nothing but SSH bytes ever
 * goes to stdout; status lines go to stderr.
 */

import { type StartSessionRequest, startSession } from "../../session/start.js";
import { runStreamSession } from "../../session/stream.js";
import type { RunContext } from "../context.js";
import type { SshInput } from "../inputs.js";
import { openAwsSession, openChannel, resolveInstance } from "./aws-session.js";
import { preparePluginFor, runWithPlugin } from "./plugin.js";
import { exitCodeFor, runStartedSession } from "./session-end.js";

/** Runs the session and resolves with the process exit code. */
export async function runSsh(input: SshInput, ctx: RunContext): Promise<number> {
  const plugin = input.plugin ? await preparePluginFor(ctx) : undefined; // before any session exists
  const aws = await openAwsSession(input, ctx);
  try {
    const { instanceId } = await resolveInstance(input.target, aws, ctx);
    if (input.ec2ic) {
      const { pushPublicKey } = await import("./ec2ic.js");
      await pushPublicKey({
        aws,
        instanceId,
        osUser: input.user,
        host: input.target,
        alias: input.sshHost,
        port: input.port,
        ctx,
      });
    }
    const request: StartSessionRequest = {
      target: instanceId,
      documentName: "AWS-StartSSHSession",
      parameters: { portNumber: [String(input.port)] },
    };
    const ssm = await aws.client("ssm");
    if (plugin) {
      const started = await startSession(ssm, request, ctx.logger);
      return await runWithPlugin({ plugin, aws, started, request, ctx, interactive: false });
    }
    const start = () => startSession(ssm, request, ctx.logger);
    return await runStartedSession({ command: "ssh", ssm, ctx, start }, async (started, scope) => {
      ctx.logger.debug(`Starting session with SessionId: ${started.sessionId}`);
      const channel = await openChannel(aws, started, instanceId, ctx);
      scope.setChannel(channel);
      const outcome = await runStreamSession({
        channel,
        stdin: ctx.stdin,
        stdout: ctx.stdout,
        logger: ctx.logger,
        stop: scope.stop.stopped,
      });
      return exitCodeFor("ssh", outcome, started.sessionId);
    });
  } finally {
    aws.destroy();
  }
}
