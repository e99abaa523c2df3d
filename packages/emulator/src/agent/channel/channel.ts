/**
 * The simulated agent's half of a data channel (ssm-protocol.md §5, §8, §9, §11), written from
 * the agent's behaviour: it sends `output_stream_data`, receives `input_stream_data`, and keeps
 * the agent's sequence counters, outgoing buffer, resend scheduler and out-of-order buffer.
 *
 * ```
 *  send(pt, payload) ─► seq n (SYN on 0) ─► outgoing[n] ─► sink ─────────────────────► client
 *                          │  removed by the ack naming n (RTT sample, RTO recomputed)
 *                          └─ every 100 ms: the oldest one, if unacked for > RTO, goes out again
 *  client ─► receive ─┬─ acknowledge ──────────────────► drop outgoing[seq]; un-pause
 *                     ├─ input_stream_data seq == expected ─► handler ─► ack after handling, expected++
 *                     │     handler "not-ready" ─► no ack (the client resends)
 *                     ├─ seq > expected ─► buffered (≤ 100 000) and acked
 *                     ├─ seq < expected ─► re-acked (duplicate)
 *                     ├─ pause_publication / start_publication ─► pause / resume sending
 *                     └─ anything else ─► onControlMessage
 * ```
 *
 * Emulator choices where the agent is silent or slow (each one is marked where it is made):
 * - back-pressure: {@link AgentChannel.congested} above high-water marks, so plugins stop reading;
 * - "not-ready" keeps the refused message and withholds the acks of everything after it until it
 *   is delivered, so a slow consumer slows the client instead of filling 100 000 buffer slots;
 * - a reconnect puts the unacked backlog on the new websocket a window at a time, instead of
 *   only through the one-message-per-tick scheduler (which would take minutes after an outage).
 *
 * Only the wire codec (`src/protocol`) and Node built-ins are used: this is the peer the client's
 * own data channel is tested against, so it must not share the client's code.
 */
import { EventEmitter } from "node:events";
import { type Logger, silentLogger } from "@aws-runas/wire/log.js";
import {
  type DecodedMessage,
  decodeAcknowledge,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  HeaderFlags,
  MessageType,
  PayloadType,
} from "@aws-runas/wire/protocol/index.js";
import {
  type AgentEntropy,
  systemAgentEntropy,
  systemTimerClock,
  type TimerClock,
  type TimerHandle,
} from "../../world/clock.js";
import { type AgentChannelLimits, agentChannelLimits } from "./limits.js";
import { AgentRto } from "./rto.js";

/** Where encoded frames go: the client's current websocket (through the gateway). */
export interface FrameSink {
  send(frame: Buffer): void;
}

/** A plugin handler's answer: "not-ready" is the agent's ErrHandlerNotReady (no ack). */
export type Delivery = "ok" | "not-ready";

export interface AgentChannelOptions {
  /** In-order client stream messages (input_stream_data). */
  onStreamMessage: (message: DecodedMessage) => Delivery;
  /** Client frames that are neither acks, stream data nor publication control. */
  onControlMessage?: (message: DecodedMessage) => void;
  limits?: Partial<AgentChannelLimits>;
  clock?: TimerClock;
  entropy?: AgentEntropy;
  logger?: Logger;
}

export interface AgentChannelEvents {
  /** No longer {@link AgentChannel.congested}: plugins may read their sources again. */
  drain: [];
  /** A client frame that did not decode; it was dropped unacked. */
  protocolError: [Error];
}

export interface AgentChannelStats {
  /** Unacked outgoing messages and their encoded bytes. */
  unacked: number;
  unackedBytes: number;
  /** Client messages held for later delivery (out of order, or refused by the handler). */
  reorderBuffered: number;
  sent: number;
  retransmitted: number;
  /** Sent once without buffering because the outgoing buffer was full (agent rule, §5.2). */
  unbuffered: number;
  received: number;
  duplicates: number;
  /** Client frames dropped because they failed to decode, by error code. */
  dropped: Record<string, number>;
  nextOutgoingSeq: number;
  expectedIncomingSeq: number;
  rtoMs: number;
  paused: boolean;
}

interface Unacked {
  frame: Buffer;
  /** When it last went on the wire; the agent updates it on every resend. */
  lastSent: number;
  /** Emulator: waiting in the reconnect backlog, not yet on the current websocket. */
  waiting: boolean;
}

export class AgentChannel extends EventEmitter<AgentChannelEvents> {
  readonly limits: AgentChannelLimits;
  readonly #onStream: (message: DecodedMessage) => Delivery;
  readonly #onControl: (message: DecodedMessage) => void;
  readonly #clock: TimerClock;
  readonly #entropy: AgentEntropy;
  readonly #logger: Logger;
  readonly #rto: AgentRto;
  /** Unacked messages by seq; Map order is send order, so the first entry is the oldest. */
  readonly #outgoing = new Map<number, Unacked>();
  #outgoingBytes = 0;
  /** Client messages waiting for delivery, by seq. */
  readonly #incoming = new Map<number, DecodedMessage>();
  /** Seqs in #incoming whose ack is withheld until they are delivered (emulator back-pressure). */
  readonly #withheld = new Set<number>();
  /** The handler refused the message at `expected`; it waits in #incoming. */
  #refused = false;
  /** Inside a handler call: a flushPending from there must wait, or a message is delivered twice. */
  #delivering = false;
  #flushAgain = false;
  /** Emulator reconnect backlog: seqs to put on the current websocket, oldest first. */
  #backlog: number[] = [];
  readonly #backlogOut = new Set<number>();
  #nextSeq = 0;
  #expected = 0;
  #sink: FrameSink | null = null;
  #paused = false;
  #closed = false;
  #congestedSeen = false;
  readonly #ticker: TimerHandle;
  readonly #counts = { sent: 0, retransmitted: 0, unbuffered: 0, received: 0, duplicates: 0 };
  readonly #dropped: Record<string, number> = {};

  constructor(options: AgentChannelOptions) {
    super();
    this.limits = agentChannelLimits(options.limits);
    this.#onStream = options.onStreamMessage;
    this.#onControl = options.onControlMessage ?? (() => {});
    this.#clock = options.clock ?? systemTimerClock;
    this.#entropy = options.entropy ?? systemAgentEntropy;
    this.#logger = options.logger ?? silentLogger;
    this.#rto = new AgentRto(this.limits.initialRtoMs, this.limits.maxRtoMs, this.limits.rtoFloorMs);
    this.#ticker = this.#clock.every(this.limits.resendTickMs, () => this.#tick());
  }

  /** Emulator back-pressure: true while unacked data is above the high-water marks. */
  get congested(): boolean {
    return (
      this.#outgoing.size >= this.limits.outgoingHighWaterMessages ||
      this.#outgoingBytes >= this.limits.outgoingHighWaterBytes ||
      this.#backlog.length > 0
    );
  }

  /** Paused by pause_publication (or {@link setPaused}); a detached channel sends nothing either. */
  get paused(): boolean {
    return this.#paused;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The client's websocket came (sink) or went (null). Without one the agent behaves as paused
   * (§11 item 2); a new one un-pauses and gets the unacked backlog (§9).
   */
  attach(sink: FrameSink | null): void {
    if (this.#closed) return;
    this.#sink = sink;
    if (sink) {
      this.#paused = false;
      this.#startBacklog();
    }
  }

  /** Publication control (§8): while paused new messages are only buffered and resends stop. */
  setPaused(paused: boolean): void {
    if (this.#closed || this.#paused === paused) return;
    this.#paused = paused;
    if (!paused && this.#sink) this.#startBacklog();
  }

  /** Sends one output_stream_data message; returns its sequence number. */
  send(payloadType: number, payload: Buffer): number {
    if (this.#closed) throw new Error("the agent's data channel is closed");
    const seq = this.#nextSeq++;
    const frame = encodeMessage({
      messageType: MessageType.outputStreamData,
      schemaVersion: 1,
      createdDate: this.#clock.wallNow(),
      sequenceNumber: seq,
      // The agent marks its first message SYN (§4.5).
      flags: seq === 0 ? HeaderFlags.syn : HeaderFlags.none,
      messageId: this.#entropy.uuid(),
      payloadType,
      payload,
    });
    this.#counts.sent++;
    if (this.#outgoing.size < this.limits.outgoingCapacity) {
      this.#outgoing.set(seq, { frame, lastSent: this.#clock.now(), waiting: false });
      this.#outgoingBytes += frame.length;
      if (this.congested) this.#congestedSeen = true;
    } else {
      // A full buffer: the agent sends the message once and never resends it (§5.2).
      this.#counts.unbuffered++;
    }
    if (this.#canSend()) this.#sink!.send(frame);
    return seq;
  }

  /** One frame from the client. Never throws: undecodable frames are counted and dropped. */
  receive(frame: Buffer): void {
    if (this.#closed) return;
    let message: DecodedMessage;
    try {
      // The agent does not check payload digests (§4.3, §14 item 1).
      message = decodeMessage(frame, { verifyDigest: false });
    } catch (error) {
      const code = (error as { code?: string }).code ?? "UNKNOWN";
      this.#dropped[code] = (this.#dropped[code] ?? 0) + 1;
      this.emit("protocolError", error as Error);
      return;
    }
    this.#counts.received++;
    switch (message.messageType) {
      case MessageType.acknowledge:
        this.#onAck(message);
        this.setPaused(false); // §5.1 (c); after the ack, so the acked message is not resent
        return;
      case MessageType.inputStreamData:
        this.setPaused(false);
        this.#onInput(message);
        return;
      case MessageType.pausePublication:
        this.setPaused(true);
        return;
      case MessageType.startPublication:
        this.setPaused(false);
        return;
      case MessageType.outputStreamData:
        return; // our own direction reflected back: nothing to do
      default:
        this.#onControl(message);
    }
  }

  /** Retries delivery of held client messages (a plugin that said "not-ready" can take more). */
  flushPending(): void {
    if (this.#closed) return;
    if (this.#delivering) this.#flushAgain = true;
    else this.#deliverHeld();
  }

  stats(): AgentChannelStats {
    return {
      unacked: this.#outgoing.size,
      unackedBytes: this.#outgoingBytes,
      reorderBuffered: this.#incoming.size,
      ...this.#counts,
      dropped: { ...this.#dropped },
      nextOutgoingSeq: this.#nextSeq,
      expectedIncomingSeq: this.#expected,
      rtoMs: this.#rto.ms,
      paused: this.#paused,
    };
  }

  /** Stops the scheduler and drops every buffer. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ticker.cancel();
    this.#outgoing.clear();
    this.#outgoingBytes = 0;
    this.#incoming.clear();
    this.#withheld.clear();
    this.#backlog = [];
    this.#backlogOut.clear();
    this.#sink = null;
  }

  #canSend(): boolean {
    return this.#sink !== null && !this.#paused && !this.#closed;
  }

  #onAck(message: DecodedMessage): void {
    let seq: number;
    try {
      seq = decodeAcknowledge(message.payload).AcknowledgedMessageSequenceNumber;
    } catch (error) {
      this.#dropped.PROTOCOL_BAD_JSON = (this.#dropped.PROTOCOL_BAD_JSON ?? 0) + 1;
      this.emit("protocolError", error as Error);
      return;
    }
    const entry = this.#outgoing.get(seq);
    if (!entry) return; // a repeated ack, or one for an unbuffered message
    this.#outgoing.delete(seq);
    this.#outgoingBytes -= entry.frame.length;
    // Every ack is a sample, resent or not: the agent does not apply Karn's rule (§5.2).
    this.#rto.sample(this.#clock.now() - entry.lastSent);
    if (this.#backlogOut.delete(seq)) this.#pumpBacklog();
    this.#checkDrain();
  }

  #onInput(message: DecodedMessage): void {
    const seq = message.sequenceNumber;
    if (seq < this.#expected) {
      // Our ack was lost or late: the agent acks a duplicate again (§5.1 (a)).
      this.#counts.duplicates++;
      this.#ack(message);
      return;
    }
    if (this.#incoming.has(seq)) {
      this.#counts.duplicates++;
      if (!this.#withheld.has(seq)) this.#ack(message);
      if (seq === this.#expected) this.#deliverHeld(); // a resend of the refused one: try again
      return;
    }
    if (seq === this.#expected) {
      if (this.#handle(message) === "ok") {
        this.#ack(message); // after handling, as the agent does (§5.1 (b))
        this.#expected++;
        this.#deliverHeld();
        return;
      }
      // ErrHandlerNotReady: no ack. Emulator: keep it (even in a full buffer: everything waits
      // for it), and hold back the acks of later messages until it is delivered (see the header).
      this.#refused = true;
      this.#incoming.set(seq, message);
      this.#withheld.add(seq);
      return;
    }
    if (this.#incoming.size >= this.limits.incomingCapacity) return; // full: dropped unacked
    this.#incoming.set(seq, message);
    if (this.#refused) this.#withheld.add(seq);
    else this.#ack(message);
  }

  /** Delivers held messages from `expected` on, until a gap or a refusal. */
  #deliverHeld(): void {
    for (;;) {
      const next = this.#incoming.get(this.#expected);
      if (!next) {
        this.#refused = false;
        return;
      }
      if (this.#handle(next) === "not-ready") {
        this.#refused = true;
        return;
      }
      if (this.#closed) return;
      this.#incoming.delete(this.#expected);
      if (this.#withheld.delete(this.#expected)) this.#ack(next);
      this.#expected++;
    }
  }

  /** One handler call; a flushPending made from inside it runs once it has returned. */
  #handle(message: DecodedMessage): Delivery {
    this.#delivering = true;
    let answer: Delivery;
    try {
      answer = this.#onStream(message);
    } finally {
      this.#delivering = false;
    }
    if (this.#flushAgain) {
      // After the caller has moved past `message` (acked it, counted it delivered).
      this.#flushAgain = false;
      queueMicrotask(() => this.flushPending());
    }
    return answer;
  }

  #ack(message: DecodedMessage): void {
    // Acks go out even while paused: pausing holds stream data only.
    if (!this.#sink || this.#closed) return;
    this.#sink.send(
      encodeMessage({
        messageType: MessageType.acknowledge,
        schemaVersion: 1,
        createdDate: this.#clock.wallNow(),
        sequenceNumber: 0,
        flags: HeaderFlags.ack,
        messageId: this.#entropy.uuid(),
        payloadType: PayloadType.unset,
        payload: encodeAcknowledge({
          AcknowledgedMessageType: message.messageType,
          AcknowledgedMessageId: message.messageId,
          AcknowledgedMessageSequenceNumber: message.sequenceNumber,
          IsSequentialMessage: true,
        }),
      }),
    );
  }

  /**
   * The scheduler (§5.2): every tick, the oldest unacked message only, resent when it has been
   * unacked for longer than the RTO; its send time is updated, so it goes out once per RTO.
   * Nothing is resent while paused or detached. The tick also retries held client messages.
   */
  #tick(): void {
    if (this.#closed) return;
    if (this.#incoming.size > 0) this.#deliverHeld();
    if (!this.#canSend()) return;
    const oldest = this.#outgoing.values().next();
    if (oldest.done || oldest.value.waiting) return;
    const entry = oldest.value;
    const now = this.#clock.now();
    if (now - entry.lastSent <= this.#rto.ms) return;
    entry.lastSent = now;
    this.#counts.retransmitted++;
    this.#sink!.send(entry.frame);
  }

  /** Emulator: after a reconnect or un-pause every unacked message goes out again, a window at a time. */
  #startBacklog(): void {
    this.#backlog = [...this.#outgoing.keys()];
    this.#backlogOut.clear();
    for (const entry of this.#outgoing.values()) entry.waiting = true;
    if (this.#backlog.length > 0) this.#congestedSeen = true;
    this.#pumpBacklog();
  }

  #pumpBacklog(): void {
    if (!this.#canSend()) return;
    const now = this.#clock.now();
    while (this.#backlog.length > 0 && this.#backlogOut.size < this.limits.reconnectWindow) {
      const seq = this.#backlog.shift()!;
      const entry = this.#outgoing.get(seq);
      if (!entry) continue; // acked meanwhile
      entry.waiting = false;
      entry.lastSent = now;
      this.#backlogOut.add(seq);
      this.#sink!.send(entry.frame);
    }
    if (this.#backlog.length === 0) this.#backlogOut.clear();
    this.#checkDrain();
  }

  #checkDrain(): void {
    if (!this.#congestedSeen || this.congested) return;
    this.#congestedSeen = false;
    this.emit("drain");
  }
}
