/**
 * Issue #11: bad input from the network. A seeded generator (printed; replay with
 * `FUZZ_SEED=<n>`) feeds 10^6 random and mutated frames to `decodeMessage`, and 10^6 more — bad
 * frames interleaved with a stream of valid ones — to a live DataChannel over a real websocket.
 * Nothing crashes or rejects unhandled, the decoder only ever throws ProtocolError, the valid
 * data arrives intact and in order, every bad frame is dropped and counted by reason (digest
 * mismatches as PROTOCOL_BAD_DIGEST) and reported at `-v`, and memory stays bounded. Valid
 * frames are encoded once; the bad ones are mutated copies written into a scratch buffer.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ProtocolError } from "@aws-runas/wire/errors.js";
import { createLogger } from "@aws-runas/wire/log.js";
import {
  CONTROL_CHANNEL_MESSAGE_TYPES,
  decodeMessage,
  encodeAcknowledge,
  encodeChannelClosed,
  encodeMessage,
  Layout,
  MessageType,
  PayloadType,
  payloadDigest,
  wireDigest,
} from "@aws-runas/wire/protocol/index.js";
import { WebSocketServer } from "ws";
import { DataChannel } from "../../packages/aws-runas/src/datachannel/index.js";

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** `FUZZ_SCALE=10` for a longer run; the default is what CI runs. */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const DECODER_FRAMES = Math.round(1_000_000 * SCALE);
const CHANNEL_BAD_FRAMES = Math.round(1_000_000 * SCALE);
const CHANNEL_GOOD_FRAMES = Math.round(50_000 * SCALE);

/** mulberry32: small, fast, and the same sequence for the same seed. */
function prng(seed: number): { next(): number; int(n: number): number; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), chance: (p) => next() < p };
}

type Rng = ReturnType<typeof prng>;

/** 1 MiB of seeded random bytes that random frames and payloads are cut from. */
const POOL = (() => {
  const rng = prng(SEED ^ 0x9e3779b9);
  const pool = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < pool.length; i += 4) pool.writeUInt32LE(Math.floor(rng.next() * 2 ** 32), i);
  return pool;
})();

const KNOWN_TYPES = new Set<string>([...Object.values(MessageType), ...CONTROL_CHANNEL_MESSAGE_TYPES]);

function uuid(i: number): string {
  const hex = i.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${hex}`;
}

function frame(
  messageType: string,
  seq: number,
  payloadType: number,
  payload: Buffer,
  headerLength: number = Layout.headerLength,
): Buffer {
  const encoded = encodeMessage({
    messageType,
    schemaVersion: 1,
    createdDate: 1_700_000_000_000 + seq,
    sequenceNumber: seq,
    flags: seq === 0 ? 1 : 0,
    messageId: uuid(seq),
    payloadType,
    payload,
  });
  if (headerLength === Layout.headerLength) return encoded;
  // HL=112 (MGS channel_closed): no PayloadType field, PayloadLength right after the digest.
  const short = Buffer.alloc(encoded.length - 4);
  encoded.copy(short, 0, 0, Layout.payloadTypeOffset);
  short.writeUInt32BE(112, 0);
  encoded.copy(short, Layout.payloadTypeOffset, Layout.headerLength);
  return short;
}

/** Valid frames of every shape the client meets, encoded once. */
function corpus(rng: Rng): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 48; i++) {
    const size = [0, 1, 7, 64, 512, 1024][i % 6]!;
    const payload = Buffer.alloc(size);
    for (let j = 0; j < size; j++) payload[j] = rng.int(256);
    out.push(frame(MessageType.outputStreamData, i, [1, 11, 12, 5, 7, 10][i % 6]!, payload));
  }
  out.push(
    frame(
      MessageType.acknowledge,
      0,
      0,
      encodeAcknowledge({
        AcknowledgedMessageType: MessageType.inputStreamData,
        AcknowledgedMessageId: uuid(3),
        AcknowledgedMessageSequenceNumber: 3,
        IsSequentialMessage: true,
      }),
    ),
  );
  const closed = encodeChannelClosed({
    MessageType: "channel_closed",
    MessageId: uuid(9),
    CreatedDate: "2024-01-01T00:00:00.000Z",
    DestinationId: "i-0123456789abcdef0",
    SessionId: "s-1",
    SchemaVersion: 1,
    Output: "bye",
  });
  out.push(
    frame(MessageType.channelClosed, 0, 0, closed),
    frame(MessageType.channelClosed, 0, 0, closed, 112),
  );
  out.push(frame(MessageType.startPublication, 0, 0, Buffer.alloc(0)));
  out.push(frame(MessageType.pausePublication, 0, 0, Buffer.alloc(0)));
  return out;
}

/** How a bad frame was made; the live test knows what the channel must call each one. */
type Mutation =
  | "random"
  | "digest"
  | "payload"
  | "truncate"
  | "headerLength"
  | "payloadLength"
  | "type"
  | "bits";

/**
 * Writes a bad (or, for "bits", possibly still valid) copy of `base` into `scratch` and returns the
 * view. Never touches SequenceNumber unless "bits" or "random" says so.
 */
function mutate(rng: Rng, base: Buffer, kind: Mutation, scratch: Buffer): Buffer {
  switch (kind) {
    case "random": {
      const length = rng.chance(0.5) ? rng.int(Layout.fixedSize + 64) : rng.int(2048);
      // Random bytes from a seeded pool at a random offset: as random as fresh ones, far cheaper.
      const from = rng.int(POOL.length - length);
      POOL.copy(scratch, 0, from, from + length);
      if (length >= 4 && rng.chance(0.5)) scratch.writeUInt32BE(Layout.headerLength, 0); // get past the first check
      return scratch.subarray(0, length);
    }
    case "truncate": {
      const length = rng.int(base.length);
      base.copy(scratch, 0, 0, length);
      return scratch.subarray(0, length);
    }
    default:
      break;
  }
  base.copy(scratch);
  const out = scratch.subarray(0, base.length);
  const headerLength = base.readUInt32BE(0);
  const payloadLength = base.readUInt32BE(headerLength);
  switch (kind) {
    case "digest":
      out[Layout.payloadDigestOffset + rng.int(32)]! ^= 1 + rng.int(255);
      break;
    case "payload":
      out[headerLength + 4 + rng.int(payloadLength)]! ^= 1 + rng.int(255);
      break;
    case "headerLength": {
      const bad = [0, 1, 111, base.length - 3, base.length, 0xffffffff, rng.int(2 ** 32)];
      let value = bad[rng.int(bad.length)]!;
      if (value >= 112 && value <= base.length - 4) value = base.length; // must stay invalid
      out.writeUInt32BE(value >>> 0, 0);
      break;
    }
    case "payloadLength": {
      const room = base.length - headerLength - 4;
      const value = [room + 1, room + 1000, 0xffffffff, 17 * 1024 * 1024][rng.int(4)]!;
      out.writeUInt32BE(value >>> 0, headerLength);
      break;
    }
    case "type":
      for (let i = 0; i < Layout.messageTypeLength; i++)
        out[Layout.messageTypeOffset + i] = 0x41 + rng.int(26);
      break;
    case "bits":
      for (let n = 1 + rng.int(8); n > 0; n--) out[rng.int(out.length)]! ^= 1 << rng.int(8);
      break;
  }
  return out;
}

const ALL_MUTATIONS: Mutation[] = [
  "random",
  "digest",
  "payload",
  "truncate",
  "headerLength",
  "payloadLength",
  "type",
  "bits",
];
/** What the live channel gets: mutations that can never turn into another valid message. */
const CHANNEL_MUTATIONS: Mutation[] = [
  "random",
  "digest",
  "payload",
  "truncate",
  "headerLength",
  "payloadLength",
  "type",
];

function heapAfterGc(): number {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Closes a websocket server; ws waits for open connections, so cut them first. */
function closeServer(server: WebSocketServer): Promise<void> {
  for (const client of server.clients) client.terminate();
  return new Promise((resolve) => server.close(() => resolve()));
}

const unexpected: unknown[] = [];
const onUnexpected = (error: unknown) => unexpected.push(error);

describe(`network fuzzing (seed ${SEED}; replay with FUZZ_SEED=${SEED})`, () => {
  const stackTraceLimit = Error.stackTraceLimit;
  before(() => {
    // Most frames end in a thrown ProtocolError; capturing a stack for each is most of the cost.
    Error.stackTraceLimit = 0;
    process.on("unhandledRejection", onUnexpected);
    process.on("uncaughtException", onUnexpected);
  });
  after(() => {
    Error.stackTraceLimit = stackTraceLimit;
    process.off("unhandledRejection", onUnexpected);
    process.off("uncaughtException", onUnexpected);
    assert.deepEqual(unexpected, [], `seed ${SEED}: no unhandled rejection or exception`);
  });

  test(`decodeMessage: ${DECODER_FRAMES} random and mutated frames only ever throw ProtocolError`, (t) => {
    const rng = prng(SEED);
    const valid = corpus(rng);
    const scratch = Buffer.alloc(4096);
    const outcomes: Record<string, number> = {};
    const heapBefore = heapAfterGc();
    const started = performance.now();
    for (let i = 0; i < DECODER_FRAMES; i++) {
      const base = valid[rng.int(valid.length)]!;
      const kind = rng.chance(0.05) ? "none" : ALL_MUTATIONS[rng.int(ALL_MUTATIONS.length)]!;
      const input = kind === "none" ? base : mutate(rng, base, kind, scratch);
      const verifyDigest = rng.chance(0.9);
      let outcome: string;
      try {
        const m = decodeMessage(input, { verifyDigest });
        // A decoded message must be internally consistent and within the input.
        assert.ok(KNOWN_TYPES.has(m.messageType), `seed ${SEED} frame ${i}: type ${m.messageType}`);
        assert.ok(m.headerLength >= Layout.minHeaderLength && m.headerLength + 4 <= input.length);
        assert.equal(m.payload.length, input.readUInt32BE(m.headerLength));
        assert.ok(m.payload.byteOffset + m.payload.length <= input.byteOffset + input.length);
        assert.ok(Number.isSafeInteger(m.sequenceNumber) && Number.isSafeInteger(m.createdDate));
        const checked =
          m.messageType !== MessageType.startPublication && m.messageType !== MessageType.pausePublication;
        if (verifyDigest && checked && m.payload.length > 0)
          assert.ok(payloadDigest(m.payload).equals(wireDigest(m)), `seed ${SEED} frame ${i}: digest`);
        if (kind === "digest" || kind === "payload")
          assert.ok(
            !verifyDigest || !checked || m.payload.length === 0,
            `seed ${SEED} frame ${i}: bad digest accepted`,
          );
        outcome = "decoded";
      } catch (error) {
        if (!(error instanceof ProtocolError)) {
          assert.fail(`seed ${SEED} frame ${i} (${kind}): ${String((error as Error)?.stack ?? error)}`);
        }
        outcome = error.code;
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    const seconds = (performance.now() - started) / 1000;
    const growth = heapAfterGc() - heapBefore;
    assert.equal(
      Object.values(outcomes).reduce((a, b) => a + b, 0),
      DECODER_FRAMES,
    );
    assert.ok((outcomes.PROTOCOL_BAD_DIGEST ?? 0) > 0 && (outcomes.decoded ?? 0) > 0);
    assert.ok(growth < 16 * 1024 * 1024, `heap grew by ${growth} bytes`);
    t.diagnostic(
      `seed ${SEED}: ${DECODER_FRAMES} frames in ${seconds.toFixed(2)} s ` +
        `(${Math.round(DECODER_FRAMES / seconds)} frames/s); ${JSON.stringify(outcomes)}`,
    );
  });

  test(`DataChannel: ${CHANNEL_BAD_FRAMES} bad frames among ${CHANNEL_GOOD_FRAMES} good ones over a websocket`, async (t) => {
    const rng = prng(SEED ^ 0x5eed);
    // The good stream: seq 0..N-1, each payload a recognisable 8-byte record plus random bytes.
    const good: Buffer[] = [];
    const expected: Buffer[] = [];
    for (let seq = 0; seq < CHANNEL_GOOD_FRAMES; seq++) {
      const payload = Buffer.alloc(8 + rng.int(120));
      payload.writeUInt32BE(seq, 0);
      payload.writeUInt32BE(SEED >>> 0, 4);
      const from = rng.int(POOL.length - payload.length);
      POOL.copy(payload, 8, from, from + payload.length - 8);
      expected.push(payload);
      good.push(frame(MessageType.outputStreamData, seq, PayloadType.output, payload));
    }
    const bases = good.slice(0, 64);
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(server, "listening");
    t.after(() => closeServer(server));
    const connected = once(server, "connection");
    const logLines = { dropped: 0, other: 0 };
    const logger = createLogger(1, (line) => {
      if (line.includes("dropped a bad frame")) logLines.dropped++;
      else logLines.other++;
    });
    const heapBefore = heapAfterGc();
    const channel = await DataChannel.open({
      streamUrl: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/data-channel/s-fuzz`,
      tokenValue: "token-fuzz",
      sessionId: "s-fuzz",
      targetId: "i-0123456789abcdef0",
      logger,
    });
    t.after(() => channel.destroy());
    const [ws] = (await connected) as [import("ws").WebSocket];
    // Like the service, say nothing before the client's OpenDataChannel; then ignore its acks.
    await once(ws, "message");
    ws.on("message", () => {});

    let receivedBytes = 0;
    const chunks: Buffer[] = [];
    const expectedBytes = expected.reduce((n, p) => n + p.length, 0);
    const allReceived = new Promise<void>((resolve, reject) => {
      channel.on("data", (d: Buffer) => {
        chunks.push(d);
        receivedBytes += d.length;
        if (receivedBytes >= expectedBytes) resolve();
      });
      channel.once("error", reject);
      channel.once("close", () => reject(new Error("the channel closed")));
    });

    const scratch = Buffer.alloc(4096);
    const sentBad: Record<Mutation, number> = Object.fromEntries(ALL_MUTATIONS.map((m) => [m, 0])) as Record<
      Mutation,
      number
    >;
    const started = performance.now();
    let next = 0;
    for (let i = 0; i < CHANNEL_BAD_FRAMES; i++) {
      const kind = CHANNEL_MUTATIONS[rng.int(CHANNEL_MUTATIONS.length)]!;
      let base = bases[rng.int(bases.length)]!;
      if (kind === "payload")
        while (base.readUInt32BE(Layout.headerLength) === 0) base = bases[rng.int(bases.length)]!;
      const bad = Buffer.from(mutate(rng, base, kind, scratch));
      sentBad[kind]++;
      if (ws.bufferedAmount > 1024 * 1024) {
        // Honour the socket's back-pressure: wait until this frame has been written.
        await new Promise<void>((resolve) => ws.send(bad, () => resolve()));
      } else ws.send(bad);
      // Interleave the good stream evenly, each good frame after its share of bad ones: the last
      // good frame then follows the last bad frame, so once it is delivered every frame was handled.
      while (next < good.length && (next + 1) * CHANNEL_BAD_FRAMES <= (i + 1) * good.length)
        ws.send(good[next++]!);
    }
    while (next < good.length) ws.send(good[next++]!);
    await allReceived;
    const seconds = (performance.now() - started) / 1000;

    const got = Buffer.concat(chunks);
    const want = Buffer.concat(expected);
    assert.equal(got.length, want.length, `seed ${SEED}: byte count`);
    assert.ok(got.equals(want), `seed ${SEED}: the good stream arrived intact and in order`);

    const stats = channel.endpoint.stats();
    const dropped = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
    assert.equal(
      stats.dropped.PROTOCOL_BAD_DIGEST ?? 0,
      sentBad.digest + sentBad.payload,
      `seed ${SEED}: every digest mismatch counted: ${JSON.stringify(stats.dropped)}`,
    );
    assert.equal(
      dropped,
      CHANNEL_BAD_FRAMES,
      `seed ${SEED}: every bad frame dropped: ${JSON.stringify(stats.dropped)}`,
    );
    assert.equal(stats.expectedIncomingSeq, CHANNEL_GOOD_FRAMES);
    assert.equal(stats.reorderBuffered, 0);
    assert.equal(logLines.dropped, dropped, "every dropped frame is reported at -v");
    assert.ok(!channel.destroyed, "the channel is still up");
    channel.destroy();
    const growth = heapAfterGc() - heapBefore;
    assert.ok(growth < 32 * 1024 * 1024, `heap grew by ${growth} bytes`);
    t.diagnostic(
      `seed ${SEED}: ${CHANNEL_BAD_FRAMES} bad + ${CHANNEL_GOOD_FRAMES} good frames in ${seconds.toFixed(2)} s ` +
        `(${Math.round((CHANNEL_BAD_FRAMES + CHANNEL_GOOD_FRAMES) / seconds)} frames/s); dropped ${JSON.stringify(stats.dropped)}`,
    );
  });

  test("without -v nothing about dropped frames is printed", async (t) => {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(server, "listening");
    t.after(() => closeServer(server));
    const connected = once(server, "connection");
    const lines: string[] = [];
    const channel = await DataChannel.open({
      streamUrl: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/data-channel/s-quiet`,
      tokenValue: "token-quiet",
      sessionId: "s-quiet",
      targetId: "i-0123456789abcdef0",
      logger: createLogger(0, (line) => lines.push(line)),
    });
    t.after(() => channel.destroy());
    const [ws] = (await connected) as [import("ws").WebSocket];
    await once(ws, "message"); // OpenDataChannel
    const valid = frame(MessageType.outputStreamData, 0, PayloadType.output, Buffer.from("hello"));
    const bad = Buffer.from(valid);
    bad[Layout.payloadDigestOffset]! ^= 0xff;
    ws.send(bad);
    ws.send(valid);
    const [data] = (await once(channel, "data")) as [Buffer];
    assert.equal(data.toString(), "hello");
    assert.equal(channel.endpoint.stats().dropped.PROTOCOL_BAD_DIGEST, 1);
    assert.deepEqual(lines, []);
  });
});
