/** Runs `aws-runas ssm shell`: credentials → target → StartSession → interactive shell. */

import type { DataChannel } from "../../datachannel/index.js";
import { runShellSession } from "../../session/shell.js";
import { startSession } from "../../session/start.js";
import type { RunContext } from "../context.js";
import type { ShellInput } from "../inputs.js";
import { openAwsSession, openChannel, resolveInstance } from "./aws-session.js";
import { escapeInput } from "./escape.js";
import { preparePluginFor, runWithPlugin } from "./plugin.js";
import { exitCodeFor, runStartedSession } from "./session-end.js";

/** Runs the session and resolves with the process exit code. */
export async function runShell(input: ShellInput, ctx: RunContext): Promise<number> {
  const plugin = input.plugin ? await preparePluginFor(ctx) : undefined; // before any session exists
  const aws = await openAwsSession(input, ctx);
  try {
    const { instanceId } = await resolveInstance(input.target, aws, ctx);
    const request = {
      target: instanceId,
      documentName: input.document,
      parameters: copyParameters(input.parameters),
    };
    const ssm = await aws.client("ssm");
    if (plugin) {
      const started = await startSession(ssm, request, ctx.logger);
      return await runWithPlugin({ plugin, aws, started, request, ctx, interactive: true });
    }
    const start = () => startSession(ssm, request, ctx.logger);
    return await runStartedSession({ command: "shell", ssm, ctx, start }, async (started, scope) => {
      ctx.stderr.write(`Starting session with SessionId: ${started.sessionId}\n`);
      const channel = await openChannel(aws, started, instanceId, ctx);
      scope.setChannel(channel);
      const outcome = await runShellSession({
        channel,
        io: ctx,
        logger: ctx.logger,
        stop: scope.stop.stopped,
        onRunning: () => scope.stop.release("SIGINT"),
        filterInput: shellEscapes(input, ctx, channel),
      }).catch((error: unknown) => {
        ctx.stdout.write("\r\n"); // the remote output may have left the cursor mid-line
        throw error;
      });
      // An error or signal line comes next: start it on a line of its own.
      const quiet =
        outcome.kind === "closed" ? outcome.output === "" : outcome.reason.kind === "stdout-closed";
      if (!quiet) ctx.stdout.write("\r\n");
      return exitCodeFor("shell", outcome, started.sessionId, () =>
        ctx.stderr.write(`\nExiting session with sessionId: ${started.sessionId}.\n`),
      );
    });
  } finally {
    aws.destroy();
  }
}

/** `~.` and friends, on a terminal only (piped input passes unchanged), like OpenSSH. */
function shellEscapes(
  input: ShellInput,
  ctx: RunContext,
  channel: DataChannel,
): ((chunk: Buffer) => Buffer) | undefined {
  if (input.escapeChar === null || !ctx.stdin.isTTY) return undefined;
  return escapeInput({
    char: input.escapeChar,
    stderr: ctx.stderr,
    terminate: () => {
      // Ending the channel ends the session normally; the shared end then terminates it
      // (flag and API, bounded in time, so a hung network cannot hold `~.` up).
      ctx.logger.debug("escape: ending the session");
      channel.destroy();
    },
  });
}

function copyParameters(parameters: Readonly<Record<string, readonly string[]>>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [...v]]));
}
