/**
 * Local port forwarding (ssm-protocol.md §7): a listener on 127.0.0.1 whose connections reach a
 * port on (or through) the instance.
 *
 * - mux (agents > 3.0.196.0): every accepted connection is a new smux stream, any number at once,
 *   half-close carried both ways.
 * - basic (older agents): one connection at a time; when it closes the agent is told with
 *   DisconnectToPort and the next waiting connection is served.
 */
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { DataChannel } from "../datachannel/index.js";
import { RunasError } from "../errors.js";
import type { Logger } from "../log.js";
import { MuxSession } from "../mux/index.js";
import { FlagValue } from "../protocol/index.js";
import { muxKeepAliveFor, type PortMode, portModeFor } from "./versions.js";

/** The local listener, bound before StartSession so a busy port fails fast. */
export async function listenLocal(port: number, host = "127.0.0.1"): Promise<Server> {
  const server = createServer({ allowHalfOpen: true, noDelay: true });
  server.listen({ port, host });
  try {
    await once(server, "listening");
  } catch (error) {
    throw localListenError(error as NodeJS.ErrnoException, port);
  }
  return server;
}

export function localListenError(error: NodeJS.ErrnoException, port: number): RunasError {
  switch (error.code) {
    case "EADDRINUSE":
      return new RunasError("LOCAL_PORT_IN_USE", `local port ${port} is already in use`, {
        hint: "choose another port with -p, or leave -p out for a random free port",
      });
    case "EACCES":
      return new RunasError("LOCAL_PORT_DENIED", `permission denied to listen on local port ${port}`, {
        hint: "ports below 1024 need privileges; use a port of 1024 or above",
      });
    default:
      return new RunasError("LOCAL_LISTEN_FAILED", `cannot listen on local port ${port}: ${error.message}`);
  }
}

export interface PortSessionOptions {
  channel: DataChannel;
  server: Server;
  logger: Logger;
  /** Resolves when the user asks to stop (Ctrl-C / SIGTERM). */
  stop: Promise<void>;
  /**
   * Leave the listener open when the session ends (a healing forward starts the next session on
   * it); its handlers from this session are removed either way.
   */
  keepListening?: boolean;
  /** Connections accepted before this session was ready (the one that started it). */
  initial?: Socket[];
}

export interface PortSessionResult {
  mode: PortMode;
  exitCode: number;
}

/** Serves connections until the session ends or `stop` resolves. */
export async function runPortSession(options: PortSessionOptions): Promise<PortSessionResult> {
  const { channel, server, logger } = options;
  const pending: Socket[] = [...(options.initial ?? [])];
  const hold = (socket: Socket) => {
    socket.pause();
    pending.push(socket);
  };
  server.on("connection", hold);
  let announced = false;
  const announce = () => {
    if (announced) return;
    announced = true;
    logger.info(`Connection accepted for session [${channel.sessionId}]`);
  };

  const ended = new Promise<number>((resolve, reject) => {
    channel.once("channelClosed", () => resolve(0));
    channel.once("error", reject);
    channel.once("close", () => resolve(0));
  });
  const stopped = options.stop.then(() => "stop" as const);

  await Promise.race([channel.whenReady(), ended, stopped]);
  const mode = portModeFor(channel.agentVersion, channel.sessionType?.properties ?? null);
  if (!channel.isReady) {
    // Closed before the session ever started: the agent refused it (the reason is printed).
    server.off("connection", hold);
    for (const socket of pending.splice(0)) socket.destroy();
    if ((await Promise.race([ended, stopped])) === "stop") channel.terminate();
    return { mode, exitCode: 1 };
  }
  server.off("connection", hold);
  logger.debug(`port session mode: ${mode} (agent ${channel.agentVersion ?? "unknown"})`);

  let closeAll: () => void;
  let detach: () => void;
  if (mode === "mux") {
    const mux = new MuxSession(channel, {
      client: true,
      keepAlive: muxKeepAliveFor(channel.agentVersion),
      // smux v1 has no per-stream window: like smux, let one slow connection buffer up to the
      // session limit before the whole channel is paused, rather than stalling all at 64 KiB.
      maxStreamBuffer: 4 * 1024 * 1024,
    });
    const serve = (socket: Socket) => {
      announce();
      connectStream(socket, mux.openStream(), logger);
    };
    for (const socket of pending.splice(0)) serve(socket);
    server.on("connection", serve);
    detach = () => server.off("connection", serve);
    channel.on("flag", (flag: number) => {
      if (flag === FlagValue.connectToPortError) {
        logger.warn("the remote side refused a connection: nothing listens on the destination port");
      }
    });
    mux.once("error", (error: Error) => logger.debug(`smux: ${error.message}`));
    closeAll = () => mux.close();
  } else {
    const basic = new BasicForwarder(channel, logger, announce);
    for (const socket of pending.splice(0)) basic.enqueue(socket);
    const enqueue = (socket: Socket) => basic.enqueue(socket);
    server.on("connection", enqueue);
    detach = () => server.off("connection", enqueue);
    closeAll = () => basic.close();
  }

  const outcome = await Promise.race([ended, stopped]).finally(() => {
    detach();
    if (!options.keepListening) server.close();
    closeAll();
  });
  if (outcome === "stop") {
    channel.terminate();
    return { mode, exitCode: 0 };
  }
  return { mode, exitCode: outcome };
}

function connectStream(socket: Socket, stream: Duplex, logger: Logger): void {
  socket.setNoDelay(true);
  socket.pipe(stream);
  stream.pipe(socket);
  socket.on("error", (error) => {
    logger.debug(`local connection: ${error.message}`);
    stream.destroy();
  });
  stream.on("error", (error: Error) => {
    logger.debug(`stream: ${error.message}`);
    socket.destroy();
  });
  socket.on("close", () => stream.destroy());
  // A stream torn down without a FIN (session closing, Ctrl-C) must not leave its local
  // connection open; after a normal FIN the pipe has already ended the socket gracefully.
  stream.on("close", () => {
    if (!socket.writableEnded) socket.destroy();
  });
  socket.resume();
}

/** One connection at a time over the raw channel (§7.2). */
class BasicForwarder {
  readonly #channel: DataChannel;
  readonly #logger: Logger;
  readonly #announce: () => void;
  readonly #queue: Socket[] = [];
  #active: Socket | null = null;
  #closed = false;

  constructor(channel: DataChannel, logger: Logger, announce: () => void) {
    this.#channel = channel;
    this.#logger = logger;
    this.#announce = announce;
    // Output with no connection to take it is stale (from a closed connection): discard it.
    channel.on("data", (chunk: Buffer) => {
      const active = this.#active;
      if (active && !active.write(chunk)) {
        channel.pause();
        active.once("drain", () => channel.resume());
      }
    });
  }

  enqueue(socket: Socket): void {
    socket.pause();
    this.#queue.push(socket);
    this.#next();
  }

  close(): void {
    this.#closed = true;
    this.#active?.destroy();
    for (const s of this.#queue.splice(0)) s.destroy();
  }

  #next(): void {
    if (this.#active || this.#closed) return;
    const socket = this.#queue.shift();
    if (!socket) return;
    this.#active = socket;
    this.#announce();
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      if (!this.#channel.write(chunk)) {
        socket.pause();
        this.#channel.once("drain", () => socket.resume());
      }
    });
    socket.on("error", (error) => this.#logger.debug(`local connection: ${error.message}`));
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      this.#active = null;
      if (!this.#closed) this.#channel.sendFlag(FlagValue.disconnectToPort);
      this.#next();
    };
    socket.on("end", finish);
    socket.on("close", finish);
    socket.resume();
  }
}
