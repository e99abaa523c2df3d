/**
 * The emulator agent's own reliable channel (packages/emulator/src/agent/channel), driven frame by frame
 * with a manual clock: the agent's receive rules (§5.1), its resend scheduler and RTO (§5.2),
 * publication control (§8) and reconnects (§9), and the emulator's "not-ready" back-pressure.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type DecodedMessage,
  decodeAcknowledge,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  MessageType,
  PayloadType,
} from "@aws-runas/wire/protocol/index.js";
import { AgentChannel, type Delivery } from "../../packages/emulator/src/agent/channel/channel.js";
import { AgentRto } from "../../packages/emulator/src/agent/channel/rto.js";
import { ManualClock } from "../helpers/manual-clock.js";

/** A client frame: input_stream_data `seq` carrying `payload`. */
function input(seq: number, payload: string): Buffer {
  return encodeMessage({
    messageType: MessageType.inputStreamData,
    schemaVersion: 1,
    createdDate: 1_700_000_000_000,
    sequenceNumber: seq,
    flags: 0,
    messageId: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
    payloadType: PayloadType.output,
    payload: Buffer.from(payload),
  });
}

/** A client ack of the agent's message `seq`. */
function ackOf(seq: number): Buffer {
  return encodeMessage({
    messageType: MessageType.acknowledge,
    schemaVersion: 1,
    createdDate: 1_700_000_000_000,
    sequenceNumber: 0,
    flags: 3,
    messageId: "00000000-0000-4000-8000-00000000ffff",
    payloadType: PayloadType.unset,
    payload: encodeAcknowledge({
      AcknowledgedMessageType: MessageType.outputStreamData,
      AcknowledgedMessageId: "00000000-0000-4000-8000-000000000000",
      AcknowledgedMessageSequenceNumber: seq,
      IsSequentialMessage: true,
    }),
  });
}

/** A publication-control frame as MGS sends it (§8). */
function publication(type: string): Buffer {
  return encodeMessage({
    messageType: type,
    schemaVersion: 1,
    createdDate: 1_700_000_000_000,
    sequenceNumber: 0,
    flags: 0,
    messageId: "00000000-0000-4000-8000-00000000eeee",
    payloadType: PayloadType.unset,
    payload: Buffer.alloc(0),
  });
}

/**
 * An agent channel on a manual clock with a recording sink. `handler` decides deliveries; the
 * log interleaves deliveries and acks, to check that acks come after handling.
 */
function agent(options: { handler?: (m: DecodedMessage) => Delivery; limits?: object } = {}) {
  const clock = new ManualClock();
  const log: string[] = [];
  const wire: DecodedMessage[] = [];
  const delivered: string[] = [];
  const channel = new AgentChannel({
    clock,
    limits: options.limits,
    onStreamMessage: (m) => {
      const answer = options.handler?.(m) ?? "ok";
      if (answer === "ok") {
        delivered.push(m.payload.toString());
        log.push(`deliver ${m.sequenceNumber}`);
      }
      return answer;
    },
  });
  channel.attach({
    send: (frame) => {
      const m = decodeMessage(frame);
      wire.push(m);
      if (m.messageType === MessageType.acknowledge)
        log.push(`ack ${decodeAcknowledge(m.payload).AcknowledgedMessageSequenceNumber}`);
    },
  });
  const acks = () =>
    wire
      .filter((m) => m.messageType === MessageType.acknowledge)
      .map((m) => decodeAcknowledge(m.payload).AcknowledgedMessageSequenceNumber);
  const data = () =>
    wire.filter((m) => m.messageType === MessageType.outputStreamData).map((m) => m.sequenceNumber);
  return { clock, channel, wire, log, delivered, acks, data };
}

describe("agent channel: receiving (§5.1)", () => {
  test("in order: delivered, then acked; duplicates re-acked; early messages buffered and acked", () => {
    const a = agent();
    a.channel.receive(input(0, "a"));
    assert.deepEqual(a.log, ["deliver 0", "ack 0"], "the agent acks after handling");
    a.channel.receive(input(0, "a"));
    assert.deepEqual(a.acks(), [0, 0], "a duplicate is acked again");
    a.channel.receive(input(3, "d"));
    a.channel.receive(input(2, "c"));
    assert.deepEqual(a.delivered, ["a"], "nothing past the gap is delivered");
    assert.deepEqual(a.acks(), [0, 0, 3, 2], "out-of-order messages are acked at once");
    assert.equal(a.channel.stats().reorderBuffered, 2);
    a.channel.receive(input(1, "b"));
    assert.deepEqual(a.delivered, ["a", "b", "c", "d"]);
    assert.equal(a.channel.stats().expectedIncomingSeq, 4);
    assert.equal(a.channel.stats().duplicates, 1);
    a.channel.close();
  });

  test("a full out-of-order buffer drops the message unacked", () => {
    const a = agent({ limits: { incomingCapacity: 2 } });
    a.channel.receive(input(1, "b"));
    a.channel.receive(input(2, "c"));
    a.channel.receive(input(3, "d"));
    assert.deepEqual(a.acks(), [1, 2]);
    assert.equal(a.channel.stats().reorderBuffered, 2);
    a.channel.close();
  });

  test("undecodable frames are counted by reason, never acked, never thrown", () => {
    const a = agent();
    const errors: Error[] = [];
    a.channel.on("protocolError", (e) => errors.push(e));
    a.channel.receive(Buffer.from("garbage"));
    a.channel.receive(Buffer.alloc(200));
    assert.deepEqual(a.channel.stats().dropped, { PROTOCOL_TRUNCATED: 1, PROTOCOL_BAD_HEADER_LENGTH: 1 });
    assert.equal(errors.length, 2);
    assert.deepEqual(a.acks(), []);
    a.channel.close();
  });

  test("the payload digest is not checked, as the agent does not (§4.3)", () => {
    const a = agent();
    const frame = input(0, "x");
    frame[frame.length - 1] = "y".charCodeAt(0);
    a.channel.receive(frame);
    assert.deepEqual(a.delivered, ["y"]);
    a.channel.close();
  });
});

describe("agent channel: not-ready", () => {
  test("in order: no ack, the client's resend is delivered once ready", () => {
    let ready = false;
    const a = agent({ handler: () => (ready ? "ok" : "not-ready") });
    a.channel.receive(input(0, "a"));
    assert.deepEqual(a.delivered, []);
    assert.deepEqual(a.acks(), [], "no ack for a message that was not taken");
    ready = true;
    a.channel.receive(input(0, "a"));
    assert.deepEqual(a.delivered, ["a"]);
    assert.deepEqual(a.acks(), [0]);
    a.channel.close();
  });

  test("a message buffered (and acked) out of order and then refused is delivered later without a resend", () => {
    let ready = true;
    let taken = 0;
    // The consumer fills up after the first message (e.g. smux has spent its bucket).
    const b = agent({
      handler: () => {
        if (!ready) return "not-ready";
        taken++;
        if (taken === 1) ready = false;
        return "ok";
      },
    });
    b.channel.receive(input(1, "b"));
    b.channel.receive(input(0, "a"));
    assert.deepEqual(b.delivered, ["a"]);
    ready = true; // the consumer caught up; the client will not resend "b"
    b.clock.advance(100);
    assert.deepEqual(b.delivered, ["a", "b"], "the next resend tick delivered it");
    assert.equal(b.channel.stats().expectedIncomingSeq, 2);
    b.channel.close();
  });

  test("a handler that asks for a retry from inside its own call gets each message once", async () => {
    let ready = false;
    let channel: AgentChannel | undefined;
    const a = agent({
      handler: () => {
        if (!ready) return "not-ready";
        channel!.flushPending(); // e.g. smux tokens returned while it takes the data
        return "ok";
      },
    });
    channel = a.channel;
    a.channel.receive(input(0, "a")); // refused, kept
    a.channel.receive(input(1, "b")); // kept behind it
    ready = true;
    a.clock.advance(100);
    await Promise.resolve();
    assert.deepEqual(a.delivered, ["a", "b"]);
    assert.deepEqual(a.acks(), [0, 1]);
    assert.equal(a.channel.stats().expectedIncomingSeq, 2);
    a.channel.close();
  });

  test("the refused message is kept even when the out-of-order buffer is full", () => {
    let ready = true;
    const a = agent({ limits: { incomingCapacity: 2 }, handler: () => (ready ? "ok" : "not-ready") });
    a.channel.receive(input(1, "b"));
    a.channel.receive(input(2, "c"));
    ready = false;
    a.channel.receive(input(0, "a"));
    ready = true;
    a.clock.advance(100);
    assert.deepEqual(a.delivered, ["a", "b", "c"]);
    assert.deepEqual(a.acks(), [1, 2, 0]);
    a.channel.close();
  });

  test("while refused, later messages are kept but their acks withheld until delivered; flushPending retries", () => {
    let ready = false;
    const a = agent({ handler: () => (ready ? "ok" : "not-ready") });
    a.channel.receive(input(0, "a"));
    a.channel.receive(input(1, "b"));
    a.channel.receive(input(2, "c"));
    assert.deepEqual(a.acks(), [], "the client keeps them unacked, so it slows down");
    assert.equal(a.channel.stats().reorderBuffered, 3);
    ready = true;
    a.channel.flushPending();
    assert.deepEqual(a.delivered, ["a", "b", "c"]);
    assert.deepEqual(a.acks(), [0, 1, 2], "each acked once delivered");
    a.channel.close();
  });
});

describe("agent channel: sending and retransmission (§5.2)", () => {
  test("output_stream_data from seq 0, SYN on seq 0 only; acks carry seq 0 and Flags 3", () => {
    const a = agent();
    a.channel.send(PayloadType.handshakeRequest, Buffer.from("{}"));
    a.channel.send(PayloadType.output, Buffer.from("x"));
    const [first, second] = a.wire;
    assert.equal(first!.messageType, MessageType.outputStreamData);
    assert.equal(first!.sequenceNumber, 0);
    assert.equal(first!.flags, 1);
    assert.equal(second!.sequenceNumber, 1);
    assert.equal(second!.flags, 0);
    a.channel.receive(input(0, "a"));
    const ack = a.wire[2]!;
    assert.equal(ack.messageType, MessageType.acknowledge);
    assert.equal(ack.sequenceNumber, 0);
    assert.equal(ack.flags, 3);
    assert.equal(ack.payloadType, PayloadType.unset);
    assert.match(ack.payload.toString(), /"AcknowledgedMessageId":"00000000-0000-4000-8000-000000000000"/);
    a.channel.close();
  });

  test("the oldest unacked message only, once its RTO (200 ms at first) has passed, once per RTO", () => {
    const a = agent();
    for (const p of ["0", "1", "2"]) a.channel.send(PayloadType.output, Buffer.from(p));
    assert.deepEqual(a.data(), [0, 1, 2]);
    a.clock.advance(200);
    assert.deepEqual(a.data(), [0, 1, 2], "not yet: 200 ms is not more than the RTO");
    a.clock.advance(100);
    assert.deepEqual(a.data(), [0, 1, 2, 0], "the first resend, on the 300 ms tick");
    const resent = a.wire.filter(
      (m) => m.sequenceNumber === 0 && m.messageType === MessageType.outputStreamData,
    );
    assert.equal(resent[0]!.messageId, resent[1]!.messageId, "identical bytes: same MessageId");
    assert.deepEqual(resent[0]!.frame, resent[1]!.frame);
    a.clock.advance(200);
    assert.deepEqual(a.data(), [0, 1, 2, 0], "its send time was updated: not again before one more RTO");
    a.clock.advance(100);
    assert.deepEqual(a.data(), [0, 1, 2, 0, 0]);
    a.channel.receive(ackOf(0)); // a 0 ms sample: RTO = 87.5 + 4·25 = 187.5 ms
    a.clock.advance(100);
    assert.deepEqual(a.data().slice(5), [1], "then the next oldest");
    assert.equal(a.channel.stats().retransmitted, 3);
    a.channel.close();
  });

  test("no give-up: the agent keeps resending for as long as the session lives", () => {
    const a = agent();
    a.channel.send(PayloadType.output, Buffer.from("x"));
    a.clock.advance(10 * 60 * 1000);
    assert.ok(a.channel.stats().retransmitted > 500);
    assert.equal(a.channel.closed, false);
    a.channel.close();
  });

  test("RTO follows the acks' round trips, within [10 ms, 1 s]", () => {
    const a = agent();
    a.channel.send(PayloadType.output, Buffer.from("x"));
    a.clock.advance(50);
    a.channel.receive(ackOf(0));
    // RTTVAR = 0.25·|100 − 50| = 12.5; RTT = 0.875·100 + 0.125·50 = 93.75; RTO = 93.75 + 4·12.5.
    assert.equal(a.channel.stats().rtoMs, 143.75);
    a.channel.close();

    const fast = new AgentRto(200, 1000, 10);
    for (let i = 0; i < 200; i++) fast.sample(0);
    assert.ok(fast.ms >= 10 && fast.ms < 11, `fast link: ${fast.ms}`);
    const slow = new AgentRto(200, 1000, 10);
    slow.sample(5000);
    assert.equal(slow.ms, 1000);
  });

  test("a full outgoing buffer: the new message is sent once and never resent", () => {
    const a = agent({ limits: { outgoingCapacity: 1 } });
    a.channel.send(PayloadType.output, Buffer.from("kept"));
    a.channel.send(PayloadType.output, Buffer.from("once"));
    assert.equal(a.channel.stats().unacked, 1);
    assert.equal(a.channel.stats().unbuffered, 1);
    a.channel.receive(ackOf(0));
    a.clock.advance(5000);
    assert.deepEqual(a.data(), [0, 1], "seq 1 never came again");
    a.channel.close();
  });

  test("congested above the high-water mark; drain once acks bring it down", () => {
    const a = agent({ limits: { outgoingHighWaterMessages: 2 } });
    let drains = 0;
    a.channel.on("drain", () => drains++);
    a.channel.send(PayloadType.output, Buffer.from("a"));
    assert.equal(a.channel.congested, false);
    a.channel.send(PayloadType.output, Buffer.from("b"));
    assert.equal(a.channel.congested, true);
    a.channel.receive(ackOf(1));
    assert.equal(a.channel.congested, false);
    assert.equal(drains, 1);
    a.channel.close();
  });
});

describe("agent channel: pause, resume and reconnects (§8, §9)", () => {
  test("pause_publication: new messages only buffered, no resends; an ack or input un-pauses", () => {
    const a = agent();
    a.channel.send(PayloadType.output, Buffer.from("0"));
    a.channel.receive(publication(MessageType.pausePublication));
    assert.equal(a.channel.paused, true);
    a.channel.send(PayloadType.output, Buffer.from("1"));
    a.clock.advance(5000);
    assert.deepEqual(a.data(), [0], "nothing sent or resent while paused");
    a.channel.receive(ackOf(0));
    assert.equal(a.channel.paused, false);
    assert.deepEqual(a.data(), [0, 1], "the buffered message went out on resume");

    a.channel.setPaused(true);
    a.channel.send(PayloadType.output, Buffer.from("2"));
    a.channel.receive(input(0, "in"));
    assert.equal(a.channel.paused, false, "client input un-pauses too");
    assert.deepEqual(a.data().slice(-1), [2]);

    a.channel.receive(publication(MessageType.pausePublication));
    a.channel.send(PayloadType.output, Buffer.from("3"));
    a.channel.receive(publication(MessageType.startPublication));
    assert.equal(a.channel.paused, false);
    assert.ok(a.data().includes(3));
    a.channel.close();
  });

  test("detached: buffered; a new websocket gets the unacked backlog in order, a window at a time", () => {
    const a = agent({ limits: { reconnectWindow: 2 } });
    a.channel.attach(null);
    for (const p of ["0", "1", "2", "3"]) a.channel.send(PayloadType.output, Buffer.from(p));
    a.clock.advance(1000);
    assert.deepEqual(a.data(), [], "nothing while no client is connected");
    const second: number[] = [];
    a.channel.attach({ send: (f) => second.push(decodeMessage(f).sequenceNumber) });
    assert.deepEqual(second, [0, 1], "one window");
    assert.equal(a.channel.congested, true, "writers wait until the backlog is out");
    a.channel.receive(ackOf(0));
    assert.deepEqual(second.slice(2), [2], "one more per ack");
    a.channel.receive(ackOf(1));
    a.channel.receive(ackOf(2));
    assert.deepEqual(second.slice(2), [2, 3]);
    a.channel.receive(ackOf(3));
    assert.equal(a.channel.stats().unacked, 0);
    assert.equal(a.channel.congested, false);
    a.channel.close();
  });

  test("sequence numbers carry on across reconnects", () => {
    const a = agent();
    a.channel.send(PayloadType.output, Buffer.from("0"));
    a.channel.receive(input(0, "a"));
    a.channel.attach(null);
    const again: DecodedMessage[] = [];
    a.channel.attach({ send: (f) => again.push(decodeMessage(f)) });
    a.channel.send(PayloadType.output, Buffer.from("1"));
    a.channel.receive(input(1, "b"));
    assert.deepEqual(
      again.filter((m) => m.messageType === MessageType.outputStreamData).map((m) => m.sequenceNumber),
      [0, 1],
      "the unacked seq 0 again, then seq 1",
    );
    assert.deepEqual(a.delivered, ["a", "b"]);
    a.channel.close();
  });

  test("close stops the scheduler and refuses sends", () => {
    const a = agent();
    a.channel.send(PayloadType.output, Buffer.from("0"));
    a.channel.close();
    const before = a.wire.length;
    a.clock.advance(5000);
    assert.equal(a.wire.length, before);
    assert.throws(() => a.channel.send(PayloadType.output, Buffer.from("late")), /closed/);
  });
});
