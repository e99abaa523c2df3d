/**
 * A scripted stand-in for the service side of a data channel: a real `ws` server on 127.0.0.1
 * that speaks the wire format through the codec only (no ReliableEndpoint), so tests decide
 * exactly which frames go out, in which order, and which acks are given.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import {
  type DecodedMessage,
  decodeAcknowledge,
  decodeMessage,
  decodeOpenDataChannel,
  encodeAcknowledge,
  encodeMessage,
  MessageType,
  type OpenDataChannelInput,
} from "@aws-runas/wire/protocol/index.js";
import { type WebSocket, WebSocketServer } from "ws";

export class ScriptedPeer {
  readonly server: WebSocketServer;
  socket: WebSocket | null = null;
  readonly opens: OpenDataChannelInput[] = [];
  readonly received: DecodedMessage[] = [];
  /** Our own outgoing messages by seq, so tests can resend them. */
  #waiters: Array<{ match: (m: DecodedMessage) => boolean; resolve: (m: DecodedMessage) => void }> = [];
  #connWaiters: Array<() => void> = [];
  autoAck = true;

  private constructor(server: WebSocketServer) {
    this.server = server;
    server.on("connection", (ws) => {
      this.socket = ws;
      ws.once("message", (data) => {
        this.opens.push(decodeOpenDataChannel(String(data)));
        ws.on("message", (frame: Buffer) => this.#onFrame(frame));
        for (const w of this.#connWaiters.splice(0)) w();
      });
    });
  }

  static async start(): Promise<ScriptedPeer> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(server, "listening");
    return new ScriptedPeer(server);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/data-channel/s-1?role=publish_subscribe`;
  }

  /** Resolves after the next OpenDataChannel frame. */
  waitForOpen(): Promise<void> {
    return new Promise((resolve) => this.#connWaiters.push(resolve));
  }

  /** Resolves with the first received message (past or future) matching `match`, consuming it. */
  next(match: (m: DecodedMessage) => boolean): Promise<DecodedMessage> {
    const i = this.received.findIndex(match);
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0]!);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  nextInput(seq?: number): Promise<DecodedMessage> {
    return this.next(
      (m) => m.messageType === MessageType.inputStreamData && (seq === undefined || m.sequenceNumber === seq),
    );
  }

  nextAckOf(seq: number): Promise<DecodedMessage> {
    return this.next(
      (m) =>
        m.messageType === MessageType.acknowledge &&
        decodeAcknowledge(m.payload).AcknowledgedMessageSequenceNumber === seq,
    );
  }

  /** Encodes and sends an agent stream message. */
  sendOutput(seq: number, payloadType: number, payload: Buffer | string, messageId = randomUUID()): Buffer {
    const frame = encodeMessage({
      messageType: MessageType.outputStreamData,
      schemaVersion: 1,
      createdDate: Date.now(),
      sequenceNumber: seq,
      flags: seq === 0 ? 1 : 0,
      messageId,
      payloadType,
      payload: typeof payload === "string" ? Buffer.from(payload) : payload,
    });
    this.socket!.send(frame);
    return frame;
  }

  sendRaw(frame: Buffer): void {
    this.socket!.send(frame);
  }

  ack(message: DecodedMessage): void {
    this.socket!.send(
      encodeMessage({
        messageType: MessageType.acknowledge,
        schemaVersion: 1,
        createdDate: Date.now(),
        sequenceNumber: 0,
        flags: 3,
        messageId: randomUUID(),
        payloadType: 0,
        payload: encodeAcknowledge({
          AcknowledgedMessageType: message.messageType,
          AcknowledgedMessageId: message.messageId,
          AcknowledgedMessageSequenceNumber: message.sequenceNumber,
          IsSequentialMessage: true,
        }),
      }),
    );
  }

  /** Drops the client's websocket abruptly, as a network failure would. */
  dropConnection(): void {
    this.socket?.terminate();
    this.socket = null;
  }

  async close(): Promise<void> {
    for (const c of this.server.clients) c.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #onFrame(frame: Buffer): void {
    const m = decodeMessage(Buffer.from(frame));
    if (this.autoAck && m.messageType === MessageType.inputStreamData) this.ack(m);
    const i = this.#waiters.findIndex((w) => w.match(m));
    if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(m);
    else this.received.push(m);
  }
}
