/** `--plugin`: hand a session we started to AWS's session-manager-plugin (cli-reference §4). */
import { endpointFromEnv } from "../../aws/index.js";
import { runSessionManagerPlugin } from "../../session/plugin.js";
import { type StartedSession, type StartSessionRequest, toStartSessionInput } from "../../session/start.js";
import type { RunContext } from "../context.js";
import type { AwsSession } from "./aws-session.js";

export interface PluginRun {
  aws: AwsSession;
  started: StartedSession;
  request: StartSessionRequest;
  ctx: RunContext;
  interactive: boolean;
}

/** Runs the plugin with the resolved credentials in its environment; resolves with its exit status. */
export async function runWithPlugin({ aws, started, request, ctx, interactive }: PluginRun): Promise<number> {
  const input = toStartSessionInput(request);
  const credentials = await aws.currentCredentials();
  return runSessionManagerPlugin({
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
    env: ctx.env,
    logger: ctx.logger,
  });
}
