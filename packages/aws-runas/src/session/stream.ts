/**
 * Standard-stream port sessions (ssm-protocol.md §7.4), used by `ssm ssh` as an SSH ProxyCommand:
 * stdin goes to the remote port and the remote port's bytes go to stdout — nothing else is ever
 * written to stdout. Ends when the remote side closes (sshd hung up) or when stdin ends (ssh quit).
 */

import type { Logger } from "@aws-runas/wire/log.js";
import type { DataChannel } from "../datachannel/index.js";
import { channelEnded, type SessionOutcome, type StopReason, untilReady } from "./ending.js";

export interface StreamSessionOptions {
  channel: DataChannel;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  logger: Logger;
  /** Resolves when the client must leave (signal, stdout closed): see `ending.ts`. */
  stop?: Promise<StopReason>;
}

/**
 * Resolves with how the session ended: the remote side closed it (sshd hung up), stdin ended
 * (ssh quit), or `stop`. The caller terminates the session.
 */
export async function runStreamSession(options: StreamSessionOptions): Promise<SessionOutcome> {
  const { channel, stdin, stdout, logger } = options;
  const stopped = (options.stop ?? new Promise<never>(() => {})).then(
    (reason): SessionOutcome => ({ kind: "stopped", reason }),
  );
  const ended = Promise.race([channelEnded(channel), stopped]);
  // A session refused before it was ready (nothing listens on the port) ends here at once.
  const first = await untilReady(channel, ended);
  if (first !== "ready") return first;
  channel.pipe(stdout);
  stdin.pipe(channel, { end: false });
  const stdinEnded = new Promise<SessionOutcome>((resolve) => {
    stdin.once("end", () => {
      // ssh closed its side: end the session now instead of leaving it to the idle timeout.
      logger.debug("stdin closed: terminating the session");
      resolve({ kind: "stopped", reason: { kind: "stdin-closed" } });
    });
  });
  try {
    return await Promise.race([ended, stdinEnded]);
  } finally {
    stdin.unpipe(channel);
  }
}
