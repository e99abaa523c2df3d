import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { describe, test } from "node:test";
import { Layout, MessageType } from "@aws-runas/wire/protocol/index.js";
import { INSTANCE } from "../../packages/emulator/src/index.js";
import { startEchoServer, startTestEmulator } from "./helpers/emulator.js";
import type { WireFrame } from "./helpers/raw-client.js";

/** A target that sends `payload` (honouring its own socket's back-pressure) once it receives "go". */
async function startSource(t: { after: (fn: () => unknown) => void }, payload: Buffer) {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("data", () => {
      let offset = 0;
      const pump = () => {
        while (offset < payload.length) {
          const piece = payload.subarray(offset, offset + 65536);
          offset += piece.length;
          if (!socket.write(piece)) return socket.once("drain", pump);
        }
        socket.end();
      };
      pump();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

describe("agent: flow control toward the client", () => {
  test("an unacking client: the agent stops reading its target at the unacked high-water mark, then delivers all", async (t) => {
    const highWater = 64 * 1024;
    const emu = await startTestEmulator(t, { limits: { outgoingHighWaterBytes: highWater } });
    const payload = randomBytes(4 * 1024 * 1024);
    const port = await startSource(t, payload);
    const session = emu.startSession(INSTANCE.legacy, "AWS-StartPortForwardingSession", {
      portNumber: [String(port)],
    });
    const client = await emu.connect(session);
    await client.until(() => client.ready, "HandshakeComplete");
    const agent = emu.gateway.session(session.sessionId)!.agent;

    client.deaf = true;
    client.write("go");
    let peakUnacked = 0;
    let newestSeq = -1;
    let retransmitted = 0;
    const watch = (f: WireFrame) => {
      peakUnacked = Math.max(peakUnacked, agent.stats().unackedBytes);
      if (f.message.messageType !== MessageType.outputStreamData) return;
      if (f.message.sequenceNumber <= newestSeq) retransmitted++;
      newestSeq = Math.max(newestSeq, f.message.sequenceNumber);
    };
    client.on("frame", watch);
    // Watch through a round of retransmissions (≥ one RTO after the channel filled up).
    await client.until(() => agent.endpoint.congested && retransmitted > 20, "congestion and resends");
    const bound = highWater + Layout.fixedSize + 1024;
    assert.ok(peakUnacked <= bound, `unacked data peaked at ${peakUnacked} bytes (bound ${bound})`);
    assert.equal(client.receivedBytes, 0);

    client.off("frame", watch);
    client.deaf = false;
    await client.until(() => client.receivedBytes >= payload.length, "all data", 60_000);
    assert.equal(
      createHash("sha256").update(client.data).digest("hex"),
      createHash("sha256").update(payload).digest("hex"),
    );
  });

  test("realistic pacing: 1 KiB payloads, data intact", async (t) => {
    const emu = await startTestEmulator(t, { pacing: "realistic" });
    const echo = await startEchoServer(t);
    const session = emu.startSession(INSTANCE.legacy, "AWS-StartPortForwardingSession", {
      portNumber: [String(echo.port)],
    });
    const client = await emu.connect(session);
    await client.until(() => client.ready, "HandshakeComplete");
    const data = randomBytes(20_000);
    client.write(data);
    await client.until(() => client.receivedBytes >= data.length, "echo");
    assert.ok(client.data.equals(data));
    for (const f of client.outputFrames()) assert.ok(f.message.payload.length <= 1024);
  });
});
