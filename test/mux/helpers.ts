/** Test helpers for the mux tests: a real socket pair and a raw frame-level peer. */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import type { TestContext } from "node:test";
import { type Frame, FrameDecoder } from "../../packages/aws-runas/src/mux/index.js";

/**
 * Two connected TCP sockets on 127.0.0.1 (ephemeral port). Nagle is off, as Go sets it for every
 * TCP connection: otherwise small frames (v2 UPD) wait for delayed ACKs.
 */
export async function connectedSocketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const client = connect({ port: address.port, host: "127.0.0.1", noDelay: true });
  const [[serverSide]] = await Promise.all([accepted, once(client, "connect")]);
  serverSide.setNoDelay(true);
  server.close();
  return [client, serverSide];
}

/** {@link connectedSocketPair}, destroyed after the test. */
export async function socketPair(t: TestContext): Promise<[Socket, Socket]> {
  const [client, serverSide] = await connectedSocketPair();
  t.after(() => {
    client.destroy();
    serverSide.destroy();
  });
  return [client, serverSide];
}

/** The other end of a session, spoken frame by frame. */
export class RawPeer {
  readonly socket: Socket;
  readonly frames: Frame[] = [];
  readonly bytes: Buffer[] = [];
  #decoder = new FrameDecoder();
  #waiters: Array<() => void> = [];

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.bytes.push(chunk);
      for (const frame of this.#decoder.decode(chunk))
        this.frames.push({ ...frame, data: Buffer.from(frame.data) });
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Waits until `count` frames have arrived in total. */
  async waitFrames(count: number): Promise<Frame[]> {
    while (this.frames.length < count) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.frames;
  }

  /** Every byte received so far, as hex. */
  hex(): string {
    return Buffer.concat(this.bytes).toString("hex");
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }
}

/** sha256 of everything a readable delivers; rejects if it closes without 'end'. */
export function hashOf(stream: Readable): Promise<string> {
  const hash = createHash("sha256");
  return new Promise((resolve, reject) => {
    stream.on("data", (chunk: Buffer) => hash.update(chunk));
    stream.once("end", () => resolve(hash.digest("hex")));
    stream.once("error", reject);
    stream.once("close", () => reject(new Error("closed before end")));
  });
}

/** Everything a readable delivers, as a string. */
export function textOf(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("end", () => resolve(Buffer.concat(chunks).toString()));
    stream.once("error", reject);
    stream.once("close", () => reject(new Error("closed before end")));
  });
}

/** A small deterministic PRNG (mulberry32) for chunk sizes. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes `data` in chunks of random size, waiting for 'drain' whenever write() says so, then ends. */
export async function writeAll(
  stream: Writable,
  data: Buffer,
  seed: number,
  maxChunk = 70_000,
): Promise<void> {
  const random = prng(seed);
  let offset = 0;
  while (offset < data.length) {
    const size = 1 + Math.floor(random() * maxChunk);
    const ok = stream.write(data.subarray(offset, offset + size));
    offset += size;
    if (!ok) await once(stream, "drain");
  }
  stream.end();
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
