/**
 * Mux uploads into a target that stops reading: the agent's smux server spends its 4 MiB receive
 * bucket, answers the client "not-ready" (no ack, the client resends), and once the target reads
 * again every byte arrives once and in order — the smux byte stream never goes out of step.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { describe, test } from "node:test";
import { MuxSession } from "../../packages/aws-runas/src/mux/session.js";
import { INSTANCE } from "../../packages/emulator/src/index.js";
import { startTestEmulator } from "./helpers/emulator.js";
import { ClientTransport } from "./helpers/mux-transport.js";

/** A target that reads nothing for `stallMs`, then hashes everything until EOF. */
async function startStallingSink(t: { after: (fn: () => unknown) => void }, stallMs: number) {
  const sockets = new Set<Socket>();
  let resolveDigest: (digest: { hex: string; bytes: number }) => void;
  const digest = new Promise<{ hex: string; bytes: number }>((resolve) => {
    resolveDigest = resolve;
  });
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.pause();
    const hash = createHash("sha256");
    let bytes = 0;
    setTimeout(() => {
      socket.on("data", (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
      });
      socket.on("end", () => {
        resolveDigest({ hex: hash.digest("hex"), bytes });
        socket.end();
      });
      socket.resume();
    }, stallMs);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, digest };
}

describe("agent: mux flow control toward the target", () => {
  test("an upload larger than the smux receive buffer into a stalled target arrives intact", async (t) => {
    const emu = await startTestEmulator(t);
    const sink = await startStallingSink(t, 1500);
    const session = emu.startSession(INSTANCE.web, "AWS-StartPortForwardingSession", {
      portNumber: [String(sink.port)],
      localPortNumber: ["0"],
    });
    const client = await emu.connect(session);
    await client.until(() => client.ready, "HandshakeComplete");
    const mux = new MuxSession(new ClientTransport(client), { client: true, keepAlive: false });
    t.after(() => mux.close());
    const stream = mux.openStream();
    stream.on("error", () => {});
    const payload = randomBytes(10 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 64 * 1024) stream.write(payload.subarray(i, i + 64 * 1024));
    stream.end();
    const got = await sink.digest;
    assert.equal(got.bytes, payload.length);
    assert.equal(got.hex, createHash("sha256").update(payload).digest("hex"));
    assert.equal(client.channelClosed, undefined, "the session is still up");
  });
});
