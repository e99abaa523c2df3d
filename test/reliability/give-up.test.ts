/**
 * Issue #11 give-up paths at the data-channel level, driven by a ManualClock (no sleeping): a
 * peer that never acknowledges ends the channel with a clear error after the retransmission
 * limit — no endless resending, buffers bounded while it lasts, nothing sent afterwards. (The
 * agent side of "not-ready" is tested with the emulator's own channel, test/emulator/agent-channel.)
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, test } from "node:test";
import { ChannelError } from "@aws-runas/wire/errors.js";
import { PayloadType } from "@aws-runas/wire/protocol/index.js";
import { hintFor } from "../../packages/aws-runas/src/cli/report.js";
import { DataChannel, ReliableEndpoint } from "../../packages/aws-runas/src/datachannel/index.js";
import { ScriptedPeer } from "../datachannel/scripted-peer.js";
import { ManualClock } from "../helpers/manual-clock.js";

const MAX_RETRANSMISSIONS = 5;
/** Small limits so congestion comes quickly; what matters is that they hold. */
const LIMITS = {
  maxRetransmissions: MAX_RETRANSMISSIONS,
  outgoingHighWaterBytes: 64 * 1024,
  outgoingHighWaterMessages: 256,
};
/** Encoded size of one full message: the 120-byte header plus a 1024-byte payload. */
const MAX_FRAME = 120 + 1024;

/** Advances the clock in resend ticks until `done()` or `maxMs` of virtual time. */
async function advanceUntil(clock: ManualClock, done: () => boolean, maxMs: number): Promise<number> {
  let elapsed = 0;
  while (!done() && elapsed < maxMs) {
    clock.advance(100);
    elapsed += 100;
    // Let websocket I/O triggered by the timers happen.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return elapsed;
}

describe("a peer that never acknowledges", () => {
  test("ReliableEndpoint: gives up after maxRetransmissions, buffers bounded, silent afterwards", async () => {
    const clock = new ManualClock();
    const sent: Buffer[] = [];
    const endpoint = new ReliableEndpoint({
      clock,
      limits: LIMITS,
      onStreamMessage: () => "ok",
    });
    endpoint.attach({ send: (frame) => sent.push(frame) });
    const errors: Error[] = [];
    endpoint.on("error", (error: Error) => errors.push(error));

    // The owner's contract: send until congested, then wait for "drain" (which never comes).
    let messages = 0;
    while (!endpoint.congested) {
      endpoint.send(PayloadType.output, Buffer.alloc(1024, messages));
      messages++;
    }
    const atCongestion = endpoint.stats();
    assert.ok(atCongestion.unackedBytes <= LIMITS.outgoingHighWaterBytes + MAX_FRAME);
    assert.ok(atCongestion.unacked <= LIMITS.outgoingHighWaterMessages);

    let peakBytes = 0;
    await advanceUntil(
      clock,
      () => {
        peakBytes = Math.max(peakBytes, endpoint.stats().unackedBytes);
        return errors.length > 0;
      },
      10 * 60 * 1000,
    );
    assert.equal(errors.length, 1, "exactly one error");
    const [error] = errors;
    assert.ok(error instanceof ChannelError);
    assert.equal(error.code, "CHANNEL_RETRANSMIT_LIMIT");
    assert.match(error.message, /stopped acknowledging/);
    assert.match(error.message, new RegExp(`${MAX_RETRANSMISSIONS} retransmissions`));
    assert.ok(hintFor(error), "the CLI has a hint for it");
    assert.equal(peakBytes, atCongestion.unackedBytes, "nothing grew while waiting");
    // Each message went out once and was retransmitted at most the limit.
    assert.ok(sent.length <= messages * (1 + MAX_RETRANSMISSIONS), `${sent.length} frames sent`);
    assert.ok(endpoint.stats().retransmitted >= MAX_RETRANSMISSIONS);

    // Closed: buffers released, timers gone — more time sends nothing and errors no more.
    const after = endpoint.stats();
    assert.equal(endpoint.closed, true);
    assert.equal(after.unacked, 0);
    assert.equal(after.unackedBytes, 0);
    assert.equal(after.reorderBuffered, 0);
    const frames = sent.length;
    clock.advance(60 * 60 * 1000);
    assert.equal(sent.length, frames, "no frame after giving up");
    assert.equal(errors.length, 1);
    assert.throws(() => endpoint.send(PayloadType.output, Buffer.from("late")), /closed/);
  });

  test("DataChannel: writers are held, memory stays bounded, then CHANNEL_RETRANSMIT_LIMIT ends it", async (t) => {
    const clock = new ManualClock();
    const peer = await ScriptedPeer.start();
    const opened = peer.waitForOpen();
    const channel = await DataChannel.open({
      streamUrl: peer.url,
      tokenValue: "token-never-acked",
      sessionId: "s-never-acked",
      targetId: "i-0123456789abcdef0",
      clock,
      limits: LIMITS,
    });
    t.after(async () => {
      channel.destroy();
      await peer.close();
    });
    await opened;
    peer.autoAck = false;
    let framesAtPeer = 0;
    peer.socket!.on("message", () => {
      framesAtPeer++;
    });
    peer.sendOutput(0, PayloadType.output, "$ ");
    await channel.whenReady();
    const failed = once(channel, "error");

    // A producer that honours write() === false: it stops, so memory is the channel's to bound.
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    let written = 0;
    const callbacks: Array<Error | null | undefined> = [];
    while (written < 8 * 1024 * 1024) {
      written += chunk.length;
      const more = channel.write(chunk, (error) => callbacks.push(error));
      if (!more) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setImmediate(resolve));
    const stats = channel.endpoint.stats();
    assert.ok(channel.endpoint.congested, "the channel is congested, not buffering without end");
    assert.ok(stats.unackedBytes <= LIMITS.outgoingHighWaterBytes + chunk.length + 16 * MAX_FRAME);
    assert.ok(channel.writableLength <= channel.writableHighWaterMark + chunk.length);
    assert.ok(written < 8 * 1024 * 1024, "write() returned false long before 8 MiB");

    await advanceUntil(clock, () => channel.destroyed, 10 * 60 * 1000);
    const [error] = (await failed) as [ChannelError];
    assert.equal(error.code, "CHANNEL_RETRANSMIT_LIMIT");
    assert.match(error.message, /stopped acknowledging/);
    assert.equal(channel.endpoint.stats().unackedBytes, 0, "buffers released");
    // Held writes are failed, not left hanging.
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(
      callbacks.some((e) => e instanceof Error),
      "a held write was called back with an error",
    );
    const frames = framesAtPeer;
    clock.advance(60 * 60 * 1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(framesAtPeer, frames, "nothing is sent after the channel ended");
  });
});
