import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PayloadType } from "@aws-runas/wire/protocol/index.js";
import { FrameRing, type RingSlot } from "../../packages/aws-runas/src/datachannel/frame-ring.js";
import { ReliableEndpoint } from "../../packages/aws-runas/src/datachannel/index.js";
import { AgentChannel } from "../../packages/emulator/src/agent/channel/channel.js";
import { ManualClock } from "../helpers/manual-clock.js";

/** Fills a slot with its own marker byte, so a slot that overlaps another shows up. */
function fill(slot: RingSlot, marker: number): void {
  slot.bytes.fill(marker);
}

function intact(slot: RingSlot, marker: number): boolean {
  return slot.bytes.every((b) => b === marker);
}

describe("FrameRing (reused memory for unacked frames)", () => {
  test("slots never overlap while live, across wraps and out-of-order releases", () => {
    const ring = new FrameRing(1000);
    const live: Array<{ slot: RingSlot; marker: number }> = [];
    let marker = 0;
    let refused = 0;
    // A deterministic mix of sizes and release orders (mostly oldest first, like acks).
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 5000; i++) {
      const size = 1 + (next() % 180);
      const slot = ring.alloc(size);
      if (slot) {
        assert.equal(slot.bytes.length, size);
        marker = (marker + 1) % 256;
        fill(slot, marker);
        live.push({ slot, marker });
      } else {
        refused++;
      }
      if (live.length > 0 && (next() % 3 !== 0 || !slot)) {
        // Release the oldest most of the time, sometimes a later one (an ack out of order).
        const index = next() % 5 === 0 ? next() % live.length : 0;
        const [gone] = live.splice(index, 1);
        ring.release(gone!.slot);
      }
      for (const { slot: s, marker: m } of live) assert.ok(intact(s, m), `slot overwritten at step ${i}`);
    }
    assert.ok(refused > 0, "the ring filled up at least once");
    for (const { slot } of live) ring.release(slot);
    assert.equal(ring.slots, 0);
  });

  test("a full ring refuses (the caller allocates), and frees space once the oldest go", () => {
    const ring = new FrameRing(100);
    const a = ring.alloc(40)!;
    const b = ring.alloc(40)!;
    assert.equal(ring.alloc(40), undefined, "only 20 bytes left before the end, and the tail is at 0");
    ring.release(b); // out of order: a still holds the front
    assert.equal(ring.alloc(40), undefined);
    ring.release(a);
    const c = ring.alloc(100);
    assert.ok(c, "empty again: the whole ring");
    assert.equal(ring.alloc(1), undefined);
    assert.equal(ring.alloc(101), undefined, "larger than the ring");
  });

  test("wraps to the start when the end has no room, never onto the oldest slot", () => {
    const ring = new FrameRing(100);
    const a = ring.alloc(30)!;
    const b = ring.alloc(50)!;
    ring.release(a); // tail at 30, head at 80
    const c = ring.alloc(29);
    assert.ok(c, "29 bytes fit below the tail at 30");
    fill(b, 1);
    fill(c, 2);
    assert.ok(intact(b, 1) && intact(c, 2));
    assert.equal(ring.alloc(1), undefined, "head 29 and tail 30: one more byte would meet the tail");
    ring.release(a); // idempotent
    assert.equal(ring.slots, 2);
  });
});

describe("ReliableEndpoint on its frame ring", () => {
  test("an acked frame a sink still writes is not overwritten; once written its memory is reused", () => {
    const clock = new ManualClock();
    const received: string[] = [];
    const client = new ReliableEndpoint({ clock, onStreamMessage: () => "ok" });
    const agent = new AgentChannel({
      clock,
      onStreamMessage: (m) => {
        received.push(Buffer.from(m.payload).toString("hex"));
        return "ok";
      },
    });
    agent.attach({ send: (frame) => client.receive(Buffer.from(frame)) });
    // The wire gets a copy at once (so the agent acks), but the first frame's `written` is held:
    // like a retransmission still queued in the socket when the ack of the first copy arrives.
    let held: { frame: Buffer; snapshot: Buffer; written: () => void } | undefined;
    const seen = new Set<ArrayBufferLike>();
    client.attach({
      send(frame, written) {
        seen.add(frame.buffer);
        agent.receive(Buffer.from(frame));
        if (!held && written) held = { frame, snapshot: Buffer.from(frame), written };
        else written?.();
      },
    });
    const payload = (i: number) => Buffer.alloc(1000, i % 251);
    const total = 1200; // ~1.3 MiB of frames, all in the 4.25 MiB ring
    client.send(PayloadType.output, payload(0));
    assert.ok(held, "the sink got the first frame with a written callback");
    for (let i = 1; i < total; i++) client.send(PayloadType.output, payload(i));
    assert.equal(client.stats().unacked, 0, "the agent acked everything");
    assert.ok(held.frame.equals(held.snapshot), "the frame being written kept its bytes");
    held.written();
    assert.equal(seen.size, 1, "every frame was a view of the one ring");
    assert.equal(received.length, total);
    assert.deepEqual(
      received.slice(0, 3),
      [0, 1, 2].map((i) => payload(i).toString("hex")),
    );
    client.close();
    agent.close();
  });

  test("a frame still being written blocks reuse of its space until the sink is done", () => {
    const clock = new ManualClock();
    const client = new ReliableEndpoint({ clock, onStreamMessage: () => "ok" });
    const agent = new AgentChannel({ clock, onStreamMessage: () => "ok" });
    agent.attach({ send: (frame) => client.receive(Buffer.from(frame)) });
    const pending: Array<{ frame: Buffer; snapshot: Buffer; written: () => void }> = [];
    client.attach({
      send(frame, written) {
        agent.receive(Buffer.from(frame));
        // Nothing is ever reported written: the ring fills and the endpoint allocates on its own.
        if (written) pending.push({ frame, snapshot: Buffer.from(frame), written });
      },
    });
    for (let i = 0; i < 6000; i++) client.send(PayloadType.output, Buffer.alloc(1000, i % 251));
    assert.equal(client.stats().unacked, 0);
    assert.ok(pending.length > 1000 && pending.length < 6000, `${pending.length} frames in the ring`);
    assert.ok(
      pending.every((p) => p.frame.equals(p.snapshot)),
      "no frame a sink still holds was overwritten",
    );
    client.close();
    agent.close();
  });
});
