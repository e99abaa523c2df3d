/** `--plugin`: hand a session we started to AWS's session-manager-plugin (cli-reference §4). */
import { endpointFromEnv } from "../../aws/index.js";
import { type PreparedPlugin, preparePlugin, runSessionManagerPlugin } from "../../session/plugin.js";
import {
  type StartedSession,
  type StartSessionRequest,
  terminateSession,
  toStartSessionInput,
} from "../../session/start.js";
import type { RunContext } from "../context.js";
import type { AwsSession } from "./aws-session.js";

/** Finds the plugin and asks its version; call before StartSession (nothing is started if it fails). */
export function preparePluginFor(ctx: RunContext): Promise<PreparedPlugin> {
  return preparePlugin({ env: ctx.env, logger: ctx.logger });
}

export interface PluginRun {
  plugin: PreparedPlugin;
  aws: AwsSession;
  started: StartedSession;
  request: StartSessionRequest;
  ctx: RunContext;
  interactive: boolean;
}

/**
 * Runs the plugin with the resolved credentials in its environment; resolves with its exit status.
 * However the plugin ends (or fails to start), the session is terminated afterwards: a plugin that
 * failed or was killed leaves it open, and even a normal exit does on some paths (stdin EOF of an
 * SSH stream sends nothing, ssm-protocol.md §6.3). TerminateSession of an ended session is harmless.
 */
export async function runWithPlugin({
  plugin,
  aws,
  started,
  request,
  ctx,
  interactive,
}: PluginRun): Promise<number> {
  const input = toStartSessionInput(request);
  const ssm = await aws.client("ssm");
  try {
    const credentials = await aws.currentCredentials();
    const status = await runSessionManagerPlugin({
      request: {
        Target: request.target,
        ...(input.DocumentName ? { DocumentName: input.DocumentName } : {}),
        ...(input.Parameters ? { Parameters: input.Parameters as Record<string, string[]> } : {}),
      },
      started,
      region: aws.region,
      ssmEndpointUrl: endpointFromEnv("ssm", ctx.env) ?? `https://ssm.${aws.region}.amazonaws.com`,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
      },
      interactive,
      command: plugin.command,
      passing: plugin.passing,
      env: ctx.env,
      logger: ctx.logger,
    });
    if (status !== 0) ctx.logger.debug(`${plugin.command} ended with status ${status}`);
    return status;
  } finally {
    await terminateSession(ssm, started.sessionId, ctx.logger);
  }
}
