/**
 * Standard-stream port sessions (ssm-protocol.md §7.4), used by `ssm ssh` as an SSH ProxyCommand:
 * stdin goes to the remote port and the remote port's bytes go to stdout — nothing else is ever
 * written to stdout. Ends when the remote side closes (sshd hung up) or when stdin ends (ssh quit).
 */
import type { DataChannel } from "../datachannel/index.js";
import type { Logger } from "../log.js";

export interface StreamSessionOptions {
  channel: DataChannel;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  logger: Logger;
}

/** Resolves with the exit code once either side has finished. */
export async function runStreamSession(options: StreamSessionOptions): Promise<number> {
  const { channel, stdin, stdout, logger } = options;
  await channel.whenReady();
  channel.pipe(stdout);
  stdin.pipe(channel, { end: false });
  return new Promise<number>((resolve, reject) => {
    channel.once("error", reject);
    channel.once("end", () => resolve(0));
    channel.once("channelClosed", () => resolve(0));
    stdin.once("end", () => {
      // ssh closed its side: end the session now instead of leaving it to the idle timeout.
      logger.debug("stdin closed: terminating the session");
      stdin.unpipe(channel);
      channel.terminate();
      resolve(0);
    });
  });
}
