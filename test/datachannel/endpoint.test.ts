import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeMessage, MessageType, PayloadType } from "@aws-runas/wire/protocol/index.js";
import fc from "fast-check";
import { ReliableEndpoint } from "../../packages/aws-runas/src/datachannel/index.js";
import { AgentChannel } from "../../packages/emulator/src/agent/channel/channel.js";
import { ManualClock } from "../helpers/manual-clock.js";

/**
 * A link that can lose, duplicate, reorder and corrupt frames, deterministically from a seed.
 * Corruption only toward the client: the agent does not check digests (§4.3), as the real one.
 */
function chaoticLink(seed: number, rates: { loss: number; dup: number; reorder: number; corrupt: number }) {
  let state = seed >>> 0 || 1;
  const rand = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  type Peer = ReliableEndpoint | AgentChannel;
  const queue: Array<{ to: Peer; frame: Buffer }> = [];
  const sinkTo = (to: Peer) => ({
    send(frame: Buffer) {
      if (rand() < rates.loss) return;
      let copy = Buffer.from(frame);
      if (to instanceof ReliableEndpoint && rand() < rates.corrupt) {
        copy = Buffer.from(copy);
        copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0xff;
      }
      if (rand() < rates.reorder && queue.length > 0)
        queue.splice(Math.floor(rand() * queue.length), 0, { to, frame: copy });
      else queue.push({ to, frame: copy });
      if (rand() < rates.dup) queue.push({ to, frame: Buffer.from(frame) });
    },
  });
  const pump = () => {
    while (queue.length > 0) {
      const item = queue.shift()!;
      item.to.receive(item.frame);
    }
  };
  return { sinkTo, pump };
}

/** Our client's endpoint against the emulator's agent channel: two independent implementations. */
function pair(clock: ManualClock, limits = {}) {
  const toAgent: Buffer[] = [];
  const toClient: Buffer[] = [];
  const client = new ReliableEndpoint({
    clock,
    limits,
    onStreamMessage: (m) => {
      toClient.push(Buffer.from(m.payload));
      return "ok";
    },
  });
  const agent = new AgentChannel({
    clock,
    onStreamMessage: (m) => {
      toAgent.push(Buffer.from(m.payload));
      return "ok";
    },
  });
  return { client, agent, toAgent, toClient };
}

describe("ReliableEndpoint", () => {
  test("exactly-once in-order delivery over a lossy, duplicating, reordering, corrupting link", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 60 }),
        (seed, messages) => {
          const clock = new ManualClock();
          const { client, agent, toAgent, toClient } = pair(clock, { maxRetransmissions: 10_000 });
          const link = chaoticLink(seed, { loss: 0.2, dup: 0.1, reorder: 0.2, corrupt: 0.05 });
          client.attach(link.sinkTo(agent));
          agent.attach(link.sinkTo(client));
          for (const m of messages) {
            client.send(PayloadType.output, Buffer.from(m));
            agent.send(PayloadType.output, Buffer.from(m));
          }
          for (
            let round = 0;
            round < 2000 && (client.stats().unacked > 0 || agent.stats().unacked > 0);
            round++
          ) {
            link.pump();
            clock.advance(100);
          }
          link.pump();
          const expected = messages.map((m) => Buffer.from(m).toString("hex"));
          assert.deepEqual(
            toAgent.map((b) => b.toString("hex")),
            expected,
          );
          assert.deepEqual(
            toClient.map((b) => b.toString("hex")),
            expected,
          );
          assert.equal(client.stats().unacked, 0);
          assert.equal(agent.stats().unacked, 0);
          client.close();
          agent.close();
        },
      ),
      { numRuns: 150 },
    );
  });

  test("the client's acks carry seq 0, Flags 3 and name the acked message; its data is never SYN", () => {
    const clock = new ManualClock();
    const frames: Buffer[] = [];
    const agent = new AgentChannel({ clock, onStreamMessage: () => "ok" });
    agent.attach({ send: (f) => frames.push(f) });
    agent.send(PayloadType.output, Buffer.from("a"));
    const first = decodeMessage(frames[0]!);
    const client = new ReliableEndpoint({ clock, onStreamMessage: () => "ok" });
    const out: Buffer[] = [];
    client.attach({ send: (f) => out.push(f) });
    client.receive(frames[0]!);
    const ack = decodeMessage(out[0]!);
    assert.equal(ack.messageType, MessageType.acknowledge);
    assert.equal(ack.sequenceNumber, 0);
    assert.equal(ack.flags, 3);
    assert.equal(ack.payloadType, 0);
    assert.match(ack.payload.toString(), new RegExp(`"AcknowledgedMessageId":"${first.messageId}"`));
    client.send(PayloadType.output, Buffer.from("b"));
    const data = decodeMessage(out[1]!);
    assert.equal(data.messageType, MessageType.inputStreamData);
    assert.equal(data.sequenceNumber, 0);
    assert.equal(data.flags, 0);
    agent.close();
    client.close();
  });

  test("not-ready withholds the ack; the peer's resend is delivered", () => {
    const clock = new ManualClock();
    let ready = false;
    const seen: string[] = [];
    const agentFrames: Buffer[] = [];
    const agent = new AgentChannel({ clock, onStreamMessage: () => "ok" });
    agent.attach({ send: (f) => agentFrames.push(f) });
    const acks: Buffer[] = [];
    const client = new ReliableEndpoint({
      clock,
      onStreamMessage: (m) => {
        if (!ready) return "not-ready";
        seen.push(m.payload.toString());
        return "ok";
      },
    });
    client.attach({ send: (f) => acks.push(f) });
    agent.send(PayloadType.output, Buffer.from("0"));
    client.receive(agentFrames[0]!);
    assert.equal(acks.length, 0);
    ready = true;
    client.receive(agentFrames[0]!); // the peer's resend
    assert.deepEqual(seen, ["0"]);
    assert.equal(acks.length, 1);
  });

  test("a buffered message refused with not-ready is retried on the next tick without a resend", () => {
    const clock = new ManualClock();
    const frames: Buffer[] = [];
    const agent = new AgentChannel({ clock, onStreamMessage: () => "ok" });
    agent.attach({ send: (f) => frames.push(f) });
    for (let i = 0; i < 3; i++) agent.send(PayloadType.output, Buffer.from(String(i)));
    let accept = true;
    const seen: string[] = [];
    const client = new ReliableEndpoint({
      clock,
      onStreamMessage: (m) => {
        if (!accept && m.sequenceNumber === 2) return "not-ready";
        seen.push(m.payload.toString());
        return "ok";
      },
    });
    client.attach({ send: () => {} });
    client.receive(frames[2]!); // buffered and acked
    accept = false;
    client.receive(frames[0]!);
    client.receive(frames[1]!); // 0 and 1 delivered; 2 refused from the buffer
    assert.deepEqual(seen, ["0", "1"]);
    accept = true;
    clock.advance(100);
    assert.deepEqual(seen, ["0", "1", "2"]);
    assert.equal(client.stats().reorderBuffered, 0);
  });

  test("a full reorder buffer drops unacked; writers see congestion and a drain", () => {
    const clock = new ManualClock();
    const frames: Buffer[] = [];
    const agent = new AgentChannel({ clock, onStreamMessage: () => "ok" });
    agent.attach({ send: (f) => frames.push(f) });
    for (let i = 0; i < 5; i++) agent.send(PayloadType.output, Buffer.from(String(i)));
    const acks: Buffer[] = [];
    const client = new ReliableEndpoint({
      clock,
      limits: { reorderBufferEntries: 2 },
      onStreamMessage: () => "ok",
    });
    client.attach({ send: (f) => acks.push(f) });
    client.receive(frames[2]!);
    client.receive(frames[3]!);
    client.receive(frames[4]!); // buffer full: dropped without ack
    assert.equal(acks.length, 2);
    assert.equal(client.stats().reorderBuffered, 2);

    const sender = new ReliableEndpoint({
      clock,
      limits: { outgoingHighWaterMessages: 3 },
      onStreamMessage: () => "ok",
    });
    const out: Buffer[] = [];
    sender.attach({ send: (f) => out.push(f) });
    let drained = 0;
    sender.on("drain", () => drained++);
    for (let i = 0; i < 3; i++) sender.send(PayloadType.output, Buffer.from("x"));
    assert.equal(sender.congested, true);
    const receiver = new AgentChannel({ clock, onStreamMessage: () => "ok" });
    receiver.attach({ send: (f) => sender.receive(f) });
    for (const f of out) receiver.receive(f);
    assert.equal(sender.congested, false);
    assert.equal(drained, 1);
  });

  test("bad frames are counted by reason and never throw", () => {
    const client = new ReliableEndpoint({
      clock: new ManualClock(),
      onStreamMessage: () => "ok",
    });
    client.receive(Buffer.from("garbage"));
    client.receive(Buffer.alloc(200));
    assert.deepEqual(client.stats().dropped, { PROTOCOL_TRUNCATED: 1, PROTOCOL_BAD_HEADER_LENGTH: 1 });
  });
});
