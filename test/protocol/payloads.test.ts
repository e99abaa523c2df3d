import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { ProtocolError } from "@aws-runas/wire/errors.js";
import {
  ActionStatus,
  decodeAcknowledge,
  decodeChannelClosed,
  decodeEncryptionChallenge,
  decodeFlag,
  decodeHandshakeComplete,
  decodeHandshakeRequest,
  decodeHandshakeResponse,
  decodeOpenDataChannel,
  decodeTerminalSize,
  encodeAcknowledge,
  encodeFlag,
  encodeHandshakeRequest,
  encodeHandshakeResponse,
  encodeOpenDataChannel,
  encodeTerminalSize,
  FlagValue,
  nextCounterNonce,
  openPayload,
  sealPayload,
  splitDataKey,
} from "@aws-runas/wire/protocol/index.js";
import fc from "fast-check";

const vectors = JSON.parse(readFileSync(new URL("../fixtures/ssm-vectors.json", import.meta.url), "utf8"));

describe("JSON payloads", () => {
  test("V3b ack payload: keys in the official order", () => {
    const content = {
      AcknowledgedMessageType: "input_stream_data",
      AcknowledgedMessageId: "dd01e56b-ff48-483e-a508-b5f073f31b16",
      AcknowledgedMessageSequenceNumber: 2,
      IsSequentialMessage: true,
    };
    assert.equal(encodeAcknowledge(content).toString(), vectors.V3b.payload);
    assert.deepEqual(decodeAcknowledge(Buffer.from(vectors.V3b.payload)), content);
  });

  test("ack encoding equals JSON.stringify of the object form, for any content", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
        fc.boolean(),
        (type, id, seq, sequential) => {
          const content = {
            AcknowledgedMessageType: type,
            AcknowledgedMessageId: id,
            AcknowledgedMessageSequenceNumber: seq,
            IsSequentialMessage: sequential,
          };
          assert.equal(encodeAcknowledge(content).toString(), JSON.stringify(content));
          assert.deepEqual(decodeAcknowledge(encodeAcknowledge(content)), content);
        },
      ),
      { numRuns: 1000 },
    );
    for (const bad of [Number.NaN, 1.5, Number.POSITIVE_INFINITY, 2 ** 60]) {
      assert.throws(
        () =>
          encodeAcknowledge({
            AcknowledgedMessageType: "input_stream_data",
            AcknowledgedMessageId: "dd01e56b-ff48-483e-a508-b5f073f31b16",
            AcknowledgedMessageSequenceNumber: bad,
            IsSequentialMessage: true,
          }),
        { code: "PROTOCOL_BAD_FIELD" },
      );
    }
  });

  test("V4 handshake request decodes and re-encodes identically", () => {
    const req = decodeHandshakeRequest(Buffer.from(vectors.V4.payload));
    assert.equal(req.AgentVersion, "10.0.0.1");
    assert.deepEqual(
      req.RequestedClientActions.map((a) => a.ActionType),
      ["KMSEncryption", "SessionType"],
    );
    assert.deepEqual(req.RequestedClientActions[0]!.ActionParameters, { KMSKeyId: "some-key-id" });
    assert.equal(encodeHandshakeRequest(req).toString(), vectors.V4.payload);
  });

  test("V4 reply: the expected HandshakeResponse bytes", () => {
    const reply = encodeHandshakeResponse({
      ClientVersion: "1.2.0.0",
      ProcessedClientActions: [
        {
          ActionType: "KMSEncryption",
          ActionStatus: ActionStatus.success,
          ActionResult: {
            KMSCipherTextKey: Buffer.from("cipher-text-key").toString("base64"),
            KMSCipherTextHash: null,
          },
          Error: "",
        },
        { ActionType: "SessionType", ActionStatus: ActionStatus.success, ActionResult: null, Error: "" },
      ],
      Errors: [],
    });
    assert.equal(reply.toString(), vectors.V4reply);
    assert.equal(decodeHandshakeResponse(reply).ProcessedClientActions.length, 2);
  });

  test("V5 size payload", () => {
    assert.equal(encodeTerminalSize({ cols: 100, rows: 100 }).toString(), vectors.V5.payload);
    assert.deepEqual(decodeTerminalSize(Buffer.from(vectors.V5.payload)), { cols: 100, rows: 100 });
  });

  test("V6 flag payload is a 4-byte big-endian uint32", () => {
    assert.equal(encodeFlag(FlagValue.terminateSession).toString("hex"), vectors.V6.payloadHex);
    assert.equal(decodeFlag(Buffer.from("00000003", "hex")), FlagValue.connectToPortError);
    assert.throws(() => decodeFlag(Buffer.from("0003", "hex")), ProtocolError);
  });

  test("channel_closed, handshake complete, challenge, OpenDataChannel", () => {
    const closed = decodeChannelClosed(
      Buffer.from(
        '{"MessageId":"m","CreatedDate":"2024-01-01T00:00:00Z","DestinationId":"i-1","SessionId":"s","MessageType":"channel_closed","SchemaVersion":1,"Output":"done"}',
      ),
    );
    assert.equal(closed.Output, "done");
    assert.equal(
      decodeHandshakeComplete(Buffer.from('{"HandshakeTimeToComplete":5,"CustomerMessage":"hi"}'))
        .CustomerMessage,
      "hi",
    );
    assert.equal(decodeEncryptionChallenge(Buffer.from('{"Challenge":"AAEC"}')).Challenge, "AAEC");
    const open = {
      MessageSchemaVersion: "1.0",
      RequestId: "r",
      TokenValue: "t",
      ClientId: "c",
      ClientVersion: "1.2.650.0",
    };
    const text = encodeOpenDataChannel(open);
    assert.equal(
      text,
      '{"MessageSchemaVersion":"1.0","RequestId":"r","TokenValue":"t","ClientId":"c","ClientVersion":"1.2.650.0"}',
    );
    assert.deepEqual(decodeOpenDataChannel(text), open);
  });

  test("malformed JSON payloads raise PROTOCOL_BAD_JSON only", () => {
    const decoders = [
      decodeAcknowledge,
      decodeChannelClosed,
      decodeHandshakeRequest,
      decodeHandshakeResponse,
      decodeHandshakeComplete,
      decodeTerminalSize,
      decodeEncryptionChallenge,
      decodeOpenDataChannel,
    ];
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), fc.nat({ max: decoders.length - 1 }), (text, i) => {
        try {
          decoders[i]!(Buffer.from(text));
        } catch (e) {
          assert.ok(e instanceof ProtocolError);
          assert.equal(e.code, "PROTOCOL_BAD_JSON");
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe("KMS envelope (§5.4, V8)", () => {
  const keys = splitDataKey(Buffer.from(vectors.V8.keyHex, "hex"));
  const nonce = Buffer.from(vectors.V8.nonceHex, "hex");

  test("agent → client uses K[0:32]", () => {
    const sealed = sealPayload(keys.agentToClient, nonce, Buffer.from("hello"));
    assert.equal(sealed.toString("hex"), vectors.V8.agentToClientHex);
    assert.equal(sealed.toString("base64"), vectors.V8.agentToClientBase64);
    assert.equal(openPayload(keys.agentToClient, sealed).toString(), "hello");
  });

  test("client → agent uses K[32:64]", () => {
    const sealed = sealPayload(keys.clientToAgent, nonce, Buffer.from("hello"));
    assert.equal(sealed.toString("hex"), vectors.V8.clientToAgentHex);
    assert.equal(sealed.toString("base64"), vectors.V8.clientToAgentBase64);
  });

  test("wrong key, tampering and truncation are PROTOCOL_DECRYPT_FAILED", () => {
    const sealed = Buffer.from(vectors.V8.agentToClientHex, "hex");
    assert.throws(() => openPayload(keys.clientToAgent, sealed), { code: "PROTOCOL_DECRYPT_FAILED" });
    const tampered = Buffer.from(sealed);
    tampered[14] = (tampered[14] ?? 0) ^ 1;
    assert.throws(() => openPayload(keys.agentToClient, tampered), { code: "PROTOCOL_DECRYPT_FAILED" });
    assert.throws(() => openPayload(keys.agentToClient, sealed.subarray(0, 20)), {
      code: "PROTOCOL_DECRYPT_FAILED",
    });
    assert.throws(() => splitDataKey(Buffer.alloc(32)), ProtocolError);
  });

  test("counter nonces carry across little-endian words", () => {
    assert.equal(nextCounterNonce(Buffer.alloc(12)).toString("hex"), "010000000000000000000000");
    const carry = Buffer.from("ffffffff0000000000000000", "hex");
    assert.equal(nextCounterNonce(carry).toString("hex"), "000000000100000000000000");
  });
});
