import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { ProtocolError } from "@aws-runas/wire/errors.js";
import {
  decodeMessage,
  describeMessage,
  encodeMessage,
  MessageType,
  type SsmMessage,
  wireDigest,
} from "@aws-runas/wire/protocol/index.js";
import fc from "fast-check";

interface Vector {
  hex: string;
  messageType: string;
  sequenceNumber: number;
  flags: number;
  payloadType: number;
  payload?: string;
  payloadHex?: string;
  digest?: string;
}
const vectors = JSON.parse(
  readFileSync(new URL("../fixtures/ssm-vectors.json", import.meta.url), "utf8"),
) as Record<string, Vector> & {
  messageId: string;
  createdDate: number;
  V7: { getLongHex: string; getLongOffset: number; getLongValue: number };
};

const messageVectors = ["V1", "V2", "V3", "V3b", "V4", "V5", "V6"] as const;

function messageOf(v: Vector): SsmMessage {
  return {
    messageType: v.messageType,
    schemaVersion: 1,
    createdDate: vectors.createdDate,
    sequenceNumber: v.sequenceNumber,
    flags: v.flags,
    messageId: vectors.messageId,
    payloadType: v.payloadType,
    payload: v.payloadHex ? Buffer.from(v.payloadHex, "hex") : Buffer.from(v.payload ?? "", "utf8"),
  };
}

describe("ssm-protocol.md §13 vectors", () => {
  for (const name of messageVectors) {
    const v = vectors[name]!;
    test(`${name}: encode produces the exact bytes`, () => {
      assert.equal(encodeMessage(messageOf(v)).toString("hex"), v.hex);
    });
    test(`${name}: decode yields every field`, () => {
      const m = decodeMessage(Buffer.from(v.hex, "hex"));
      const expected = messageOf(v);
      assert.equal(m.headerLength, 116);
      assert.equal(m.messageType, expected.messageType);
      assert.equal(m.schemaVersion, 1);
      assert.equal(m.createdDate, expected.createdDate);
      assert.equal(m.sequenceNumber, expected.sequenceNumber);
      assert.equal(m.flags, expected.flags);
      assert.equal(m.messageId, vectors.messageId);
      assert.equal(m.payloadType, expected.payloadType);
      assert.deepEqual(Buffer.from(m.payload), expected.payload);
      if (v.digest) assert.equal(wireDigest(m).toString("hex"), v.digest);
    });
  }

  test("MessageId halves are swapped on the wire (§4.2)", () => {
    const bytes = encodeMessage(messageOf(vectors.V1!));
    assert.equal(bytes.subarray(64, 80).toString("hex"), "a508b5f073f31b16dd01e56bff48483e");
  });

  test("V7: int64 sequence numbers are big-endian", () => {
    // The 8 bytes of the getLong vector placed in the SequenceNumber field decode to its value.
    const bytes = Buffer.from(vectors.V1!.hex, "hex");
    const long = Buffer.from(vectors.V7.getLongHex, "hex").subarray(
      vectors.V7.getLongOffset,
      vectors.V7.getLongOffset + 8,
    );
    long.copy(bytes, 48);
    assert.equal(decodeMessage(bytes).sequenceNumber, vectors.V7.getLongValue);
    const m = { ...messageOf(vectors.V1!), sequenceNumber: 4294967296 };
    assert.equal(encodeMessage(m).subarray(48, 56).toString("hex"), "0000000100000000");
  });
});

describe("reader rules (§4.3)", () => {
  test("NUL-padded and left-padded message types are trimmed", () => {
    const bytes = Buffer.from(vectors.V2!.hex, "hex");
    bytes.fill(0, 4, 36);
    bytes.write("output_stream_data", 10, "latin1"); // NULs on both sides
    assert.equal(decodeMessage(bytes).messageType, "output_stream_data");
  });

  test("HeaderLength 112 (MGS channel_closed): PayloadLength at 112, payload at 116, PayloadType 0", () => {
    const payload = Buffer.from('{"Output":"bye","SessionId":"s-1"}');
    const bytes = Buffer.alloc(116 + payload.length);
    bytes.writeUInt32BE(112, 0);
    bytes.write("channel_closed", 4, "latin1");
    bytes.writeUInt32BE(1, 36);
    bytes.writeUInt32BE(0x15e, 40);
    bytes.writeUInt32BE(0x0baa7884, 44);
    createHash("sha256").update(payload).digest().copy(bytes, 80);
    bytes.writeUInt32BE(payload.length, 112);
    payload.copy(bytes, 116);
    const m = decodeMessage(bytes);
    assert.equal(m.messageType, MessageType.channelClosed);
    assert.equal(m.payloadType, 0);
    assert.equal(m.payload.toString(), payload.toString());
  });

  test("publication messages are not validated (odd headers, zero date, wrong digest)", () => {
    const m = encodeMessage({ ...messageOf(vectors.V2!), messageType: "pause_publication" });
    m.fill(0, 40, 48); // CreatedDate 0
    m[90] = (m[90] ?? 0) ^ 0xff; // digest broken
    assert.equal(decodeMessage(m).messageType, "pause_publication");
  });

  test("digest is verified only when asked and only for non-empty payloads", () => {
    const bytes = Buffer.from(vectors.V2!.hex, "hex");
    bytes[0x50] = (bytes[0x50] ?? 0) ^ 1;
    assert.throws(() => decodeMessage(bytes), { code: "PROTOCOL_BAD_DIGEST" });
    assert.equal(decodeMessage(bytes, { verifyDigest: false }).payload.toString(), "testPayload0");
    const empty = encodeMessage({ ...messageOf(vectors.V2!), payload: Buffer.alloc(0) });
    empty.fill(7, 80, 112);
    assert.equal(decodeMessage(empty).payload.length, 0);
  });

  test("typed errors for each malformation", () => {
    const good = Buffer.from(vectors.V2!.hex, "hex");
    assert.throws(() => decodeMessage(good.subarray(0, 100)), { code: "PROTOCOL_TRUNCATED" });
    const badHl = Buffer.from(good);
    badHl.writeUInt32BE(5000, 0);
    assert.throws(() => decodeMessage(badHl), { code: "PROTOCOL_BAD_HEADER_LENGTH" });
    const overflow = Buffer.from(good);
    overflow.writeUInt32BE(13, 116);
    assert.throws(() => decodeMessage(overflow), { code: "PROTOCOL_PAYLOAD_OVERFLOW" });
    const unknown = Buffer.from(good);
    unknown.write("no_such_type      ", 4, "latin1");
    assert.throws(() => decodeMessage(unknown), { code: "PROTOCOL_UNKNOWN_TYPE" });
    const zeroDate = Buffer.from(good);
    zeroDate.fill(0, 40, 48);
    assert.throws(() => decodeMessage(zeroDate), { code: "PROTOCOL_BAD_FIELD" });
  });

  test("encode refuses a MessageId that is not a canonical UUID, accepts upper case", () => {
    const base = messageOf(vectors.V2!);
    const bad = [
      "",
      "not-a-uuid",
      "dc0d3000-0000-4000-8000-00000000000", // one digit short
      "dc0d3000-0000-4000-8000-0000000000000", // one digit long
      "dc0d30000-000-4000-8000-000000000000", // hyphen moved
      "dc0d3000-0000-4000-8000-00000000000g", // not hex
      "dc0d3000-0000-4000-8000-00000000000\u00e9", // not ASCII
      "dc0d3000+0000-4000-8000-000000000000",
    ];
    for (const messageId of bad) {
      assert.throws(() => encodeMessage({ ...base, messageId }), { code: "PROTOCOL_BAD_FIELD" }, messageId);
    }
    const upper = "DC0D3000-ABCD-4EF0-8000-00000000001F";
    assert.equal(decodeMessage(encodeMessage({ ...base, messageId: upper })).messageId, upper.toLowerCase());
  });

  test("describeMessage names the fields for logs", () => {
    assert.equal(
      describeMessage(decodeMessage(Buffer.from(vectors.V1!.hex, "hex"))),
      "input_stream_data seq=1 flags=2 pt=0 len=7",
    );
  });
});

const arbMessage: fc.Arbitrary<SsmMessage> = fc.record({
  messageType: fc.constantFrom(...Object.values(MessageType)),
  schemaVersion: fc.integer({ min: 0, max: 0xffffffff }),
  createdDate: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  sequenceNumber: fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  flags: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  messageId: fc.uuid().map((u) => u.toLowerCase()),
  payloadType: fc.integer({ min: 0, max: 0xffffffff }),
  payload: fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
});

describe("properties", () => {
  test("decode(encode(m)) == m", () => {
    fc.assert(
      fc.property(arbMessage, (m) => {
        const d = decodeMessage(encodeMessage(m));
        assert.deepEqual(
          { ...d, payload: Buffer.from(d.payload), headerLength: undefined, frame: undefined },
          { ...m, headerLength: undefined, frame: undefined },
        );
      }),
      { numRuns: 2000 },
    );
  });

  test("random bytes only ever raise ProtocolError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          decodeMessage(bytes);
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });

  test("mutated valid frames only ever raise ProtocolError", () => {
    const mutation = fc.record({
      message: arbMessage,
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      cut: fc.option(fc.nat()),
    });
    fc.assert(
      fc.property(mutation, ({ message, edits, cut }) => {
        let bytes = encodeMessage(message);
        for (const [pos, value] of edits) bytes[pos % bytes.length] = value;
        if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
        try {
          decodeMessage(bytes);
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });
});
