/**
 * A minimal service side for benchmarks, in its own process: a ws server on 127.0.0.1 that
 * acks every input_stream_data message at once and discards it (the "scripted peer that acks
 * immediately" of issue #2). Prints its port on stdout.
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import {
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  MessageType,
  PayloadType,
} from "@aws-runas/wire/protocol/index.js";
import { WebSocketServer } from "ws";

const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
server.on("listening", () => console.log((server.address() as AddressInfo).port));
server.on("connection", (ws) => {
  let opened = false;
  const id = randomUUID();
  ws.on("message", (data: Buffer, isBinary) => {
    if (!opened) {
      opened = true;
      // A shell-like first output makes the client ready without a handshake.
      ws.send(
        encodeMessage({
          messageType: MessageType.outputStreamData,
          schemaVersion: 1,
          createdDate: Date.now(),
          sequenceNumber: 0,
          flags: 1,
          messageId: id,
          payloadType: PayloadType.output,
          payload: Buffer.from("$ "),
        }),
      );
      return;
    }
    if (!isBinary) return;
    const m = decodeMessage(data, { verifyDigest: false });
    if (m.messageType !== MessageType.inputStreamData) return;
    ws.send(
      encodeMessage({
        messageType: MessageType.acknowledge,
        schemaVersion: 1,
        createdDate: Date.now(),
        sequenceNumber: 0,
        flags: 3,
        messageId: id,
        payloadType: 0,
        payload: encodeAcknowledge({
          AcknowledgedMessageType: m.messageType,
          AcknowledgedMessageId: m.messageId,
          AcknowledgedMessageSequenceNumber: m.sequenceNumber,
          IsSequentialMessage: true,
        }),
      }),
    );
  });
});
