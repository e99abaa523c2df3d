import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import {
  decodeMessage,
  encodeMessage,
  MessageType,
  PayloadType,
  payloadDigest,
  wireDigest,
} from "@aws-runas/wire/protocol/index.js";
import {
  FaultShaper,
  outputSequence,
  REORDER_HOLD_MS,
  SessionFaults,
  seededRandom,
  withCorruptDigest,
} from "../../packages/emulator/src/gateway/index.js";
import { type FaultConfig, INSTANCE, noFaults } from "../../packages/emulator/src/index.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { startTestEmulator } from "./helpers/emulator.js";

function frame(seq: number, type: string = MessageType.outputStreamData): Buffer {
  return encodeMessage({
    messageType: type,
    schemaVersion: 1,
    createdDate: 1_700_000_000_000,
    sequenceNumber: seq,
    flags: 0,
    messageId: "dd01e56b-ff48-483e-a508-b5f073f31b16",
    payloadType: PayloadType.output,
    payload: Buffer.from(`payload-${seq}`),
  });
}

function shaper(config: Partial<FaultConfig>, seed = 7) {
  const clock = new ManualClock();
  const written: Buffer[] = [];
  let drops = 0;
  const pending: Array<() => void> = [];
  const session = new SessionFaults({ ...noFaults(), ...config }, seed);
  const make = () =>
    new FaultShaper(
      session,
      {
        write: (f, done) => {
          written.push(f);
          if (done) pending.push(done);
        },
        drop: () => {
          drops++;
        },
      },
      clock,
    );
  const seqs = () => written.map((f) => outputSequence(f) ?? -1);
  const flushWrites = () => {
    for (const done of pending.splice(0)) done();
  };
  return { clock, written, seqs, make, session, flushWrites, drops: () => drops };
}

describe("FaultShaper (unit, manual clock)", () => {
  test("no faults: frames pass through untouched and in order", () => {
    const s = shaper({});
    const out = s.make();
    const frames = [frame(0), frame(1), frame(2)];
    for (const f of frames) out.send(f);
    assert.deepEqual(s.written, frames);
  });

  test("corrupt-digest=2 corrupts every 2nd new output frame, never a retransmission, never in place", () => {
    const s = shaper({ corruptDigest: 2 });
    const out = s.make();
    const f1 = frame(1);
    const original = Buffer.from(f1);
    for (const seq of [0, 1, 2, 3]) out.send(seq === 1 ? f1 : frame(seq));
    out.send(f1); // retransmission of seq 1
    const ok = s.written.map((w) => {
      const m = decodeMessage(w, { verifyDigest: false });
      return payloadDigest(m.payload).equals(wireDigest(m));
    });
    assert.deepEqual(ok, [true, false, true, false, true]);
    assert.deepEqual(f1, original, "the endpoint's buffered frame is not modified");
    assert.equal(out.stats().corrupted, 2);
  });

  test("acks are never counted or corrupted", () => {
    const s = shaper({ corruptDigest: 1 });
    const out = s.make();
    out.send(frame(0, MessageType.acknowledge));
    assert.equal(out.stats().corrupted, 0);
    assert.equal(outputSequence(frame(0, MessageType.acknowledge)), undefined);
  });

  test("duplicate=100 sends every frame twice", () => {
    const s = shaper({ duplicatePercent: 100 });
    const out = s.make();
    out.send(frame(0));
    out.send(frame(1));
    assert.deepEqual(s.seqs(), [0, 0, 1, 1]);
  });

  test("reorder=100 holds a frame behind its successor; a lone frame leaves after the hold time", () => {
    const s = shaper({ reorderPercent: 100 });
    const out = s.make();
    out.send(frame(0));
    assert.deepEqual(s.seqs(), []);
    out.send(frame(1));
    assert.deepEqual(s.seqs(), [1, 0]);
    out.send(frame(2));
    s.clock.advance(REORDER_HOLD_MS);
    assert.deepEqual(s.seqs(), [1, 0, 2]);
  });

  test("delay holds every frame for the delay and keeps the order; channel_closed stays last", () => {
    const s = shaper({ delayMs: 100 });
    const out = s.make();
    out.send(frame(0));
    s.clock.advance(40);
    out.send(frame(1));
    out.sendControl(frame(0, MessageType.channelClosed));
    s.clock.advance(59);
    assert.equal(s.written.length, 0);
    s.clock.advance(1);
    assert.deepEqual(s.seqs(), [0]);
    s.clock.advance(40);
    assert.deepEqual(s.seqs(), [0, 1, -1]);
  });

  test("drop-websocket-after=3: the third frame is written, then the socket is killed; again after a reconnect", () => {
    const s = shaper({ dropWebsocketAfter: 3 });
    let out = s.make();
    for (let seq = 0; seq < 5; seq++) out.send(frame(seq));
    assert.equal(s.written.length, 3);
    assert.equal(s.drops(), 0, "not before the third frame left");
    s.flushWrites();
    assert.equal(s.drops(), 1);
    out = s.make(); // the client reconnected; the agent resends what is unacked first
    for (let seq = 0; seq < 10; seq++) out.send(frame(seq));
    s.flushWrites();
    assert.deepEqual(s.seqs().slice(3), [0, 1, 2, 3, 4, 5, 6, 7], "resent frames do not use up the budget");
    assert.equal(s.drops(), 2);
    assert.deepEqual(out.stats().counted, 3);
  });

  test("the same seed gives the same decisions", () => {
    const run = (seed: number) => {
      const s = shaper({ duplicatePercent: 30, reorderPercent: 30 }, seed);
      const out = s.make();
      for (let seq = 0; seq < 40; seq++) out.send(frame(seq));
      s.clock.advance(REORDER_HOLD_MS);
      return s.seqs().join(",");
    };
    assert.equal(run(11), run(11));
    assert.notEqual(run(11), run(12));
    const r = seededRandom(5);
    for (let i = 0; i < 100; i++) {
      const v = r();
      assert.ok(v >= 0 && v < 1);
    }
  });

  test("withCorruptDigest flips exactly one digest byte", () => {
    const f = frame(3);
    const c = withCorruptDigest(f);
    let diff = 0;
    for (let i = 0; i < f.length; i++) if (f[i] !== c[i]) diff++;
    assert.equal(diff, 1);
  });
});

/** A command whose output spans several messages. */
function chatty(tag: string, lines = 300): Record<string, string[]> {
  return { command: [`for i in $(seq 1 ${lines}); do echo line-${tag}-$i; done`] };
}

function expectedLines(text: string, tag: string): number {
  return new Set(text.match(new RegExp(`line-${tag}-\\d+`, "g")) ?? []).size;
}

describe("faults on the wire (emulator, raw client)", () => {
  test("drop-websocket-after=N: the socket dies after N new frames, again after each reconnect", async (t) => {
    const emu = await startTestEmulator(t, { faults: { dropWebsocketAfter: 4 } });
    const session = emu.startSession(INSTANCE.web, "AWS-StartInteractiveCommand", chatty("d", 3000));
    const client = await emu.connect(session);
    for (let round = 1; round <= 3; round++) {
      await client.until(() => client.closeCodes.length === round, `drop #${round}`);
      assert.equal(client.closeCodes[round - 1], 1006, "abrupt close, no close frame");
      const stats = emu.gateway.session(session.sessionId)!.faultStats[round - 1]!;
      assert.equal(stats.dropped, true);
      assert.equal(stats.counted, 4, "dropped after 4 frames that were not retransmissions");
      assert.ok(client.frames.some((f) => f.connection === round));
      assert.ok(client.frames.filter((f) => f.connection === round).length <= stats.written);
      const token = emu.emulator.sessions.rotateToken(session.sessionId)!;
      await client.reconnect(token);
    }
  });

  test("duplicate=100: every output seq arrives at least twice; the client still sees each line once", async (t) => {
    const emu = await startTestEmulator(t, { faults: { duplicatePercent: 100 } });
    const tag = randomBytes(3).toString("hex");
    const session = emu.startSession(INSTANCE.web, "AWS-StartInteractiveCommand", chatty(tag));
    const client = await emu.connect(session);
    await client.untilClosed();
    const counts = new Map<number, number>();
    for (const f of client.outputFrames())
      counts.set(f.message.sequenceNumber, (counts.get(f.message.sequenceNumber) ?? 0) + 1);
    assert.ok(counts.size >= 2);
    for (const [seq, n] of counts) assert.ok(n >= 2, `seq ${seq} arrived ${n} time(s)`);
    assert.equal(expectedLines(client.text, tag), 300);
    assert.equal(client.text.split(`line-${tag}-300\r\n`).length - 1, 1);
  });

  test("reorder=50: seqs arrive out of order; the client delivers them in order", async (t) => {
    const emu = await startTestEmulator(t, { faults: { reorderPercent: 50 }, seed: 3 });
    const tag = randomBytes(3).toString("hex");
    const session = emu.startSession(INSTANCE.web, "AWS-StartInteractiveCommand", chatty(tag, 3000));
    const client = await emu.connect(session);
    await client.untilClosed();
    const seqs = client.outputFrames().map((f) => f.message.sequenceNumber);
    assert.ok(
      seqs.some((seq, i) => i > 0 && seq < seqs[i - 1]!),
      `expected an out-of-order arrival in ${seqs.join(",")}`,
    );
    assert.equal(expectedLines(client.text, tag), 3000);
    assert.match(client.text, new RegExp(`line-${tag}-1\\r\\n[^]*line-${tag}-3000\\r\\n$`));
  });

  test("delay=MS: nothing arrives before the delay has passed", async (t) => {
    const emu = await startTestEmulator(t, { faults: { delayMs: 250 } });
    const session = emu.startSession(INSTANCE.web);
    const started = performance.now();
    const client = await emu.connect(session);
    await client.until(() => client.frames.length > 0, "first frame");
    assert.ok(performance.now() - started >= 250, "the first frame was delayed");
    await client.untilText("$ ");
  });

  test("corrupt-digest=1: the first output frame fails the digest check and arrives again, intact", async (t) => {
    const emu = await startTestEmulator(t, { faults: { corruptDigest: 1 } });
    const session = emu.startSession(INSTANCE.web);
    const client = await emu.connect(session);
    await client.untilText("$ ");
    const seq0 = client.outputFrames().filter((f) => f.message.sequenceNumber === 0);
    assert.ok(seq0.length >= 2, "seq 0 was retransmitted");
    assert.equal(seq0[0]!.digestOk, false, "the first copy had a bad digest");
    assert.ok(
      seq0.slice(1).some((f) => f.digestOk),
      "a retransmitted copy was intact",
    );
    assert.ok((client.endpoint.stats().dropped.PROTOCOL_BAD_DIGEST ?? 0) >= 1, "the client dropped it");
  });
});
