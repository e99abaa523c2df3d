/**
 * Codec throughput: encode + decode (with digest verification) of 1 KiB stream messages.
 * Goal (issue #2): >= 300k encode+decode per second on one core.
 */
import { randomUUID } from "node:crypto";
import { decodeMessage, encodeMessage, MessageType, PayloadType } from "@aws-runas/wire/protocol/index.js";

export interface CodecResult {
  payloadBytes: number;
  opsPerSecond: number;
}

export function benchCodec(payloadBytes = 1024, seconds = 1.5): CodecResult {
  const payload = Buffer.alloc(payloadBytes, 0x61);
  const messageId = randomUUID();
  let ops = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 1000; i++) {
      const frame = encodeMessage({
        messageType: MessageType.inputStreamData,
        schemaVersion: 1,
        createdDate: 1_700_000_000_000,
        sequenceNumber: ops + i,
        flags: 0,
        messageId,
        payloadType: PayloadType.output,
        payload,
      });
      decodeMessage(frame);
    }
    ops += 1000;
  }
  return { payloadBytes, opsPerSecond: ops / ((performance.now() - start) / 1000) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const size of [1024, 65536]) {
    const r = benchCodec(size);
    console.log(`codec ${size} B: ${Math.round(r.opsPerSecond).toLocaleString()} encode+decode/s`);
  }
}
