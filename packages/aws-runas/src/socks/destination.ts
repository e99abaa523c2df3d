/**
 * One SOCKS destination's remote-host session in mux mode: the started data channel wrapped in
 * an smux client, plus the two things the proxy must hear about — each ConnectToPortError flag
 * (a stream's dial failed on the instance, ssm-protocol.md §7.3) and the end of the session.
 */
import { EventEmitter } from "node:events";
import { RunasError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import { FlagValue } from "@aws-runas/wire/protocol/index.js";
import type { DataChannel } from "../datachannel/index.js";
import { MuxSession } from "../mux/index.js";
import { muxKeepAliveFor, portModeFor } from "../session/versions.js";

/** A destination as the pool keys it: host without brackets, lower case; port. */
export interface Destination {
  readonly host: string;
  readonly port: number;
}

export interface DestinationSessionEvents {
  /** The agent could not dial the destination for one stream (Flag ConnectToPortError). */
  connectError: [];
  /** Once: the session is over (closed by us, by the service, or failed); `reason` may be empty. */
  end: [reason: string];
}

/** What the pool needs of a started destination session. */
export interface DestinationSession extends EventEmitter<DestinationSessionEvents> {
  readonly sessionId: string;
  readonly mux: MuxSession;
  /** Time from the channel's open to its handshake: a floor for one round trip to the agent. */
  readonly handshakeMs: number;
  readonly ended: boolean;
  /** Why the session ended, as the service or agent said it (empty when unknown or still live). */
  readonly endReason: string;
  /** Ends the session: smux closed, Flag TerminateSession, then `terminate` (the API call). */
  close(): Promise<void>;
}

/** Starts a destination's session (StartSession + data channel + handshake); the pool calls it. */
export type OpenDestination = (destination: Destination) => Promise<DestinationSession>;

/**
 * Waits for the handshake of `channel` and puts an smux client on it. Throws {@link RunasError}
 * when the agent ends the session before it starts (its text is the message, e.g. "Forwarding
 * to IP address ... is forbidden.") or speaks only basic mode (one connection at a time cannot
 * carry a pool). On a throw the session has been terminated.
 */
export async function muxDestinationSession(options: {
  channel: DataChannel;
  sessionId: string;
  /** The TerminateSession API call. */
  terminate: () => Promise<void>;
  logger: Logger;
}): Promise<DestinationSession> {
  const { channel, sessionId, logger } = options;
  const opened = performance.now();
  let closedOutput: string | undefined;
  channel.once("channelClosed", ({ output }: { output: string }) => {
    closedOutput = output;
  });
  const failed = new Promise<void>((resolve) => {
    channel.once("close", () => resolve());
    channel.once("error", () => resolve());
  });
  await Promise.race([channel.whenReady(), failed]);
  if (!channel.isReady) {
    channel.close();
    await options.terminate();
    throw new RunasError(
      "SOCKS_SESSION_ENDED",
      closedOutput?.trim() || `session ${sessionId} ended before it started`,
    );
  }
  const handshakeMs = performance.now() - opened;
  const mode = portModeFor(channel.agentVersion, channel.sessionType?.properties ?? null);
  if (mode !== "mux") {
    channel.terminate();
    channel.close();
    await options.terminate();
    throw new RunasError(
      "SOCKS_NEEDS_MUX",
      `the instance's SSM agent (${channel.agentVersion ?? "unknown version"}) forwards one connection at a time; ssm socks needs an agent newer than 3.0.196.0`,
    );
  }
  return new MuxDestination(channel, sessionId, handshakeMs, options.terminate, logger);
}

class MuxDestination extends EventEmitter<DestinationSessionEvents> implements DestinationSession {
  readonly sessionId: string;
  readonly mux: MuxSession;
  readonly handshakeMs: number;
  readonly #channel: DataChannel;
  readonly #terminate: () => Promise<void>;
  #ended = false;
  #endReason = "";
  #closing: Promise<void> | undefined;

  constructor(
    channel: DataChannel,
    sessionId: string,
    handshakeMs: number,
    terminate: () => Promise<void>,
    logger: Logger,
  ) {
    super();
    this.sessionId = sessionId;
    this.handshakeMs = handshakeMs;
    this.#channel = channel;
    this.#terminate = terminate;
    this.mux = new MuxSession(channel, {
      client: true,
      keepAlive: muxKeepAliveFor(channel.agentVersion),
      // As for `ssm forward`: smux v1 has no per-stream window (see session/port.ts).
      maxStreamBuffer: 4 * 1024 * 1024,
    });
    this.mux.on("error", (error) => logger.debug(`smux (session ${sessionId}): ${error.message}`));
    channel.on("flag", (flag: number) => {
      if (flag === FlagValue.connectToPortError) this.emit("connectError");
    });
    // channel_closed carries the reason; it comes before the channel (and so smux) ends, and
    // streams still waiting for their reply must see it.
    channel.once("channelClosed", (closed: { output: string }) => this.#end(closed.output));
    channel.once("error", (error: Error) => this.#end(error.message));
    channel.once("close", () => this.#end(""));
    this.mux.once("close", () => this.#end(""));
  }

  get ended(): boolean {
    return this.#ended;
  }

  get endReason(): string {
    return this.#endReason;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const wasLive = !this.#ended;
      this.mux.close();
      if (wasLive) this.#channel.terminate();
      this.#end("");
      // Our close first (it flushes the flag): the API's TerminateSession then makes the service
      // close the websocket, which an open channel would take for a drop and try to resume.
      this.#channel.close();
      await this.#terminate();
    })();
    return this.#closing;
  }

  #end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endReason = reason.trim();
    this.mux.close();
    this.emit("end", this.#endReason);
  }
}
