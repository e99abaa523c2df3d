/**
 * The SOCKS5 front end: each accepted connection goes through the method greeting and one
 * CONNECT request (codec.ts), is checked against `--allow`, then gets a stream on its
 * destination's pooled session (pool.ts). The reply waits until the pool knows the stream is
 * connected or failed. Bytes the client sends after its request (optimistic data) are kept and
 * forwarded once connected.
 */
import type { Server, Socket } from "node:net";
import type { Logger } from "@aws-runas/wire/log.js";
import { reset } from "../session/reset.js";
import { type AllowPattern, isAllowed } from "./allow.js";
import {
  AuthMethod,
  type ConnectRequest,
  encodeMethodSelection,
  encodeReply,
  type Parsed,
  parseGreeting,
  parseRequest,
  Reply,
  type ReplyCode,
  replyName,
} from "./codec.js";
import type { SessionPool } from "./pool.js";

export interface SocksServerOptions {
  server: Server;
  pool: SessionPool;
  allow: readonly AllowPattern[];
  logger: Logger;
}

/** Bytes a client may send before its request is complete; more is not SOCKS5. */
const MAX_HANDSHAKE_BYTES = 1024;

/** Serves SOCKS5 on `server` until it is closed; returns a function that drops every connection. */
export function serveSocks(options: SocksServerOptions): () => void {
  const sockets = new Set<Socket>();
  const onConnection = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", (error) => options.logger.debug(`socks client: ${error.message}`));
    socket.setNoDelay(true);
    void handleConnection(socket, options);
  };
  options.server.on("connection", onConnection);
  return () => {
    options.server.off("connection", onConnection);
    for (const socket of sockets) reset(socket);
  };
}

async function handleConnection(socket: Socket, options: SocksServerOptions): Promise<void> {
  const { logger } = options;
  const reader = new HandshakeReader(socket);
  const greeting = await reader.next(parseGreeting);
  if (greeting.kind !== "ok") {
    if (greeting.kind === "error") logger.debug(`socks: ${greeting.message}`);
    socket.destroy();
    return;
  }
  if (!greeting.value.methods.includes(AuthMethod.none)) {
    logger.debug("socks: the client wants authentication; only 'no authentication' is offered");
    socket.end(encodeMethodSelection(AuthMethod.noAcceptable));
    return;
  }
  socket.write(encodeMethodSelection(AuthMethod.none));
  const request = await reader.next(parseRequest);
  if (request.kind !== "ok") {
    if (request.kind === "error") {
      logger.debug(`socks: ${request.message}`);
      if (request.reply !== undefined) socket.end(encodeReply(request.reply));
      else socket.destroy();
    } else socket.destroy();
    return;
  }
  const { host, port } = request.value;
  const label = describe(request.value);
  if (!isAllowed(options.allow, host, port)) {
    logger.info(`socks: ${label} is not allowed by --allow`);
    socket.end(encodeReply(Reply.notAllowed));
    return;
  }
  const outcome = await options.pool.connect({ host: host.toLowerCase(), port });
  if (socket.destroyed) {
    if (outcome.ok) outcome.attach(socket); // closes the stream with the socket
    return;
  }
  if (!outcome.ok) {
    logger.info(`socks: ${label}: ${replyName(outcome.reply)} (${outcome.reason})`);
    socket.end(encodeReply(outcome.reply));
    return;
  }
  logger.debug(`socks: ${label} connected on session ${outcome.sessionId}`);
  socket.write(encodeReply(Reply.succeeded));
  const early = reader.rest();
  if (early.length > 0) socket.unshift(early);
  outcome.attach(socket);
}

function describe(request: ConnectRequest): string {
  return request.type === "ipv6" ? `[${request.host}]:${request.port}` : `${request.host}:${request.port}`;
}

/**
 * Collects the handshake bytes and hands each parser the unconsumed part. The socket is paused
 * between reads so nothing after the request is lost before the stream is attached.
 */
class HandshakeReader {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #ended = false;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.once("end", () => {
      this.#ended = true;
    });
    socket.once("close", () => {
      this.#ended = true;
    });
  }

  /** Parses the next message; `incomplete` means the client went away first. */
  next<T>(parse: (buf: Uint8Array) => Parsed<T>): Promise<Parsed<T>> {
    return new Promise((resolve) => {
      const attempt = (): boolean => {
        const parsed = parse(this.#buffer);
        if (parsed.kind === "incomplete" && this.#buffer.length < MAX_HANDSHAKE_BYTES && !this.#ended) {
          return false;
        }
        if (parsed.kind === "ok") this.#buffer = this.#buffer.subarray(parsed.consumed);
        resolve(
          parsed.kind === "incomplete" && this.#buffer.length >= MAX_HANDSHAKE_BYTES
            ? { kind: "error", message: "the SOCKS handshake is too long" }
            : parsed,
        );
        return true;
      };
      if (attempt()) return;
      const onData = (chunk: Buffer) => {
        this.#buffer = Buffer.concat([this.#buffer, chunk]);
        if (attempt()) done();
      };
      const onEnd = () => {
        attempt();
        done();
      };
      const done = () => {
        this.#socket.off("data", onData);
        this.#socket.off("end", onEnd);
        this.#socket.off("close", onEnd);
        this.#socket.pause();
      };
      this.#socket.on("data", onData);
      this.#socket.once("end", onEnd);
      this.#socket.once("close", onEnd);
      this.#socket.resume();
    });
  }

  /** What arrived after the last parsed message. */
  rest(): Buffer {
    const rest = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    return rest;
  }
}

export type { ReplyCode };
