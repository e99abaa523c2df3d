/**
 * The client end of a Session Manager data channel as a Node Duplex: bytes written are sent as
 * Output stream messages (≤ maxPayload each, pipelined, no sleeps); Output/StdErr/ExitCode
 * payloads from the agent are readable. This is the session part: the state machine below, the
 * handshake, the KMS envelope ({@link SessionCipher}) and back-pressure both ways. The
 * {@link ReliableEndpoint} sequences and resends messages; the {@link ChannelConnection}
 * (connection.ts over transport.ts, resume.ts) dials, pings and resumes the websocket under it.
 *
 * ```
 *  connecting ──ws open, OpenDataChannel──► waiting ──HandshakeRequest──► handshaking ──HandshakeComplete──► ready
 *                                              └──first Output (no handshake: shell)───────────────────────► ready
 *  any state ──ws lost──► resuming (ResumeSession + reconnect, unacked data resent) ──► previous state
 *  any state ──channel_closed / close()──► closed
 * ```
 * Events: DataChannelEvents (events.ts).
 */
import { Duplex } from "node:stream";
import { ChannelError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import { silentLogger } from "@aws-runas/wire/log.js";
import {
  type DecodedMessage,
  decodeChannelClosed,
  decodeFlag,
  decodeHandshakeComplete,
  decodeHandshakeRequest,
  describeMessage,
  encodeFlag,
  encodeHandshakeResponse,
  encodeTerminalSize,
  FlagValue,
  MessageType,
  PayloadType,
  SessionType,
} from "@aws-runas/wire/protocol/index.js";
import { SessionCipher } from "./cipher.js";
import { type Clock, type Entropy, systemClock, systemEntropy } from "./clock.js";
import { ChannelConnection, CLIENT_VERSION, type ConnectionSettings } from "./connection.js";
import { type Delivery, ReliableEndpoint } from "./endpoint.js";
import type { Events, ReadyInfo } from "./events.js";
import { answerHandshake, type GenerateDataKey, type SessionTypeInfo } from "./handshake.js";
import type { ChannelLimits } from "./limits.js";

export { CLIENT_VERSION } from "./connection.js";
export type { DataChannelEvents, ReadyInfo } from "./events.js";
export { DEFAULT_RECONNECT_WINDOW_MS, MAX_RECONNECT_DELAY_MS, type ResumeResult } from "./resume.js";

export interface DataChannelOptions extends ConnectionSettings {
  /** The StartSession Target: part of the KMS encryption context. */
  targetId: string;
  generateDataKey?: GenerateDataKey;
  limits?: Partial<ChannelLimits>;
  /** Unsent websocket bytes above which writers are held. */
  socketHighWaterBytes?: number;
  clock?: Clock;
  entropy?: Entropy;
  logger?: Logger;
}

type Listener<K extends keyof Events> = (...args: Events[K]) => void;

/*
 * Duplex has no event type parameter (as EventEmitter<T> has for MuxSession): these signatures
 * replace its loose ones, so a listener or emit of the wrong shape, or an unknown event name,
 * does not compile.
 */
export interface DataChannel {
  on<K extends keyof Events>(event: K, listener: Listener<K>): this;
  once<K extends keyof Events>(event: K, listener: Listener<K>): this;
  prependListener<K extends keyof Events>(event: K, listener: Listener<K>): this;
  off<K extends keyof Events>(event: K, listener: Listener<K>): this;
  removeListener<K extends keyof Events>(event: K, listener: Listener<K>): this;
  emit<K extends keyof Events>(event: K, ...args: Events[K]): boolean;
}

type State = "connecting" | "waiting" | "handshaking" | "ready" | "closed";

const ENCRYPTED_FROM_AGENT = new Set<number>([PayloadType.output, PayloadType.stdErr, PayloadType.exitCode]);
const DATA_TYPES = ENCRYPTED_FROM_AGENT;

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface only narrows the event methods Duplex implements
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
  readonly #socketHighWater: number;
  readonly #connection: ChannelConnection;
  #state: State = "connecting";
  /** Set once the handshake agreed a KMS key; data is sealed from HandshakeComplete on. */
  #cipher: SessionCipher | null = null;
  #encrypted = false;
  #pendingWrite: (() => void) | null = null;
  #readyWaiters: Array<() => void> = [];

  private constructor(options: DataChannelOptions) {
    super({ allowHalfOpen: true, readableHighWaterMark: 256 * 1024, writableHighWaterMark: 64 * 1024 });
    this.#opts = options;
    this.sessionId = options.sessionId;
    this.#clock = options.clock ?? systemClock;
    this.#entropy = options.entropy ?? systemEntropy;
    this.#logger = options.logger ?? silentLogger;
    this.#socketHighWater = options.socketHighWaterBytes ?? 1024 * 1024;
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
    this.endpoint.on("protocolError", (error) => {
      this.#logger.debug(`dropped a bad frame from the service: ${error.message}`);
    });
    this.#connection = new ChannelConnection(options, {
      endpoint: this.endpoint,
      clock: this.#clock,
      entropy: this.#entropy,
      logger: this.#logger,
      closed: () => this.#state === "closed",
      onSent: () => {
        if (this.#pendingWrite) this.#maybeReleaseWrite();
      },
      fail: (error) => this.destroy(error),
      onConnectionLost: (info) => this.emit("connectionLost", info),
      onReconnecting: (error) => this.emit("reconnecting", error),
      onResumed: ({ announced, afterMs }) => {
        if (announced) this.emit("reconnected", { afterMs });
        this.emit("resumed");
      },
    });
  }

  /** Connects to the StreamUrl and sends OpenDataChannel; resolves once the websocket is open. */
  static async open(options: DataChannelOptions): Promise<DataChannel> {
    const channel = new DataChannel(options);
    try {
      await channel.#connection.connect();
      if (channel.#state === "connecting") channel.#state = "waiting";
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
    this.#connection.setReadPaused(false);
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
    this.endpoint.close();
    this.#connection.close();
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
      const payload = this.#encrypted && this.#cipher ? this.#cipher.seal(piece) : piece;
      this.endpoint.send(PayloadType.output, payload);
    }
  }

  #congested(): boolean {
    return this.endpoint.congested || this.#connection.pendingBytes >= this.#socketHighWater;
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
        this.#encrypted = this.#cipher !== null;
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
    if (this.#encrypted && this.#cipher) {
      try {
        data = this.#cipher.open(m.payload);
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
    // Back-pressure from the local consumer: stop reading the websocket (never withhold acks).
    if (!this.push(data)) this.#connection.setReadPaused(true);
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
        this.#cipher = outcome.keys ? new SessionCipher(outcome.keys, this.#entropy) : null;
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
    if (!this.#cipher) {
      this.destroy(new ChannelError("CHANNEL_HANDSHAKE", "encryption challenge before a KMS key was agreed"));
      return;
    }
    try {
      this.endpoint.send(PayloadType.encChallengeResponse, this.#cipher.answerChallenge(m.payload));
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
