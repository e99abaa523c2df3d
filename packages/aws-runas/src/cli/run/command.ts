/**
 * Runs `aws-runas ssm shell … -- command [args…]`: credentials → target → StartSession with
 * AWS-StartNonInteractiveCommand → the command's stdout on ours, its stderr on ours, its exit
 * status as ours. No terminal handling, and nothing but the command's output on stdout (status
 * lines only with -v, on stderr).
 */
import { randomBytes } from "node:crypto";
import { UsageError } from "@aws-runas/wire/errors.js";
import { buildRemoteCommand, MAX_COMMAND_STDIN, runCommandSession } from "../../session/command.js";
import { endSession, startSession } from "../../session/start.js";
import type { RunContext } from "../context.js";
import type { ShellInput } from "../inputs.js";
import { openAwsSession, openChannel, resolveInstance } from "./aws-session.js";

export const COMMAND_DOCUMENT = "AWS-StartNonInteractiveCommand";

/** Runs the remote command and resolves with its exit status. */
export async function runRemoteCommand(input: ShellInput, ctx: RunContext): Promise<number> {
  const words = input.remoteCommand ?? [];
  const stdin = await readCommandInput(ctx.stdin);
  const aws = await openAwsSession(input, ctx);
  try {
    const { instanceId } = await resolveInstance(input.target, aws, ctx);
    const marker = `__aws_runas_exit_${randomBytes(8).toString("hex")}`;
    const request = {
      target: instanceId,
      documentName: COMMAND_DOCUMENT,
      parameters: {
        command: [buildRemoteCommand({ words, stdin, marker })],
        separateOutputStream: ["true"],
      },
    };
    const ssm = await aws.client("ssm");
    const started = await startSession(ssm, request, ctx.logger);
    ctx.logger.debug(`Starting session with SessionId: ${started.sessionId}`);
    // Terminated on every way out (a normal end too: harmless once the service closed it).
    let channel: Awaited<ReturnType<typeof openChannel>> | undefined;
    let terminated = false;
    const terminate = async () => {
      if (terminated) return;
      terminated = true;
      // The shared end: our close first, or the channel would take the service's close for a drop.
      await endSession({ ssm, sessionId: started.sessionId, logger: ctx.logger, channel });
    };
    try {
      channel = await openChannel(aws, started, instanceId, ctx);
      return await runCommandSession({
        channel,
        stdout: ctx.stdout,
        stderr: ctx.stderr,
        marker,
        logger: ctx.logger,
        terminate,
      });
    } finally {
      await terminate();
      ctx.logger.debug(`Exiting session with sessionId: ${started.sessionId}.`);
    }
  } finally {
    aws.destroy();
  }
}

/**
 * Piped stdin, read to its end before the session starts (the agent gives the command no stdin
 * of its own, see `session/command.ts`). A terminal is not read: the command gets /dev/null.
 */
async function readCommandInput(stdin: NodeJS.ReadStream): Promise<Buffer> {
  if (stdin.isTTY) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_COMMAND_STDIN) {
      stdin.destroy();
      throw new UsageError(
        `stdin is larger than ${MAX_COMMAND_STDIN / 1024} KiB, the most a remote command can take`,
        "copy large data with ssh/scp over 'aws-runas ssm ssh', or redirect stdin from /dev/null",
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
