/**
 * The client's reliable, ordered message layer of a Session Manager data channel (ssm-protocol.md
 * §5): it sends input_stream_data and receives output_stream_data. (The emulator's agent has its
 * own implementation in the emulator package's `agent/channel/`, so each is tested against the
 * other.) It owns sequence numbers, acks, the out-of-order buffer and retransmission; it knows
 * nothing about websockets — frames go out through a {@link FrameSink} that may come and go
 * (reconnects) and come in through {@link receive}.
 *
 * ```
 *   send(pt, payload) ──► seq=n, encode ──► outgoing[n] ──► sink.send ─────► peer
 *                                              ▲  removed when the peer acks n
 *                                              └─ resent when unacked for RTO (and on reattach)
 *   peer ─► receive(frame) ─► decode ─┬─ acknowledge ─────────► drop outgoing[seq]
 *                                     ├─ stream, seq == expected ► handler ─► ack, expected++, drain reorder buffer
 *                                     │     handler "not-ready" ─► no ack (the peer resends)
 *                                     ├─ stream, seq >  expected ► reorder buffer, ack
 *                                     ├─ stream, seq <  expected ► re-ack (duplicate)
 *                                     └─ other types ──────────► onControl
 * ```
 * Back-pressure: the owner checks {@link congested} and waits for `"drain"`; nothing is ever evicted.
 */
import { EventEmitter } from "node:events";
import { ChannelError, ProtocolError } from "@aws-runas/wire/errors.js";
import { type Logger, silentLogger } from "@aws-runas/wire/log.js";
import {
  type DecodedMessage,
  decodeAcknowledge,
  decodeMessage,
  describeMessage,
  encodeAcknowledge,
  encodedLength,
  encodeMessage,
  HeaderFlags,
  Layout,
  MessageType,
  PayloadType,
} from "@aws-runas/wire/protocol/index.js";
import { type Clock, type Entropy, systemClock, systemEntropy, type TimerHandle } from "./clock.js";
import { FrameRing, type RingSlot } from "./frame-ring.js";
import { type ChannelLimits, verifyLimits } from "./limits.js";
import { RtoEstimator } from "./rto.js";

/**
 * Where encoded frames go: the current websocket, or the gateway relay. A sink that calls
 * `written` (once, when it no longer needs the frame's bytes: written out, or dropped) lets the
 * endpoint reuse the memory of an acknowledged frame; one that never calls it costs only that.
 */
export interface FrameSink {
  send(frame: Buffer, written?: () => void): void;
}

/** Room above the high-water mark: writers are held only after the write that crossed it. */
const RING_SLACK_BYTES = 256 * 1024;
/** An empty ring is dropped after this long (a new one is made at the next send). */
const RING_IDLE_MS = 1000;

/** What a stream-message handler says: "not-ready" withholds the ack so the peer resends later. */
export type Delivery = "ok" | "not-ready";

export interface EndpointOptions {
  /** In-order stream messages (seq == expected), already past the digest check. */
  onStreamMessage: (message: DecodedMessage) => Delivery;
  /** Everything that is neither an ack nor a stream message of the peer (channel_closed, publication...). */
  onControlMessage?: (message: DecodedMessage) => void;
  limits?: Partial<ChannelLimits>;
  clock?: Clock;
  entropy?: Entropy;
  logger?: Logger;
}

export interface EndpointStats {
  /** Unacked outgoing messages and their encoded bytes. */
  unacked: number;
  unackedBytes: number;
  /** Received out of order, waiting for the gap to fill. */
  reorderBuffered: number;
  sent: number;
  retransmitted: number;
  received: number;
  duplicates: number;
  /** Frames dropped because they failed to decode, by reason code. */
  dropped: Record<string, number>;
  nextOutgoingSeq: number;
  expectedIncomingSeq: number;
  /** Highest sequence number of a peer stream message seen, also of one dropped as corrupt (-1: none). */
  highestIncomingSeq: number;
  rtoMs: number;
}

interface Outgoing {
  frame: Buffer;
  /** When it was first sent (for the give-up deadline). */
  firstSent: number;
  lastSent: number;
  retransmissions: number;
  /** Waiting in the post-reconnect backlog: not on the wire of the current connection yet. */
  queued: boolean;
  /** Where `frame` lives in the ring, when it does; given back once acked and not being written. */
  slot: RingSlot | undefined;
  /** Sends of `frame` the sink has not finished with. */
  writing: number;
  acked: boolean;
}

/** Events of a {@link ReliableEndpoint}. */
export interface ReliableEndpointEvents {
  /** No longer {@link ReliableEndpoint.congested}: held writers may go on. */
  drain: [];
  /** The peer acknowledged the message with this sequence number (once per message). */
  acknowledged: [seq: number];
  /** At most once: the peer stopped acknowledging (CHANNEL_RETRANSMIT_LIMIT); the endpoint is closed. */
  error: [error: ChannelError];
  /** A frame that failed to decode was dropped unacknowledged (the peer resends it). */
  protocolError: [error: Error];
}

export class ReliableEndpoint extends EventEmitter<ReliableEndpointEvents> {
  readonly limits: ChannelLimits;
  readonly #opts: EndpointOptions;
  readonly #clock: Clock;
  readonly #entropy: Entropy;
  readonly #logger: Logger;
  readonly #rto: RtoEstimator;
  readonly #outgoing = new Map<number, Outgoing>();
  readonly #reorder = new Map<number, DecodedMessage>();
  /**
   * Memory of unacked frames (see frame-ring.ts): made at the first send, dropped at close and
   * after a second with nothing in it, so an idle session (a pooled SOCKS one) does not keep a
   * ring that a burst once filled.
   */
  #ring: FrameRing | null = null;
  #ringIdleTicks = 0;
  #outgoingBytes = 0;
  /** Unacked messages to send again on the current connection, oldest first (see #pumpBacklog). */
  #backlog: number[] = [];
  #backlogInFlight = new Set<number>();
  #nextSeq = 0;
  #expected = 0;
  #highestSeen = -1;
  #sink: FrameSink | null = null;
  #paused = false;
  #closed = false;
  #failed = false;
  #wasCongested = false;
  #timer: TimerHandle;
  #stats = { sent: 0, retransmitted: 0, received: 0, duplicates: 0, dropped: {} as Record<string, number> };

  constructor(options: EndpointOptions) {
    super();
    this.#opts = options;
    this.limits = verifyLimits(options.limits);
    this.#clock = options.clock ?? systemClock;
    this.#entropy = options.entropy ?? systemEntropy;
    this.#logger = options.logger ?? silentLogger;
    this.#rto = new RtoEstimator(this.limits.initialRtoMs, this.limits.maxRtoMs);
    this.#timer = this.#clock.every(this.limits.resendTickMs, () => this.#resendDue());
  }

  /** True while unacked data is above the high-water marks: hold writers until "drain". */
  get congested(): boolean {
    return (
      this.#outgoingBytes >= this.limits.outgoingHighWaterBytes ||
      this.#outgoing.size >= this.limits.outgoingHighWaterMessages ||
      this.#backlog.length > 0
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Connects or disconnects the transport. On connect every unacked message is sent again at
   * once, in order (after a websocket drop the peer has lost whatever was in flight).
   */
  attach(sink: FrameSink | null): void {
    this.#sink = sink;
    if (sink && !this.#paused) this.#resendAll();
  }

  /** Publication control (§8): while paused nothing is transmitted, only buffered. */
  setPaused(paused: boolean): void {
    if (this.#paused === paused) return;
    this.#paused = paused;
    if (!paused && this.#sink) this.#resendAll();
  }

  /** Sends one stream message (assigning the next sequence number); returns that number. */
  send(payloadType: number, payload: Buffer): number {
    if (this.#closed) throw new ChannelError("CHANNEL_CLOSED", "the data channel is closed");
    const seq = this.#nextSeq++;
    this.#ring ??= new FrameRing(this.limits.outgoingHighWaterBytes + RING_SLACK_BYTES);
    const slot = this.#ring.alloc(encodedLength(payload.length));
    const frame = encodeMessage(
      {
        messageType: MessageType.inputStreamData,
        schemaVersion: 1,
        createdDate: this.#clock.wallNow(),
        sequenceNumber: seq,
        // The plugin writes 0 everywhere (§4.5); only the agent marks its first message SYN.
        flags: HeaderFlags.none,
        messageId: this.#entropy.uuid(),
        payloadType,
        payload,
      },
      slot?.bytes,
    );
    const now = this.#clock.now();
    const entry: Outgoing = {
      frame,
      firstSent: now,
      lastSent: now,
      retransmissions: 0,
      queued: false,
      slot,
      writing: 0,
      acked: false,
    };
    this.#outgoing.set(seq, entry);
    this.#outgoingBytes += frame.length;
    this.#stats.sent++;
    if (this.congested) this.#wasCongested = true;
    if (this.#sink && !this.#paused) this.#transmit(this.#sink, entry);
    return seq;
  }

  /** Hands a stored frame to the sink, keeping its ring slot until the sink is done with it. */
  #transmit(sink: FrameSink, entry: Outgoing): void {
    if (!entry.slot) {
      sink.send(entry.frame);
      return;
    }
    entry.writing++;
    sink.send(entry.frame, () => {
      entry.writing--;
      this.#maybeRelease(entry);
    });
  }

  #maybeRelease(entry: Outgoing): void {
    if (!entry.acked || entry.writing > 0 || !entry.slot) return;
    const slot = entry.slot;
    entry.slot = undefined;
    // After close() the ring is gone (or a new one made): never reuse memory a socket may still hold.
    if (this.#ring && !this.#closed && slot.owner === this.#ring) this.#ring.release(slot);
  }

  /** Handles one incoming frame. Never throws: malformed frames are counted and dropped unacked. */
  receive(frame: Buffer): void {
    if (this.#closed) return;
    let message: DecodedMessage;
    try {
      message = decodeMessage(frame, { verifyDigest: true });
    } catch (error) {
      this.#seen(peekStreamSequence(frame, MessageType.outputStreamData));
      const code = error instanceof ProtocolError ? error.code : "UNKNOWN";
      this.#stats.dropped[code] = (this.#stats.dropped[code] ?? 0) + 1;
      this.#logger.trace(`dropped frame: ${(error as Error).message}`);
      this.emit("protocolError", error as Error);
      return;
    }
    this.#stats.received++;
    if (message.messageType === MessageType.acknowledge) this.#handleAck(message);
    else if (message.messageType === MessageType.outputStreamData) {
      this.#seen(message.sequenceNumber);
      this.#handleStream(message);
    } else if (message.messageType === MessageType.inputStreamData)
      this.#logger.trace(`ignored echo of own type ${describeMessage(message)}`);
    else this.#opts.onControlMessage?.(message);
  }

  stats(): EndpointStats {
    return {
      unacked: this.#outgoing.size,
      unackedBytes: this.#outgoingBytes,
      reorderBuffered: this.#reorder.size,
      sent: this.#stats.sent,
      retransmitted: this.#stats.retransmitted,
      received: this.#stats.received,
      duplicates: this.#stats.duplicates,
      dropped: { ...this.#stats.dropped },
      nextOutgoingSeq: this.#nextSeq,
      expectedIncomingSeq: this.#expected,
      highestIncomingSeq: this.#highestSeen,
      rtoMs: this.#rto.rto,
    };
  }

  /** Stops timers and drops all buffers. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer.cancel();
    this.#outgoing.clear();
    this.#reorder.clear();
    this.#ring = null;
    this.#outgoingBytes = 0;
    this.#sink = null;
  }

  #seen(seq: number | undefined): void {
    if (seq !== undefined && seq > this.#highestSeen) this.#highestSeen = seq;
  }

  #handleAck(message: DecodedMessage): void {
    let seq: number;
    try {
      seq = decodeAcknowledge(message.payload).AcknowledgedMessageSequenceNumber;
    } catch (error) {
      this.#stats.dropped.PROTOCOL_BAD_JSON = (this.#stats.dropped.PROTOCOL_BAD_JSON ?? 0) + 1;
      this.emit("protocolError", error as Error);
      return;
    }
    const entry = this.#outgoing.get(seq);
    if (!entry) return; // duplicate ack, or an ack of a message we gave up on
    this.#outgoing.delete(seq);
    this.#outgoingBytes -= entry.frame.length;
    entry.acked = true;
    this.#maybeRelease(entry);
    this.emit("acknowledged", seq);
    if (this.#backlogInFlight.delete(seq)) this.#pumpBacklog();
    // Karn's rule: a retransmitted message gives no trustworthy RTT sample.
    if (entry.retransmissions === 0) this.#rto.sample(this.#clock.now() - entry.lastSent);
    if (this.#wasCongested && !this.congested) {
      this.#wasCongested = false;
      this.emit("drain");
    }
  }

  /**
   * The plugin's receive rule (§5.1), except that duplicates are re-acked (§12.9): a refused
   * in-order message is neither acked nor kept, so the peer's resend brings it again.
   */
  #handleStream(message: DecodedMessage): void {
    const seq = message.sequenceNumber;
    if (seq < this.#expected) {
      // A duplicate: our ack was lost or late. Ack again, or the peer would resend forever (§12.9).
      this.#stats.duplicates++;
      this.#ack(message);
      return;
    }
    if (this.#reorder.has(seq)) {
      this.#stats.duplicates++;
      this.#ack(message);
      if (seq === this.#expected) this.#drainReorder();
      return;
    }
    if (seq === this.#expected) {
      if (this.#opts.onStreamMessage(message) === "not-ready") return;
      this.#ack(message);
      this.#expected++;
      this.#drainReorder();
      return;
    }
    if (this.#reorder.size >= this.limits.reorderBufferEntries) return; // full: the peer resends later
    this.#reorder.set(seq, message);
    this.#ack(message);
  }

  /** Delivers buffered messages from `expected` on; one refused stays buffered for the next tick. */
  #drainReorder(): void {
    for (;;) {
      const next = this.#reorder.get(this.#expected);
      if (!next || this.#closed) return;
      if (this.#opts.onStreamMessage(next) === "not-ready") return;
      this.#reorder.delete(this.#expected);
      this.#expected++;
    }
  }

  #ack(message: DecodedMessage): void {
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
   * After a reconnect (or un-pause) every unacked message must go out again: the peer lost
   * whatever was in flight. They are not blasted at once — a whole window of resends can swamp a
   * fresh connection (and its acks) before anything gets through — but released a window at a
   * time, one more per ack, like a congestion window after a timeout.
   */
  #resendAll(): void {
    this.#backlog = [];
    this.#backlogInFlight.clear();
    const now = this.#clock.now();
    for (const [seq, entry] of this.#outgoing) {
      entry.queued = true;
      // The give-up deadline counts time on a connection: an outage the owner rode out (minutes,
      // with no transport attached) must not fail the channel the moment it is back.
      entry.firstSent = now;
      entry.retransmissions = 0;
      this.#backlog.push(seq);
    }
    if (this.#backlog.length > 0) this.#wasCongested = true;
    this.#pumpBacklog();
  }

  #pumpBacklog(): void {
    const sink = this.#sink;
    if (!sink || this.#paused) return;
    const now = this.#clock.now();
    while (this.#backlog.length > 0 && this.#backlogInFlight.size < this.limits.resumeWindow) {
      const seq = this.#backlog.shift()!;
      const entry = this.#outgoing.get(seq);
      if (!entry) continue; // acked meanwhile
      entry.queued = false;
      entry.lastSent = now;
      this.#backlogInFlight.add(seq);
      this.#transmit(sink, entry);
    }
    if (this.#backlog.length === 0 && this.#wasCongested && !this.congested) {
      this.#wasCongested = false;
      this.emit("drain");
    }
  }

  /**
   * Resends messages unacked for longer than their timeout: oldest first, at most
   * `maxResendsPerTick` per tick, and each message's timeout doubles with every resend (up to
   * `maxRtoMs`). On a live websocket an unacked message is almost always just queued behind
   * others, so resending a whole window every RTO would only add load (a retransmission storm);
   * a message the peer really dropped (bad digest) is the oldest one and goes out first.
   */
  #resendDue(): void {
    // Buffered messages whose handler said "not-ready" were acked already, so the peer will not
    // resend them: retry their delivery on every tick.
    if (this.#reorder.size > 0 && !this.#closed) this.#drainReorder();
    this.#dropIdleRing();
    if (!this.#sink || this.#paused || this.#closed || this.#outgoing.size === 0) return;
    const now = this.#clock.now();
    const rto = this.#rto.rto;
    let budget = this.limits.maxResendsPerTick;
    for (const entry of this.#outgoing.values()) {
      if (
        now - entry.firstSent >= this.limits.giveUpAfterMs ||
        entry.retransmissions >= this.limits.maxRetransmissions
      ) {
        this.#fail();
        return;
      }
      if (budget === 0) continue; // keep checking the deadlines only
      if (entry.queued) continue;
      const timeout = Math.min(this.limits.maxRtoMs, rto * 2 ** Math.min(entry.retransmissions, 10));
      if (now - entry.lastSent < timeout) continue;
      entry.retransmissions++;
      entry.lastSent = now;
      this.#stats.retransmitted++;
      this.#transmit(this.#sink, entry);
      budget--;
    }
  }

  #dropIdleRing(): void {
    if (this.#ring === null) return;
    if (this.#ring.slots > 0) {
      this.#ringIdleTicks = 0;
      return;
    }
    if (++this.#ringIdleTicks * this.limits.resendTickMs >= RING_IDLE_MS) {
      this.#ring = null;
      this.#ringIdleTicks = 0;
    }
  }

  #fail(): void {
    if (this.#failed) return;
    this.#failed = true;
    const error = new ChannelError(
      "CHANNEL_RETRANSMIT_LIMIT",
      "the remote side stopped acknowledging data: gave up after " +
        `${this.limits.maxRetransmissions} retransmissions or ${Math.round(this.limits.giveUpAfterMs / 1000)} s`,
    );
    this.close();
    this.emit("error", error);
  }
}

/**
 * The sequence number in the header of a frame that failed to decode, when it is a stream message
 * of type `type` with a readable header (a corrupt payload): the peer will send it again.
 */
function peekStreamSequence(frame: Buffer, type: string): number | undefined {
  if (frame.length < Layout.fixedSize) return undefined;
  const name = frame
    .subarray(Layout.messageTypeOffset, Layout.messageTypeOffset + Layout.messageTypeLength)
    .toString("latin1")
    .trimEnd();
  if (name !== type) return undefined;
  const seq = Number(frame.readBigInt64BE(Layout.sequenceNumberOffset));
  return Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined;
}
