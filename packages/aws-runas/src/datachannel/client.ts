/**
 * The client end of a Session Manager data channel as a Node Duplex: bytes written are sent as
 * Output stream messages (≤ maxPayload each, pipelined, no sleeps); Output/StdErr/ExitCode
 * payloads from the agent are readable. Around the {@link ReliableEndpoint} it adds the websocket
 * (OpenDataChannel, pings, resume after a drop), the handshake and the KMS envelope.
 *
 * ```
 *  connecting ──ws open, OpenDataChannel──► waiting ──HandshakeRequest──► handshaking ──HandshakeComplete──► ready
 *                                              └──first Output (no handshake: shell)───────────────────────► ready
 *  any state ──ws lost──► resuming (ResumeSession + reconnect, unacked data resent) ──► previous state
 *  any state ──channel_closed / close()──► closed
 * ```
 * Events: "sessionType" (SessionTypeInfo), "ready" ({ customerMessage, encrypted }), "flag" (number),
 * "channelClosed" ({ output }), "resumed", "reconnecting" (Error), "connectionLost" ({ error,
 * windowMs }: the first resume attempt failed), "reconnected" ({ afterMs }: back after that).
 */
import { connect as netConnect, type Socket, type TcpNetConnectOpts } from "node:net";
import { Duplex } from "node:stream";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { ChannelError, type ProtocolError, RunasError } from "@aws-runas/wire/errors.js";
import { type Logger, silentLogger } from "@aws-runas/wire/log.js";
import {
  type DecodedMessage,
  decodeChannelClosed,
  decodeEncryptionChallenge,
  decodeFlag,
  decodeHandshakeComplete,
  decodeHandshakeRequest,
  describeMessage,
  encodeEncryptionChallenge,
  encodeFlag,
  encodeHandshakeResponse,
  encodeOpenDataChannel,
  encodeTerminalSize,
  FlagValue,
  MessageType,
  NONCE_LENGTH,
  openPayload,
  PayloadType,
  type SessionKeys,
  SessionType,
  sealPayload,
} from "@aws-runas/wire/protocol/index.js";
import WebSocket from "ws";
import { type Clock, type Entropy, systemClock, systemEntropy, type TimerHandle } from "./clock.js";
import { type Delivery, ReliableEndpoint } from "./endpoint.js";
import { answerHandshake, type GenerateDataKey, type SessionTypeInfo } from "./handshake.js";
import type { ChannelLimits } from "./limits.js";
import { isPresignedUrl } from "./sign.js";
import { TickCork } from "./tick-cork.js";

/**
 * Reported in OpenDataChannel and the HandshakeResponse: 1.2.764.0 is the oldest plugin AWS
 * still supports (§3.1); the agent picks smux at ≥ 1.1.70 and turns smux keepalive off above
 * 1.2.331.0 (§7.1), and both stay true.
 */
export const CLIENT_VERSION = "1.2.764.0";

/**
 * Default reconnect window: 10 minutes covers a short laptop sleep, a Wi-Fi change or a VPN
 * reconnect, and stays inside the 20 minutes a session is kept by default (the idle timeout);
 * the agent keeps unacknowledged output for about 5 minutes of resends while connected.
 */
export const DEFAULT_RECONNECT_WINDOW_MS = 10 * 60 * 1000;
/** Back-off cap between resume attempts: back within 5 s of the network. */
export const MAX_RECONNECT_DELAY_MS = 5000;

export interface ResumeResult {
  /** Empty or missing means the session is gone (timed out). */
  tokenValue?: string;
  streamUrl?: string;
}

export interface DataChannelOptions {
  streamUrl: string;
  tokenValue: string;
  sessionId: string;
  /** The StartSession Target: part of the KMS encryption context. */
  targetId: string;
  /** ResumeSession: called after the websocket drops. Without it a drop ends the channel. */
  resume?: () => Promise<ResumeResult>;
  generateDataKey?: GenerateDataKey;
  clientVersion?: string;
  clientId?: string;
  limits?: Partial<ChannelLimits>;
  /**
   * How long to keep trying to resume after the connection is lost (default
   * {@link DEFAULT_RECONNECT_WINDOW_MS}); 0 makes one attempt.
   */
  reconnectWindowMs?: number;
  /** At most this many resume attempts per drop (default: as many as fit in the window). */
  reconnectAttempts?: number;
  /** First back-off delay (randomised up to twice this). */
  reconnectDelayMs?: number;
  /** Which resume failures are worth another try (default {@link isRetryableResumeError}). */
  isRetryable?: (error: unknown) => boolean;
  /**
   * Headers that sign the upgrade request (SigV4, §3.1), asked for on every (re)connect so they
   * carry fresh credentials; not called for a presigned StreamUrl. A failure is logged and the
   * dial goes ahead unsigned, as the plugin does.
   */
  signUpgrade?: (url: string) => Promise<Record<string, string>>;
  /** Creates the TCP connection for the websocket (e.g. through an HTTP proxy); default: direct. */
  dial?: (url: URL) => Promise<Socket | null>;
  /** Sees the `Date` header of every upgrade response (the service's clock, for credential expiry). */
  observeDate?: (date: string | undefined) => void;
  /** Extra trusted CA certificates for wss:// (e.g. the contents of AWS_CA_BUNDLE). */
  ca?: string | Buffer;
  /** Unsent websocket bytes above which writers are held. */
  socketHighWaterBytes?: number;
  clock?: Clock;
  entropy?: Entropy;
  logger?: Logger;
}

export interface ReadyInfo {
  customerMessage: string;
  encrypted: boolean;
}

type State = "connecting" | "waiting" | "handshaking" | "ready" | "closed";

const ENCRYPTED_FROM_AGENT = new Set<number>([PayloadType.output, PayloadType.stdErr, PayloadType.exitCode]);
const DATA_TYPES = ENCRYPTED_FROM_AGENT;

export class DataChannel extends Duplex {
  readonly sessionId: string;
  readonly endpoint: ReliableEndpoint;
  /** Set from the HandshakeRequest (absent for sessions without a handshake). */
  agentVersion: string | undefined;
  sessionType: SessionTypeInfo | undefined;

  readonly #opts: DataChannelOptions;
  readonly #clock: Clock;
  readonly #entropy: Entropy;
  readonly #logger: Logger;
  readonly #clientId: string;
  readonly #socketHighWater: number;
  #streamUrl: string;
  #token: string;
  #ws: WebSocket | null = null;
  #cork: TickCork | null = null;
  #state: State = "connecting";
  #keys: SessionKeys | null = null;
  #encrypted = false;
  #readPaused = false;
  #socketPending = 0;
  #pendingWrite: (() => void) | null = null;
  #readyWaiters: Array<() => void> = [];
  #pingTimer: TimerHandle | null = null;
  #reconnecting = false;

  private constructor(options: DataChannelOptions) {
    super({ allowHalfOpen: true, readableHighWaterMark: 256 * 1024, writableHighWaterMark: 64 * 1024 });
    this.#opts = options;
    this.sessionId = options.sessionId;
    this.#clock = options.clock ?? systemClock;
    this.#entropy = options.entropy ?? systemEntropy;
    this.#logger = options.logger ?? silentLogger;
    this.#clientId = options.clientId ?? this.#entropy.uuid();
    this.#socketHighWater = options.socketHighWaterBytes ?? 1024 * 1024;
    this.#streamUrl = options.streamUrl;
    this.#token = options.tokenValue;
    this.#logger.addSecret(options.tokenValue);
    this.endpoint = new ReliableEndpoint({
      limits: options.limits,
      clock: this.#clock,
      entropy: this.#entropy,
      logger: this.#logger,
      onStreamMessage: (m) => this.#onStreamMessage(m),
      onControlMessage: (m) => this.#onControlMessage(m),
    });
    this.endpoint.on("drain", () => this.#maybeReleaseWrite());
    this.endpoint.on("error", (error: Error) => this.destroy(error));
    this.endpoint.on("protocolError", (error: ProtocolError) => {
      this.#logger.debug(`dropped a bad frame from the service: ${error.message}`);
    });
  }

  /** Connects to the StreamUrl and sends OpenDataChannel; resolves once the websocket is open. */
  static async open(options: DataChannelOptions): Promise<DataChannel> {
    const channel = new DataChannel(options);
    try {
      await channel.#connect();
    } catch (error) {
      channel.destroy();
      throw error;
    }
    return channel;
  }

  /**
   * Resolves when session data may flow (handshake complete, or first output of a shell); rejects
   * when the channel closes first.
   */
  whenReady(): Promise<void> {
    if (this.#state === "ready") return Promise.resolve();
    if (this.#state === "closed")
      return Promise.reject(new ChannelError("CHANNEL_CLOSED", "the session has ended"));
    // Waiters run when the channel becomes ready or closes: closed first is a failure, else a
    // session refused before it started would leave its caller waiting forever.
    return new Promise((resolve, reject) =>
      this.#readyWaiters.push(() =>
        this.#state === "ready"
          ? resolve()
          : reject(new ChannelError("CHANNEL_CLOSED", "the session ended before it was ready")),
      ),
    );
  }

  get isReady(): boolean {
    return this.#state === "ready";
  }

  /** Terminal size (PayloadType 3); sent in clear even with KMS (§5.4 step 7). */
  sendSize(cols: number, rows: number): void {
    if (this.#state === "closed") return;
    this.endpoint.send(PayloadType.size, encodeTerminalSize({ cols, rows }));
  }

  /**
   * A Flag message (PayloadType 10): DisconnectToPort or TerminateSession. Returns its sequence
   * number (the endpoint's "acknowledged" event names it once the agent has handled it), or
   * undefined when the channel is closed.
   */
  sendFlag(flag: number): number | undefined {
    if (this.#state === "closed") return undefined;
    return this.endpoint.send(PayloadType.flag, encodeFlag(flag));
  }

  /** Sends Flag TerminateSession (port sessions) — once, without waiting for the ack (§6.3). */
  terminate(): void {
    this.sendFlag(FlagValue.terminateSession);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#whenWritable(() => {
      if (this.#state === "closed")
        return callback(new ChannelError("CHANNEL_CLOSED", "the session has ended"));
      this.#sendData(chunk);
      this.#afterSend(callback);
    });
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.#whenWritable(() => {
      if (this.#state === "closed")
        return callback(new ChannelError("CHANNEL_CLOSED", "the session has ended"));
      for (const { chunk } of chunks) this.#sendData(chunk);
      this.#afterSend(callback);
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback(); // what EOF means is the session's business (shell: nothing; port basic: DisconnectToPort)
  }

  override _read(): void {
    if (this.#readPaused) {
      this.#readPaused = false;
      this.#ws?.resume();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#shutdown();
    callback(error);
  }

  /** Closes the websocket and stops every timer. Idempotent; does not end the remote session. */
  close(): void {
    this.#shutdown();
    this.push(null);
  }

  #shutdown(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#pingTimer?.cancel();
    this.#pingTimer = null;
    this.endpoint.close();
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      ws.removeAllListeners();
      ws.on("error", () => {});
      // A graceful close flushes what is still queued (e.g. a TerminateSession flag); a peer
      // that never answers the close frame is cut off after a second.
      ws.close(1000);
      this.#clock.after(1000, () => ws.terminate());
    }
    const release = this.#pendingWrite;
    this.#pendingWrite = null;
    release?.();
    for (const w of this.#readyWaiters.splice(0)) w();
  }

  #whenWritable(fn: () => void): void {
    if (this.#state === "ready" || this.#state === "closed") fn();
    else this.#readyWaiters.push(fn);
  }

  #sendData(chunk: Buffer): void {
    const max = this.endpoint.limits.maxPayload;
    for (let offset = 0; offset < chunk.length; offset += max) {
      const piece = chunk.subarray(offset, Math.min(chunk.length, offset + max));
      // encodeMessage copies the payload into the frame, so a view of the caller's chunk is enough.
      const payload = this.#encrypted && this.#keys ? this.#seal(piece) : piece;
      this.endpoint.send(PayloadType.output, payload);
    }
  }

  #seal(plaintext: Buffer): Buffer {
    // Random nonces, as the plugin does (§14.9): safe with a fresh 256-bit key per session.
    return sealPayload(this.#keys!.clientToAgent, this.#entropy.bytes(NONCE_LENGTH), plaintext);
  }

  #congested(): boolean {
    return this.endpoint.congested || this.#socketPending >= this.#socketHighWater;
  }

  #afterSend(callback: () => void): void {
    if (this.#congested()) this.#pendingWrite = callback;
    else callback();
  }

  #maybeReleaseWrite(): void {
    if (!this.#pendingWrite || this.#congested()) return;
    const release = this.#pendingWrite;
    this.#pendingWrite = null;
    release();
  }

  #setReady(info: ReadyInfo): void {
    if (this.#state === "ready" || this.#state === "closed") return;
    this.#state = "ready";
    this.emit("ready", info);
    for (const w of this.#readyWaiters.splice(0)) w();
  }

  #onStreamMessage(m: DecodedMessage): Delivery {
    this.#logger.trace(`recv ${describeMessage(m)}`);
    switch (m.payloadType) {
      case PayloadType.handshakeRequest:
        this.#handleHandshakeRequest(m);
        return "ok";
      case PayloadType.encChallengeRequest:
        this.#handleChallenge(m);
        return "ok";
      case PayloadType.handshakeComplete: {
        const complete = decodeHandshakeCompleteSafe(m.payload);
        this.#encrypted = this.#keys !== null;
        this.#setReady({ customerMessage: complete.CustomerMessage, encrypted: this.#encrypted });
        return "ok";
      }
      case PayloadType.flag:
        this.emit("flag", decodeFlagSafe(m.payload));
        return "ok";
      default:
        break;
    }
    if (!DATA_TYPES.has(m.payloadType)) return "ok"; // defined but unused types: ack and ignore
    if (this.#state === "waiting") {
      // No handshake: the first output makes this a Standard_Stream session (§6.5).
      this.sessionType = { sessionType: SessionType.standardStream, properties: null };
      this.emit("sessionType", this.sessionType);
      this.#setReady({ customerMessage: "", encrypted: false });
    }
    let data: Buffer = m.payload;
    if (this.#encrypted && this.#keys) {
      try {
        data = openPayload(this.#keys.agentToClient, m.payload);
      } catch (error) {
        // Undecryptable data cannot be recovered by a resend: end the session loudly.
        this.destroy(new ChannelError("CHANNEL_DECRYPT", "could not decrypt session data", { cause: error }));
        return "not-ready";
      }
    }
    // Remote commands read StdErr and ExitCode apart from stdout; everyone else (like the
    // plugin) gets every payload type in the one stream.
    if (m.payloadType !== PayloadType.output && this.listenerCount("sideband") > 0) {
      this.emit("sideband", m.payloadType, data);
      return "ok";
    }
    if (!this.push(data) && !this.#readPaused) {
      // Back-pressure from the local consumer: stop reading the websocket (never withhold acks).
      this.#readPaused = true;
      this.#ws?.pause();
    }
    return "ok";
  }

  #handleHandshakeRequest(m: DecodedMessage): void {
    let request: ReturnType<typeof decodeHandshakeRequest>;
    try {
      request = decodeHandshakeRequest(m.payload);
    } catch (error) {
      this.destroy(new ChannelError("CHANNEL_HANDSHAKE", "malformed handshake request", { cause: error }));
      return;
    }
    this.#state = "handshaking";
    this.agentVersion = request.AgentVersion;
    answerHandshake(request, {
      clientVersion: this.#opts.clientVersion ?? CLIENT_VERSION,
      sessionId: this.sessionId,
      targetId: this.#opts.targetId,
      generateDataKey: this.#opts.generateDataKey,
    }).then(
      (outcome) => {
        if (this.#state === "closed") return;
        this.#keys = outcome.keys;
        if (outcome.sessionType) {
          this.sessionType = outcome.sessionType;
          this.emit("sessionType", outcome.sessionType);
        }
        this.endpoint.send(PayloadType.handshakeResponse, encodeHandshakeResponse(outcome.response));
        if (outcome.errors.length > 0) this.#logger.warn(`handshake: ${outcome.errors.join("; ")}`);
      },
      (error: Error) => this.destroy(error),
    );
  }

  #handleChallenge(m: DecodedMessage): void {
    if (!this.#keys) {
      this.destroy(new ChannelError("CHANNEL_HANDSHAKE", "encryption challenge before a KMS key was agreed"));
      return;
    }
    try {
      const challenge = Buffer.from(decodeEncryptionChallenge(m.payload).Challenge, "base64");
      const plain = openPayload(this.#keys.agentToClient, challenge);
      const answer = this.#seal(plain);
      this.endpoint.send(
        PayloadType.encChallengeResponse,
        encodeEncryptionChallenge({ Challenge: answer.toString("base64") }),
      );
    } catch (error) {
      this.destroy(
        new ChannelError("CHANNEL_HANDSHAKE", "the KMS encryption challenge failed", { cause: error }),
      );
    }
  }

  #onControlMessage(m: DecodedMessage): void {
    this.#logger.trace(`recv ${describeMessage(m)}`);
    if (m.messageType === MessageType.channelClosed) {
      let output = "";
      try {
        output = decodeChannelClosed(m.payload).Output;
      } catch {
        // A malformed channel_closed still closes the channel.
      }
      this.emit("channelClosed", { output });
      this.close();
    }
    // start/pause_publication and agent_session_state need nothing from a client (§8): the
    // endpoint's acks and retransmission already cover a paused peer.
  }

  async #connect(): Promise<void> {
    const url = this.#streamUrl;
    const headers = await this.#upgradeHeaders(url);
    const tunnel = this.#opts.dial
      ? await this.#opts.dial(new URL(url)).catch((error: Error) => {
          throw new ChannelError(
            "CHANNEL_CONNECT",
            `cannot connect to the session gateway: ${error.message}`,
            { cause: error, retryable: true },
          );
        })
      : null;
    if (this.#state === "closed") {
      tunnel?.destroy();
      return;
    }
    let socket: Socket | null = null;
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      handshakeTimeout: 45_000,
      headers,
      ...(this.#opts.ca ? { ca: this.#opts.ca } : {}),
      // Keep the TCP/TLS socket so frames sent in one tick leave in one write (see #sendFrame).
      createConnection: ((opts: TcpNetConnectOpts & ConnectionOptions) => {
        const secure = url.startsWith("wss:");
        if (tunnel) socket = secure ? tlsConnect({ ...opts, socket: tunnel }) : tunnel;
        else socket = secure ? tlsConnect(opts) : netConnect(opts);
        return socket;
      }) as typeof netConnect,
      ...(skipMasking(url, tunnel !== null) ? { generateMask: zeroMask } : {}),
    });
    ws.once("upgrade", (res) => this.#opts.observeDate?.(res.headers.date));
    ws.binaryType = "nodebuffer";
    await new Promise<void>((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => {
        this.#opts.observeDate?.(res.headers.date);
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
    // close() may have run while the upgrade was on its way.
    if ((this.#state as State) === "closed") {
      ws.terminate();
      return;
    }
    ws.removeAllListeners();
    this.#ws = ws;
    this.#cork = socket ? new TickCork(socket) : null;
    ws.send(
      encodeOpenDataChannel({
        MessageSchemaVersion: "1.0",
        RequestId: this.#entropy.uuid(),
        TokenValue: this.#token,
        ClientId: this.#clientId,
        ClientVersion: this.#opts.clientVersion ?? CLIENT_VERSION,
      }),
    );
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.endpoint.receive(data);
    });
    ws.on("error", (error) => this.#logger.debug(`websocket error: ${error.message}`));
    ws.on("close", (code) => this.#onSocketClosed(ws, code));
    if (this.#readPaused) ws.pause();
    ws.ping("keepalive");
    this.#pingTimer?.cancel();
    this.#pingTimer = this.#clock.every(this.endpoint.limits.pingIntervalMs, () =>
      this.#ws?.ping("keepalive"),
    );
    this.endpoint.attach({ send: (frame, written) => this.#sendFrame(ws, frame, written) });
    if (this.#state === "connecting") this.#state = "waiting";
  }

  async #upgradeHeaders(url: string): Promise<Record<string, string>> {
    if (!this.#opts.signUpgrade || isPresignedUrl(url)) return {};
    try {
      return await this.#opts.signUpgrade(url);
    } catch (error) {
      this.#logger.debug(
        `cannot sign the data channel upgrade, connecting unsigned: ${(error as Error).message}`,
      );
      return {};
    }
  }

  /** `written` runs once ws is done with the frame's bytes (sent, or failed with the socket). */
  #sendFrame(ws: WebSocket, frame: Buffer, written?: () => void): void {
    if (ws.readyState !== WebSocket.OPEN) {
      written?.();
      return;
    }
    this.#cork?.hold();
    this.#socketPending += frame.length;
    ws.send(frame, { binary: true }, () => {
      written?.();
      // A drop reset the count for the new connection (#onSocketClosed); late callbacks of the
      // old socket must not take it below zero.
      if (this.#ws === ws) this.#socketPending -= frame.length;
      if (this.#pendingWrite) this.#maybeReleaseWrite();
    });
  }

  #onSocketClosed(ws: WebSocket, code: number): void {
    if (this.#ws !== ws || this.#state === "closed") return;
    this.#ws = null;
    this.#socketPending = 0;
    this.endpoint.attach(null);
    this.#logger.debug(`websocket closed (code ${code})`);
    if (!this.#opts.resume) {
      this.destroy(new ChannelError("CHANNEL_LOST", "the connection to the session was lost"));
      return;
    }
    void this.#resume();
  }

  /**
   * ResumeSession + reconnect after any close we did not ask for (the service's hourly 1000
   * "Bye" included, §9), with capped exponential back-off (100–200 ms, doubling, at most
   * {@link MAX_RECONNECT_DELAY_MS}) for up to `reconnectWindowMs` — long enough to ride out a
   * laptop sleep or a network change. Only definite answers (see isRetryableResumeError) end it
   * early. "connectionLost" is emitted when the first attempt fails, and "reconnected" (with the
   * time it took) once a connection that was announced lost is back; a drop that heals at the
   * first attempt (a recycle) emits neither.
   */
  async #resume(): Promise<void> {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    const window = this.#opts.reconnectWindowMs ?? DEFAULT_RECONNECT_WINDOW_MS;
    const maxAttempts = this.#opts.reconnectAttempts ?? Number.POSITIVE_INFINITY;
    const retryable = this.#opts.isRetryable ?? isRetryableResumeError;
    const lostAt = this.#clock.now();
    let delay = (this.#opts.reconnectDelayMs ?? 100) * (1 + Math.random());
    let lastError: Error | undefined;
    let announced = false;
    try {
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        if (this.#state === "closed") return;
        try {
          const result = await this.#opts.resume!();
          if ((this.#state as State) === "closed") return;
          if (!result.tokenValue) {
            this.destroy(
              new ChannelError("CHANNEL_TIMED_OUT", `Session: ${this.sessionId} timed out.`, {
                hint: "the service ended the session while the connection was down; start a new session",
              }),
            );
            return;
          }
          this.#token = result.tokenValue;
          this.#logger.addSecret(result.tokenValue);
          if (result.streamUrl) this.#streamUrl = result.streamUrl;
          await this.#connect();
          if (announced) this.emit("reconnected", { afterMs: this.#clock.now() - lostAt });
          this.emit("resumed");
          return;
        } catch (error) {
          lastError = error as Error;
          // Decided where the error was made (src/aws/errors.ts for AWS answers, the gateway dial
          // below): a definite answer (an unknown session, access denied) ends it at once.
          if (!retryable(error)) break;
          this.#logger.debug(`resume attempt ${attempt} failed: ${lastError.message}`);
          if (!announced) {
            announced = true;
            this.emit("connectionLost", { error: lastError, windowMs: window });
          }
          this.emit("reconnecting", error);
          const left = window - (this.#clock.now() - lostAt);
          if (left <= 0) break;
          await new Promise<void>((resolve) => this.#clock.after(Math.min(delay, left), resolve));
          delay = Math.min(delay * 2, MAX_RECONNECT_DELAY_MS);
        }
      }
      const waited = Math.round((this.#clock.now() - lostAt) / 1000);
      this.destroy(
        new ChannelError(
          "CHANNEL_LOST",
          `lost the connection to session ${this.sessionId} and could not resume it${announced ? ` in ${waited} s` : ""}${lastError ? `: ${lastError.message}` : ""}`,
          { hint: "check the network; the session may have been terminated", cause: lastError },
        ),
      );
    } finally {
      this.#reconnecting = false;
    }
  }
}

/**
 * Client frames are masked so that plaintext websockets cannot poison caching proxies on the
 * way. Over TLS (the real service is always wss://) or on loopback no intermediary sees the
 * bytes, so masking is pure cost; a zero mask makes ws skip it.
 */
/**
 * Whether a failed resume attempt is worth another try. Our errors carry the answer (AWS errors
 * classified at the AWS boundary, gateway dials above); anything else is unexpected and gets
 * the benefit of the doubt, bounded by the reconnect window.
 */
function isRetryableResumeError(error: unknown): boolean {
  return error instanceof RunasError ? error.retryable : true;
}

function skipMasking(url: string, proxied: boolean): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === "wss:") return true;
  return !proxied && (hostname === "127.0.0.1" || hostname === "[::1]" || hostname === "localhost");
}

function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

function decodeHandshakeCompleteSafe(payload: Buffer): { CustomerMessage: string } {
  try {
    return decodeHandshakeComplete(payload);
  } catch {
    return { CustomerMessage: "" };
  }
}

function decodeFlagSafe(payload: Buffer): number {
  try {
    return decodeFlag(payload);
  } catch {
    return -1;
  }
}
