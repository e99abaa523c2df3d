/**
 * The websocket under a data channel (ssm-protocol.md §3): dialing the StreamUrl (signed upgrade,
 * optional tunnel, TLS), then a {@link ChannelSocket} that sends binary frames corked per tick,
 * counts unsent bytes for back-pressure and pings to keep idle paths open. One ChannelSocket per
 * connection; a resume dials a new one. Knows nothing of messages, sequence numbers or sessions.
 */
import { connect as netConnect, type Socket, type TcpNetConnectOpts } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { ChannelError, RunasError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import WebSocket from "ws";
import type { Clock, TimerHandle } from "./clock.js";
import { TickCork } from "./tick-cork.js";

export interface DialOptions {
  url: string;
  /** Upgrade request headers (SigV4, or none for a presigned URL). */
  headers: Record<string, string>;
  /** Creates the TCP connection (e.g. through an HTTP proxy); default: direct. */
  dial?: (url: URL) => Promise<Socket | null>;
  /** Extra trusted CA certificates for wss://. */
  ca?: string | Buffer;
  /** Sees the `Date` header of the upgrade response, accepted or refused. */
  observeDate?: (date: string | undefined) => void;
  /** Checked after each wait: true drops what was dialed (the channel closed meanwhile). */
  cancelled: () => boolean;
}

/**
 * Opens the websocket. Resolves null when {@link DialOptions.cancelled} turned true on the way;
 * rejects with a retryable ChannelError (CHANNEL_FORBIDDEN for HTTP 403, else CHANNEL_CONNECT).
 */
export async function dialWebSocket(
  options: DialOptions,
): Promise<{ ws: WebSocket; socket: Socket | null } | null> {
  const { url } = options;
  const tunnel = options.dial
    ? await options.dial(new URL(url)).catch((error: Error) => {
        throw new ChannelError("CHANNEL_CONNECT", `cannot connect to the session gateway: ${error.message}`, {
          cause: error,
          retryable: true,
        });
      })
    : null;
  if (options.cancelled()) {
    tunnel?.destroy();
    return null;
  }
  let socket: Socket | null = null;
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    handshakeTimeout: 45_000,
    headers: options.headers,
    ...(options.ca ? { ca: options.ca } : {}),
    // Keep the TCP/TLS socket so frames sent in one tick leave in one write (ChannelSocket.send).
    createConnection: ((opts: TcpNetConnectOpts & ConnectionOptions) => {
      const secure = url.startsWith("wss:");
      if (tunnel) socket = secure ? tlsConnect({ ...opts, socket: tunnel }) : tunnel;
      else socket = secure ? tlsConnect(opts) : netConnect(opts);
      return socket;
    }) as typeof netConnect,
    ...(skipMasking(url, tunnel !== null) ? { generateMask: zeroMask } : {}),
  });
  ws.once("upgrade", (res) => options.observeDate?.(res.headers.date));
  ws.binaryType = "nodebuffer";
  await new Promise<void>((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => {
      options.observeDate?.(res.headers.date);
      res.resume();
      const status = res.statusCode ?? 0;
      reject(
        // 403 too: credentials that expired meanwhile are re-signed by the next attempt.
        new ChannelError(
          status === 403 ? "CHANNEL_FORBIDDEN" : "CHANNEL_CONNECT",
          `the session gateway refused the connection (HTTP ${status})`,
          { retryable: true },
        ),
      );
    });
  }).catch((error: Error) => {
    ws.removeAllListeners();
    ws.on("error", () => {});
    ws.terminate();
    throw error instanceof RunasError
      ? error
      : new ChannelError("CHANNEL_CONNECT", `cannot connect to the session gateway: ${error.message}`, {
          cause: error,
          retryable: true,
        });
  });
  // The channel may have closed while the upgrade was on its way.
  if (options.cancelled()) {
    ws.terminate();
    return null;
  }
  ws.removeAllListeners();
  return { ws, socket };
}

export interface ChannelSocketOptions {
  /** The first message on the socket, before any frame or ping: OpenDataChannel (§3.2). */
  openWith: string;
  clock: Clock;
  logger: Logger;
  pingIntervalMs: number;
  /** Every binary message received. */
  onFrame: (frame: Buffer) => void;
  /** The websocket closed, whoever closed it (not called after {@link ChannelSocket.close}). */
  onClose: (code: number) => void;
  /** Sent bytes left the process: {@link ChannelSocket.pendingBytes} went down. */
  onSent: () => void;
}

/** An open websocket of a data channel. */
export class ChannelSocket {
  readonly #ws: WebSocket;
  readonly #cork: TickCork | null;
  readonly #clock: Clock;
  readonly #ping: TimerHandle;
  readonly #onSent: () => void;
  #pending = 0;
  #closed = false;

  constructor(dialed: { ws: WebSocket; socket: Socket | null }, options: ChannelSocketOptions) {
    const { ws, socket } = dialed;
    this.#ws = ws;
    this.#cork = socket ? new TickCork(socket) : null;
    this.#clock = options.clock;
    this.#onSent = options.onSent;
    ws.send(options.openWith);
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) options.onFrame(data);
    });
    ws.on("error", (error) => options.logger.debug(`websocket error: ${error.message}`));
    ws.on("close", (code) => {
      this.#stop();
      options.onClose(code);
    });
    // Pings keep NAT and proxy paths open while a session is idle (§3.3).
    ws.ping("keepalive");
    this.#ping = this.#clock.every(options.pingIntervalMs, () => ws.ping("keepalive"));
  }

  /** Bytes handed to the websocket that have not left the process yet. */
  get pendingBytes(): number {
    return this.#pending;
  }

  /**
   * Sends one binary frame; frames of one tick leave in one write. Dropped once closed.
   * `written` runs once ws is done with the frame's bytes (sent, or failed with the socket).
   */
  send(frame: Buffer, written?: () => void): void {
    if (this.#ws.readyState !== WebSocket.OPEN) {
      written?.();
      return;
    }
    this.#cork?.hold();
    this.#pending += frame.length;
    this.#ws.send(frame, { binary: true }, () => {
      written?.();
      this.#pending -= frame.length;
      this.#onSent();
    });
  }

  /** Stops reading from the network (the local reader is full); acks of what arrived still go out. */
  pause(): void {
    this.#ws.pause();
  }

  resume(): void {
    this.#ws.resume();
  }

  /**
   * Closes gracefully: what is still queued (e.g. a TerminateSession flag) is flushed, and a
   * peer that never answers the close frame is cut off after a second. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#stop();
    const ws = this.#ws;
    ws.removeAllListeners();
    ws.on("error", () => {});
    ws.close(1000);
    this.#clock.after(1000, () => ws.terminate());
  }

  #stop(): void {
    this.#closed = true;
    this.#ping.cancel();
  }
}

/**
 * Client frames are masked so that plaintext websockets cannot poison caching proxies on the
 * way. Over TLS (the real service is always wss://) or on loopback no intermediary sees the
 * bytes, so masking is pure cost; a zero mask makes ws skip it.
 */
function skipMasking(url: string, proxied: boolean): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === "wss:") return true;
  return !proxied && (hostname === "127.0.0.1" || hostname === "[::1]" || hostname === "localhost");
}

function zeroMask(mask: Buffer): void {
  mask.fill(0);
}
