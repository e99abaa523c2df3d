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
import { RunasError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import { FlagValue } from "@aws-runas/wire/protocol/index.js";
import type { DataChannel } from "../datachannel/index.js";
import { MuxSession } from "../mux/index.js";
import { channelEnded, type SessionOutcome, type StopReason, untilReady } from "./ending.js";
import { reset } from "./reset.js";
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

/** Why the local listener could not be opened; what to do about it is the CLI's to say. */
export type LocalListenErrorCode = "LOCAL_PORT_IN_USE" | "LOCAL_PORT_DENIED" | "LOCAL_LISTEN_FAILED";

export class LocalListenError extends RunasError {
  declare readonly code: LocalListenErrorCode;
  readonly port: number;

  constructor(code: LocalListenErrorCode, message: string, port: number, cause: unknown) {
    super(code, message, { cause });
    this.port = port;
  }
}

export function localListenError(error: NodeJS.ErrnoException, port: number): LocalListenError {
  switch (error.code) {
    case "EADDRINUSE":
      return new LocalListenError("LOCAL_PORT_IN_USE", `local port ${port} is already in use`, port, error);
    case "EACCES":
      return new LocalListenError(
        "LOCAL_PORT_DENIED",
        `permission denied to listen on local port ${port}`,
        port,
        error,
      );
    default:
      return new LocalListenError(
        "LOCAL_LISTEN_FAILED",
        `cannot listen on local port ${port}: ${error.message}`,
        port,
        error,
      );
  }
}

export interface PortSessionOptions {
  channel: DataChannel;
  server: Server;
  logger: Logger;
  /** Resolves when the user asks to stop (Ctrl-C / SIGTERM / SIGHUP): see `ending.ts`. */
  stop: Promise<StopReason>;
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
  /** False when it ended before the session was ready (the agent refused it). */
  ready: boolean;
  /** How it ended; the caller terminates the session (flag and API) and picks the exit code. */
  outcome: SessionOutcome;
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

  const ended = Promise.race([
    channelEnded(channel),
    options.stop.then((reason): SessionOutcome => ({ kind: "stopped", reason })),
  ]);

  const first = await untilReady(channel, ended);
  const mode = portModeFor(channel.agentVersion, channel.sessionType?.properties ?? null);
  if (first !== "ready") {
    // Ended before the session ever started: the agent refused it (channel_closed says why).
    server.off("connection", hold);
    for (const socket of pending.splice(0)) socket.destroy();
    return { mode, ready: false, outcome: first };
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

  try {
    return { mode, ready: true, outcome: await ended };
  } finally {
    detach();
    // Also when the channel died with an error: open local connections would keep us alive.
    if (!options.keepListening) server.close();
    closeAll();
  }
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
    reset(socket);
  });
  socket.on("close", () => stream.destroy());
  // A stream torn down without a FIN (session closing, Ctrl-C) must not leave its local
  // connection open, nor end it with a FIN as if it were complete: reset it. After a normal FIN
  // the pipe has already ended the socket gracefully.
  stream.on("close", () => {
    if (!socket.writableEnded) reset(socket);
  });
  socket.resume();
}

const NO_BYTES = Buffer.alloc(0);

interface Draining {
  socket: Socket;
  seq: number | undefined;
  boundary: number | undefined;
}

/** Who owns the agent's output from a position on: a local connection, or nobody (stale). */
interface Ownership {
  /** Position in the agent's output stream (bytes received before) where it starts. */
  from: number;
  socket: Socket | null;
}

/**
 * Basic mode (§7.2): one local connection at a time over the raw channel. The protocol has no
 * connection id and no half-close, so which connection an Output belongs to follows from the
 * agent's order of events (README "ssm forward", basic mode):
 *
 * ```
 *  session start: the agent dials its target ─► output held for the first local connection
 *  local EOF / error / close ─► its last bytes go out, then DisconnectToPort (seq d)
 *      output until the ack of d ─► still the ended connection's (written if it is half-closed)
 *  ack of d (the agent closed its target connection before acking, §5.1, §7.2) ─► the ended
 *      connection is reset (RST) once its output is written; the next one is served
 *      output before the next one's first byte went out ─► dropped: no target connection is
 *      behind it (the agent dials again only on the next Output, §7.2)
 *      its first byte ─► the agent dials ─► all later output is this connection's
 * ```
 * The agent never says whether its target had more to send, so a connection we close is reset,
 * never ended with a FIN as if it were complete; the same for every one open when the session ends.
 *
 * Ownership is decided by position in the output stream, taken when the ack or the first byte
 * happens: output that arrived earlier but still waits in the channel's read buffer (while a
 * connection applied back-pressure) keeps the owner it had when it arrived.
 */
class BasicForwarder {
  readonly #channel: DataChannel;
  readonly #logger: Logger;
  readonly #announce: () => void;
  readonly #queue: Socket[] = [];
  /** The connection whose bytes go to the agent now. */
  #active: Socket | null = null;
  /** Whether the active connection has sent a byte since the agent last closed its target. */
  #claimed = false;
  /**
   * An ended connection and the sequence number of its DisconnectToPort, until that is acked and
   * the agent output sent before the ack (up to seq `boundary`) has been delivered.
   */
  #draining: Draining | null = null;
  /** Ended connections to reset once their output has been written. */
  readonly #finishing = new Set<Socket>();
  /** Ownership changes, oldest first; the first entry owns the next byte read. */
  readonly #owners: Ownership[] = [];
  /** Output bytes read from the channel so far. */
  #read = 0;
  #dropped = 0;
  #first = true;
  /** The socket the channel is paused for (back-pressure), if any. */
  #heldFor: Socket | null = null;
  #closed = false;

  constructor(channel: DataChannel, logger: Logger, announce: () => void) {
    this.#channel = channel;
    this.#logger = logger;
    this.#announce = announce;
    channel.on("data", (chunk: Buffer) => this.#onOutput(chunk));
    channel.endpoint.on("acknowledged", (seq: number) => this.#onAcknowledged(seq));
    // The agent dialled at session start: what its target says first waits for the first connection.
    channel.pause();
  }

  enqueue(socket: Socket): void {
    socket.pause();
    socket.on("error", (error) => this.#logger.debug(`local connection: ${error.message}`));
    this.#queue.push(socket);
    this.#next();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const open = [this.#active, this.#draining?.socket, ...this.#finishing, ...this.#queue.splice(0)];
    this.#active = null;
    this.#draining = null;
    this.#finishing.clear();
    for (const socket of open) if (socket) reset(socket);
  }

  /** Bytes received from the agent so far: read, or still in the channel's read buffer. */
  #position(): number {
    return this.#read + this.#channel.readableLength;
  }

  #own(socket: Socket | null): void {
    this.#owners.push({ from: this.#position(), socket });
    this.#advance();
  }

  /** Retires owners whose bytes have all been read. */
  #advance(): void {
    while (this.#owners.length > 1 && this.#owners[1]!.from <= this.#read) {
      const gone = this.#owners.shift()!.socket;
      if (gone && this.#finishing.has(gone)) this.#resetWhenFlushed(gone);
    }
  }

  #onOutput(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length > 0) {
      this.#advance();
      const next = this.#owners[1];
      const take = next ? Math.min(rest.length, next.from - this.#read) : rest.length;
      const piece = take === rest.length ? rest : rest.subarray(0, take);
      rest = rest.subarray(take);
      this.#read += take;
      const owner = this.#owners[0]?.socket ?? null;
      if (owner && writable(owner)) this.#deliver(owner, piece);
      else this.#dropped += piece.length;
    }
    this.#advance();
    // A delivery counts once the endpoint has finished it (it is still inside it now).
    if (this.#draining?.boundary !== undefined) queueMicrotask(() => this.#settle());
  }

  #deliver(socket: Socket, chunk: Buffer): void {
    // A finishing connection gets no more than what is already buffered: no back-pressure.
    if (socket.write(chunk) || this.#heldFor || this.#finishing.has(socket)) return;
    this.#heldFor = socket;
    this.#channel.pause();
    const release = () => {
      socket.off("drain", release);
      socket.off("close", release);
      this.#release(socket);
    };
    socket.on("drain", release);
    socket.on("close", release);
  }

  #release(socket: Socket): void {
    if (this.#heldFor !== socket) return;
    this.#heldFor = null;
    this.#channel.resume();
  }

  #next(): void {
    if (this.#active || this.#draining || this.#closed) return;
    let socket = this.#queue.shift();
    while (socket?.destroyed) socket = this.#queue.shift();
    if (!socket) return;
    this.#active = socket;
    this.#announce();
    if (this.#first) {
      // Only the first connection finds a target connection already dialled for it.
      this.#first = false;
      this.#claimed = true;
      this.#owners.push({ from: 0, socket });
      this.#channel.resume();
    } else {
      this.#claimed = false;
    }
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      if (!this.#claimed) {
        // The agent dials for this Output: output from here on is this connection's.
        this.#claimed = true;
        this.#own(socket);
      }
      if (!this.#channel.write(chunk)) {
        socket.pause();
        this.#channel.once("drain", () => socket.resume());
      }
    });
    const ended = () => this.#ended(socket);
    socket.once("end", ended); // basic mode cannot carry a half-close: the connection is over
    socket.once("close", ended);
    socket.resume();
  }

  #ended(socket: Socket): void {
    if (this.#active !== socket || this.#closed) return;
    this.#active = null;
    socket.pause();
    socket.removeAllListeners("data");
    const draining: Draining = { socket, seq: undefined, boundary: undefined };
    this.#draining = draining;
    // Writes are handled in order: once this empty one is done, every byte of the connection is
    // with the endpoint, so DisconnectToPort cannot overtake them (they would reach the next
    // target connection).
    this.#channel.write(NO_BYTES, (error) => {
      if (error || this.#closed || this.#draining !== draining) return;
      draining.seq = this.#channel.sendFlag(FlagValue.disconnectToPort);
    });
  }

  #onAcknowledged(seq: number): void {
    const draining = this.#draining;
    if (!draining || draining.seq !== seq || this.#closed) return;
    // Everything the agent sent before this ack is the ended connection's, also what has not
    // been delivered yet: messages waiting behind a gap, or one dropped as corrupt that the agent
    // will send again. The ack takes effect once the channel has delivered up to the highest
    // sequence number seen so far; until then the next connection waits.
    draining.boundary = this.#channel.endpoint.stats().highestIncomingSeq;
    this.#finishing.add(draining.socket); // no back-pressure from here on: it gets what is due, then a reset
    this.#release(draining.socket);
    this.#settle();
  }

  /**
   * Applies the acknowledged DisconnectToPort once its output has all been delivered. Checked on
   * every delivery: after the handshake a basic-mode agent sends nothing but non-empty Output.
   */
  #settle(): void {
    const draining = this.#draining;
    if (!draining || draining.boundary === undefined || this.#closed) return;
    if (this.#channel.endpoint.stats().expectedIncomingSeq <= draining.boundary) return;
    this.#draining = null;
    const { socket } = draining;
    if (this.#dropped > 0) this.#logger.debug(`basic mode: dropped ${this.#dropped} bytes of output`);
    this.#dropped = 0;
    // Output from here on has no connection until the next one sends its first byte.
    const owned = this.#owners.some((o) => o.socket === socket);
    // Reset once the output that arrived before the ack is written (at once if it owned none).
    if (this.#owners.at(-1)?.socket !== null) this.#own(null);
    if (!owned) this.#resetWhenFlushed(socket);
    this.#next();
  }

  /** Resets a connection once what was written to it has left (a reader that stalls holds only itself). */
  #resetWhenFlushed(socket: Socket): void {
    const done = () => {
      this.#finishing.delete(socket);
      reset(socket);
    };
    if (!writable(socket) || socket.writableLength === 0) {
      done();
      return;
    }
    // Writes complete in order: this callback runs once everything before it has been written.
    socket.write(NO_BYTES, done);
    socket.once("close", () => this.#finishing.delete(socket));
  }
}

function writable(socket: Socket): boolean {
  return !socket.destroyed && socket.writable;
}
