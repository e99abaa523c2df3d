/**
 * smux throughput: two MuxSessions over a TCP socket pair on 127.0.0.1, N streams sending
 * concurrently from the client to the server (one direction, so the figure is per direction).
 * Run: node --import tsx bench/mux.bench.ts
 */
import { once } from "node:events";
import { MuxSession, type MuxStream } from "../packages/aws-runas/src/mux/index.js";
import { connectedSocketPair } from "../test/mux/helpers.js";

export interface MuxBenchResult {
  streams: number;
  bytes: number;
  mibPerSecond: number;
}

async function send(stream: MuxStream, bytes: number, chunk: Buffer): Promise<void> {
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!stream.write(chunk)) await once(stream, "drain");
  }
  stream.end();
}

function drain(stream: MuxStream): Promise<number> {
  let received = 0;
  stream.on("data", (c: Buffer) => {
    received += c.length;
  });
  return new Promise((resolve, reject) => {
    stream.once("end", () => resolve(received));
    stream.once("error", reject);
  });
}

/** Sends `totalBytes` split evenly over `streams` streams and measures the rate. */
export async function benchMux(streams: number, totalBytes = 256 * 1024 * 1024): Promise<MuxBenchResult> {
  const [clientSocket, serverSocket] = await connectedSocketPair();
  const client = new MuxSession(clientSocket, { client: true, keepAlive: false });
  const server = new MuxSession(serverSocket, { client: false, keepAlive: false });
  const received: Array<Promise<number>> = [];
  server.on("stream", (s) => {
    received.push(drain(s));
    s.end();
  });
  const perStream = Math.floor(totalBytes / streams);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: streams }, () => {
      const stream = client.openStream();
      stream.resume();
      return send(stream, perStream, chunk);
    }),
  );
  const bytes = (await Promise.all(received)).reduce((a, b) => a + b, 0);
  const seconds = (performance.now() - start) / 1000;
  client.close();
  server.close();
  clientSocket.destroy();
  serverSocket.destroy();
  return { streams, bytes, mibPerSecond: bytes / (1024 * 1024) / seconds };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const streams of [1, 8, 64]) {
    const r = await benchMux(streams);
    console.log(
      `mux ${streams} stream(s): ${r.mibPerSecond.toFixed(0)} MiB/s (${r.bytes / 1024 / 1024} MiB)`,
    );
  }
}
