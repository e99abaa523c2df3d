/**
 * A low-level Session Manager client for gateway/agent tests: a websocket, the OpenDataChannel
 * frame and a client-role ReliableEndpoint, with every frame on the wire recorded (decoded without
 * digest checks, plus whether the digest was right) so tests can assert on what the gateway sent.
 * It answers the handshake itself (optionally with KMS) and can reconnect with a new token.
 */
import { randomUUID } from "node:crypto";
import { EventEmitter, once } from "node:events";
import {
  type DecodedMessage,
  decodeEncryptionChallenge,
  decodeFlag,
  decodeHandshakeRequest,
  decodeMessage,
  encodeEncryptionChallenge,
  encodeFlag,
  encodeHandshakeResponse,
  encodeOpenDataChannel,
  encodeTerminalSize,
  type HandshakeRequestPayload,
  type HandshakeResponsePayload,
  MessageType,
  openPayload,
  PayloadType,
  payloadDigest,
  type SessionKeys,
  sealPayload,
  wireDigest,
} from "@aws-runas/wire/protocol/index.js";
import WebSocket from "ws";
import { ReliableEndpoint } from "../../../packages/aws-runas/src/datachannel/endpoint.js";
import {
  answerHandshake,
  type GenerateDataKey,
} from "../../../packages/aws-runas/src/datachannel/handshake.js";

/** One frame as it arrived on the websocket. */
export interface WireFrame {
  message: DecodedMessage;
  raw: Buffer;
  digestOk: boolean;
  /** Which websocket (1-based) carried it. */
  connection: number;
}

export interface RawClientOptions {
  url: string;
  token: string;
  sessionId?: string;
  targetId?: string;
  clientVersion?: string;
  /** Answer HandshakeRequest / EncChallengeRequest automatically (default true). */
  autoHandshake?: boolean;
  generateDataKey?: GenerateDataKey;
  /** Override the handshake answer (e.g. to fail an action). */
  editResponse?: (response: HandshakeResponsePayload) => HandshakeResponsePayload;
}

/** Events: "frame" (WireFrame), "data" (Buffer, in order), "flag" (number), "channelClosed" (output), "socketClosed" (code). */
export class RawClient extends EventEmitter {
  readonly endpoint: ReliableEndpoint;
  readonly frames: WireFrame[] = [];
  readonly opens: string[] = [];
  handshakeRequest: HandshakeRequestPayload | undefined;
  handshakeComplete: { HandshakeTimeToComplete: number; CustomerMessage: string } | undefined;
  channelClosed: string | undefined;
  keys: SessionKeys | null = null;
  ws: WebSocket | null = null;
  connections = 0;
  closeCodes: number[] = [];
  /**
   * While true, frames from the agent are recorded but not processed: no acks go back, so the
   * agent's unacked data piles up. Set it back to false and the agent's retransmissions get through.
   */
  deaf = false;
  readonly #options: RawClientOptions;
  readonly #output: Buffer[] = [];
  /** Session bytes received so far (cheap to poll, unlike {@link data}). */
  receivedBytes = 0;
  #ready = false;

  private constructor(options: RawClientOptions) {
    super();
    this.#options = options;
    this.endpoint = new ReliableEndpoint({
      onStreamMessage: (m) => {
        this.#onStream(m);
        return "ok";
      },
      onControlMessage: (m) => {
        if (m.messageType === MessageType.channelClosed) {
          this.channelClosed = JSON.parse(m.payload.toString()).Output as string;
          this.emit("channelClosed", this.channelClosed);
        }
      },
    });
  }

  /** Connects and sends OpenDataChannel. */
  static async connect(options: RawClientOptions): Promise<RawClient> {
    const client = new RawClient(options);
    await client.reconnect(options.token, options.url);
    return client;
  }

  /** Everything the agent sent as session data so far (decrypted), as text. */
  get text(): string {
    return Buffer.concat(this.#output).toString("utf8");
  }

  get data(): Buffer {
    return Buffer.concat(this.#output);
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Opens a (new) websocket with `token`; the endpoint and its sequence numbers carry on. */
  async reconnect(token: string, url = this.#options.url): Promise<void> {
    const old = this.ws;
    if (old) {
      old.removeAllListeners();
      old.on("error", () => {});
      old.terminate();
      this.endpoint.attach(null);
    }
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.binaryType = "nodebuffer";
    await once(ws, "open");
    this.ws = ws;
    const connection = ++this.connections;
    const open = encodeOpenDataChannel({
      MessageSchemaVersion: "1.0",
      RequestId: randomUUID(),
      TokenValue: token,
      ClientId: "test-client",
      ClientVersion: this.#options.clientVersion ?? "1.2.764.0",
    });
    this.opens.push(open);
    ws.send(open);
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      const message = decodeMessage(data, { verifyDigest: false });
      const digestOk =
        message.payload.length === 0 || payloadDigest(message.payload).equals(wireDigest(message));
      const frame: WireFrame = { message, raw: Buffer.from(data), digestOk, connection };
      this.frames.push(frame);
      if (!this.deaf) this.endpoint.receive(data);
      this.emit("frame", frame);
    });
    ws.on("close", (code: number) => {
      this.closeCodes.push(code);
      if (this.ws === ws) {
        this.ws = null;
        this.endpoint.attach(null);
      }
      this.emit("socketClosed", code);
    });
    ws.on("error", () => {});
    this.endpoint.attach({
      send: (frame) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(frame, { binary: true });
      },
    });
  }

  /** Sends session bytes (encrypted after a KMS handshake). */
  write(data: string | Buffer): void {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    for (let i = 0; i < bytes.length; i += 1024) {
      const piece = bytes.subarray(i, i + 1024);
      this.endpoint.send(
        PayloadType.output,
        this.keys ? sealPayload(this.keys.clientToAgent, randomNonce(), piece) : piece,
      );
    }
  }

  sendSize(cols: number, rows: number): void {
    this.endpoint.send(PayloadType.size, encodeTerminalSize({ cols, rows }));
  }

  sendFlag(flag: number): void {
    this.endpoint.send(PayloadType.flag, encodeFlag(flag));
  }

  /** Resolves once `check()` holds, re-checking after every frame and socket close. */
  async until(check: () => boolean, what = "condition", timeoutMs = 15_000): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`timed out waiting for ${what}; received text: ${JSON.stringify(this.text.slice(-300))}`),
        );
      }, timeoutMs);
      const onEvent = () => {
        if (!check()) return;
        cleanup();
        resolve();
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.off("frame", onEvent);
        this.off("socketClosed", onEvent);
        this.off("data", onEvent);
      };
      this.on("frame", onEvent);
      this.on("socketClosed", onEvent);
      this.on("data", onEvent);
    });
  }

  untilText(needle: string | RegExp, timeoutMs?: number): Promise<void> {
    const test = () => (typeof needle === "string" ? this.text.includes(needle) : needle.test(this.text));
    return this.until(test, `output ${String(needle)}`, timeoutMs);
  }

  untilClosed(timeoutMs?: number): Promise<void> {
    return this.until(() => this.channelClosed !== undefined, "channel_closed", timeoutMs);
  }

  /** Stream messages the agent sent (output_stream_data), as received (duplicates included). */
  outputFrames(): WireFrame[] {
    return this.frames.filter((f) => f.message.messageType === MessageType.outputStreamData);
  }

  close(): void {
    this.endpoint.close();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.removeAllListeners();
      ws.on("error", () => {});
      ws.terminate();
    }
  }

  #onStream(m: DecodedMessage): void {
    switch (m.payloadType) {
      case PayloadType.handshakeRequest:
        this.handshakeRequest = decodeHandshakeRequest(m.payload);
        if (this.#options.autoHandshake !== false) void this.#answer(this.handshakeRequest);
        return;
      case PayloadType.encChallengeRequest: {
        if (!this.keys) throw new Error("challenge before keys");
        const plain = openPayload(
          this.keys.agentToClient,
          Buffer.from(decodeEncryptionChallenge(m.payload).Challenge, "base64"),
        );
        const answer = sealPayload(this.keys.clientToAgent, randomNonce(), plain);
        this.endpoint.send(
          PayloadType.encChallengeResponse,
          encodeEncryptionChallenge({ Challenge: answer.toString("base64") }),
        );
        return;
      }
      case PayloadType.handshakeComplete:
        this.handshakeComplete = JSON.parse(m.payload.toString());
        this.#ready = true;
        return;
      case PayloadType.flag:
        this.emit("flag", decodeFlag(m.payload));
        return;
      case PayloadType.output:
      case PayloadType.stdErr:
      case PayloadType.exitCode: {
        this.#ready = true;
        const data = this.keys ? openPayload(this.keys.agentToClient, m.payload) : Buffer.from(m.payload);
        this.#output.push(data);
        this.receivedBytes += data.length;
        this.emit("data", data);
        return;
      }
      default:
        return;
    }
  }

  async #answer(request: HandshakeRequestPayload): Promise<void> {
    const outcome = await answerHandshake(request, {
      clientVersion: this.#options.clientVersion ?? "1.2.764.0",
      sessionId: this.#options.sessionId ?? "",
      targetId: this.#options.targetId ?? "",
      generateDataKey: this.#options.generateDataKey,
    });
    this.keys = outcome.keys;
    const response = this.#options.editResponse
      ? this.#options.editResponse(outcome.response)
      : outcome.response;
    this.endpoint.send(PayloadType.handshakeResponse, encodeHandshakeResponse(response));
  }
}

function randomNonce(): Buffer {
  return Buffer.from(randomUUID().replace(/-/g, "").slice(0, 24), "hex");
}
