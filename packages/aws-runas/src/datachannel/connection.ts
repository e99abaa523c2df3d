/**
 * The connection of a data channel over its lifetime: sign and dial the StreamUrl, send
 * OpenDataChannel, hand frames to the {@link ReliableEndpoint}, and after a drop ResumeSession
 * and dial again (paced by {@link retryResume}) while the endpoint resends what is unacked.
 * The session above it (handshake, KMS, the Duplex) sees only hooks.
 */
import { ChannelError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import { encodeOpenDataChannel } from "@aws-runas/wire/protocol/index.js";
import type { Clock, Entropy } from "./clock.js";
import type { ReliableEndpoint } from "./endpoint.js";
import { type ResumeResult, retryResume } from "./resume.js";
import { isPresignedUrl } from "./sign.js";
import { ChannelSocket, type DialOptions, dialWebSocket } from "./transport.js";

/**
 * Reported in OpenDataChannel and the HandshakeResponse: 1.2.764.0 is the oldest plugin AWS
 * still supports (§3.1); the agent picks smux at ≥ 1.1.70 and turns smux keepalive off above
 * 1.2.331.0 (§7.1), and both stay true.
 */
export const CLIENT_VERSION = "1.2.764.0";

/** What the caller of DataChannel.open says about the connection. */
export interface ConnectionSettings {
  streamUrl: string;
  tokenValue: string;
  sessionId: string;
  /** ResumeSession: called after the websocket drops. Without it a drop ends the channel. */
  resume?: () => Promise<ResumeResult>;
  clientVersion?: string;
  clientId?: string;
  /**
   * How long to keep trying to resume after the connection is lost (default
   * DEFAULT_RECONNECT_WINDOW_MS); 0 makes one attempt.
   */
  reconnectWindowMs?: number;
  /** At most this many resume attempts per drop (default: as many as fit in the window). */
  reconnectAttempts?: number;
  /** First back-off delay (randomised up to twice this). */
  reconnectDelayMs?: number;
  /** Which resume failures are worth another try (default isRetryableResumeError). */
  isRetryable?: (error: unknown) => boolean;
  /**
   * Headers that sign the upgrade request (SigV4, §3.1), asked for on every (re)connect so they
   * carry fresh credentials; not called for a presigned StreamUrl. A failure is logged and the
   * dial goes ahead unsigned, as the plugin does.
   */
  signUpgrade?: (url: string) => Promise<Record<string, string>>;
  /** Creates the TCP connection for the websocket (e.g. through an HTTP proxy); default: direct. */
  dial?: DialOptions["dial"];
  /** Sees the `Date` header of every upgrade response (the service's clock, for credential expiry). */
  observeDate?: (date: string | undefined) => void;
  /** Extra trusted CA certificates for wss:// (e.g. the contents of AWS_CA_BUNDLE). */
  ca?: string | Buffer;
}

/** How the connection reaches the session above it. */
export interface ConnectionHooks {
  endpoint: ReliableEndpoint;
  clock: Clock;
  entropy: Entropy;
  logger: Logger;
  /** True once the session closed: nothing more is dialed, a late socket is dropped. */
  closed(): boolean;
  /** Unsent bytes went down (a held writer may go on). */
  onSent(): void;
  /** The connection is gone for good (no resume, the session timed out, resuming gave up). */
  fail(error: ChannelError): void;
  /** The first resume attempt of a drop failed. */
  onConnectionLost(info: { error: Error; windowMs: number }): void;
  onReconnecting(error: Error): void;
  /** Connected again; `announced`: onConnectionLost was called for this drop. */
  onResumed(info: { announced: boolean; afterMs: number }): void;
}

export class ChannelConnection {
  readonly #settings: ConnectionSettings;
  readonly #hooks: ConnectionHooks;
  readonly #clientId: string;
  #streamUrl: string;
  #token: string;
  #socket: ChannelSocket | null = null;
  #readPaused = false;
  #reconnecting = false;

  constructor(settings: ConnectionSettings, hooks: ConnectionHooks) {
    this.#settings = settings;
    this.#hooks = hooks;
    this.#clientId = settings.clientId ?? hooks.entropy.uuid();
    this.#streamUrl = settings.streamUrl;
    this.#token = settings.tokenValue;
    hooks.logger.addSecret(settings.tokenValue);
  }

  /** Unsent bytes of the current websocket (0 while disconnected). */
  get pendingBytes(): number {
    return this.#socket?.pendingBytes ?? 0;
  }

  /** Stops or restarts reading the network, across reconnects (the local reader's back-pressure). */
  setReadPaused(paused: boolean): void {
    if (this.#readPaused === paused) return;
    this.#readPaused = paused;
    if (paused) this.#socket?.pause();
    else this.#socket?.resume();
  }

  /** Dials the current StreamUrl and sends OpenDataChannel; the endpoint resends what is unacked. */
  async connect(): Promise<void> {
    const url = this.#streamUrl;
    const dialed = await dialWebSocket({
      url,
      headers: await this.#upgradeHeaders(url),
      dial: this.#settings.dial,
      ca: this.#settings.ca,
      observeDate: this.#settings.observeDate,
      cancelled: () => this.#hooks.closed(),
    });
    if (!dialed) return;
    const { endpoint } = this.#hooks;
    const socket: ChannelSocket = new ChannelSocket(dialed, {
      openWith: encodeOpenDataChannel({
        MessageSchemaVersion: "1.0",
        RequestId: this.#hooks.entropy.uuid(),
        TokenValue: this.#token,
        ClientId: this.#clientId,
        ClientVersion: this.#settings.clientVersion ?? CLIENT_VERSION,
      }),
      clock: this.#hooks.clock,
      logger: this.#hooks.logger,
      pingIntervalMs: endpoint.limits.pingIntervalMs,
      onFrame: (frame) => endpoint.receive(frame),
      onClose: (code) => this.#onSocketClosed(socket, code),
      onSent: () => this.#hooks.onSent(),
    });
    this.#socket = socket;
    if (this.#readPaused) socket.pause();
    endpoint.attach(socket);
  }

  /** Closes the websocket (gracefully: queued frames are flushed). Idempotent. */
  close(): void {
    this.#socket?.close();
    this.#socket = null;
  }

  async #upgradeHeaders(url: string): Promise<Record<string, string>> {
    if (!this.#settings.signUpgrade || isPresignedUrl(url)) return {};
    try {
      return await this.#settings.signUpgrade(url);
    } catch (error) {
      this.#hooks.logger.debug(
        `cannot sign the data channel upgrade, connecting unsigned: ${(error as Error).message}`,
      );
      return {};
    }
  }

  #onSocketClosed(socket: ChannelSocket, code: number): void {
    if (this.#socket !== socket || this.#hooks.closed()) return;
    this.#socket = null;
    this.#hooks.endpoint.attach(null);
    this.#hooks.logger.debug(`websocket closed (code ${code})`);
    if (!this.#settings.resume) {
      this.#hooks.fail(new ChannelError("CHANNEL_LOST", "the connection to the session was lost"));
      return;
    }
    void this.#resume(this.#settings.resume);
  }

  /**
   * ResumeSession + reconnect after any close we did not ask for (the service's hourly 1000
   * "Bye" included, §9) until connected, or a definite answer or the window ends it.
   */
  async #resume(resume: () => Promise<ResumeResult>): Promise<void> {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    const hooks = this.#hooks;
    const sessionId = this.#settings.sessionId;
    try {
      const outcome = await retryResume(
        {
          windowMs: this.#settings.reconnectWindowMs,
          maxAttempts: this.#settings.reconnectAttempts,
          firstDelayMs: this.#settings.reconnectDelayMs,
          isRetryable: this.#settings.isRetryable,
        },
        {
          clock: hooks.clock,
          entropy: hooks.entropy,
          stopped: () => hooks.closed(),
          attempt: async () => {
            const result = await resume();
            if (hooks.closed()) return;
            if (!result.tokenValue) {
              hooks.fail(new ChannelError("CHANNEL_TIMED_OUT", `Session: ${sessionId} timed out.`));
              return;
            }
            this.#token = result.tokenValue;
            hooks.logger.addSecret(result.tokenValue);
            if (result.streamUrl) this.#streamUrl = result.streamUrl;
            await this.connect();
          },
          onRetry: (error, attempt, first, windowMs) => {
            hooks.logger.debug(`resume attempt ${attempt} failed: ${error.message}`);
            if (first) hooks.onConnectionLost({ error, windowMs });
            hooks.onReconnecting(error);
          },
        },
      );
      if (outcome.kind === "connected") hooks.onResumed(outcome);
      else if (outcome.kind === "gave-up") {
        const { announced, lastError } = outcome;
        const waited = Math.round(outcome.waitedMs / 1000);
        hooks.fail(
          new ChannelError(
            "CHANNEL_LOST",
            `lost the connection to session ${sessionId} and could not resume it${announced ? ` in ${waited} s` : ""}${lastError ? `: ${lastError.message}` : ""}`,
            { cause: lastError },
          ),
        );
      }
    } finally {
      this.#reconnecting = false;
    }
  }
}
