/**
 * Runs `aws-runas ssm socks`: listener → credentials → target, then a SOCKS5 proxy whose
 * destinations are remote-host port sessions (AWS-StartPortForwardingSessionToRemoteHost, mux
 * mode), started on a destination's first connection and pooled (src/socks/pool.ts). Ctrl-C /
 * SIGTERM terminates every session and exits 0.
 */
import { exposureWarning, formatHostPort } from "../../forward/bind.js";
import { listenLocal } from "../../session/port.js";
import { startSession, terminateSession } from "../../session/start.js";
import { parseAllowPattern } from "../../socks/allow.js";
import { muxDestinationSession, type OpenDestination } from "../../socks/destination.js";
import { SessionPool } from "../../socks/pool.js";
import { serveSocks } from "../../socks/server.js";
import type { RunContext } from "../context.js";
import type { SocksInput } from "../inputs.js";
import { openAwsSession, openChannel, resolveInstance } from "./aws-session.js";

export async function runSocks(input: SocksInput, ctx: RunContext): Promise<number> {
  // Bind first: a busy or privileged port fails before anything else.
  const server = await listenLocal(input.localPort, input.bindAddress);
  const address = server.address() as { address: string; port: number };
  const warning = exposureWarning([{ host: address.address, port: address.port }]);
  if (warning) ctx.logger.warn(warning);
  const aws = await openAwsSession(input, ctx).catch((error) => {
    server.close();
    throw error;
  });
  try {
    const { instanceId } = await resolveInstance(input.target, aws, ctx);
    const ssm = await aws.client("ssm");
    const open: OpenDestination = async (destination) => {
      const started = await startSession(
        ssm,
        {
          target: instanceId,
          documentName: "AWS-StartPortForwardingSessionToRemoteHost",
          parameters: {
            host: [destination.host],
            portNumber: [String(destination.port)],
            localPortNumber: [String(address.port)],
          },
        },
        ctx.logger,
      );
      ctx.logger.debug(
        `socks: session ${started.sessionId} for ${formatHostPort(destination.host, destination.port)}`,
      );
      const channel = await openChannel(aws, started, instanceId, ctx);
      return muxDestinationSession({
        channel,
        sessionId: started.sessionId,
        terminate: () => terminateSession(ssm, started.sessionId, ctx.logger),
        logger: ctx.logger,
      });
    };
    const pool = new SessionPool({
      open,
      maxSessions: input.maxSessions,
      idleMs: input.idleTimeoutSeconds * 1000,
      logger: ctx.logger,
    });
    const dropAll = serveSocks({
      server,
      pool,
      allow: input.allow.map(parseAllowPattern),
      logger: ctx.logger,
    });
    ctx.stderr.write(
      `SOCKS5 proxy listening on ${formatHostPort(address.address, address.port)} through ${instanceId}.\nWaiting for connections...\n`,
    );
    await new Promise<void>((resolve) => {
      for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => resolve());
    });
    server.close();
    const sessions = pool.size;
    dropAll();
    await pool.closeAll();
    ctx.stderr.write(`\nStopped the SOCKS5 proxy; ${sessions} session(s) terminated.\n`);
    return 0;
  } finally {
    server.close();
    aws.destroy();
  }
}
