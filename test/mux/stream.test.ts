import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, test } from "node:test";
import { MuxError } from "@aws-runas/wire/errors.js";
import {
  type Cmd,
  cmdName,
  decodeWindowUpdate,
  encodeWindowUpdate,
  type MuxVersion,
} from "@aws-runas/wire/mux/frame.js";
import {
  INITIAL_PEER_WINDOW,
  MuxStream,
  type MuxStreamHooks,
} from "../../packages/aws-runas/src/mux/stream.js";

/** A fake session: records frames and buffer reports, and lets the test congest the transport. */
class FakeSession implements MuxStreamHooks {
  frames: Array<{ streamId: number; cmd: string; data: Buffer }> = [];
  congested = false;
  waiters: Array<() => void> = [];
  buffered = 0;
  congestedReports: boolean[] = [];
  detached: number[] = [];
  /** The transport congests after this many more frames. */
  framesUntilCongested = Number.POSITIVE_INFINITY;

  sendFrame(streamId: number, cmd: Cmd, data = Buffer.alloc(0)): boolean {
    this.frames.push({ streamId, cmd: cmdName(cmd), data: Buffer.from(data) });
    if (--this.framesUntilCongested <= 0) this.congested = true;
    return !this.congested;
  }
  canSend(): boolean {
    return !this.congested;
  }
  waitWritable(resume: () => void): void {
    this.waiters.push(resume);
  }
  receiveBufferChanged(_stream: MuxStream, delta: number, congested: boolean): void {
    this.buffered += delta;
    this.congestedReports.push(congested);
  }
  detach(stream: MuxStream): void {
    this.detached.push(stream.id);
  }
  drain(frames = Number.POSITIVE_INFINITY): void {
    this.congested = false;
    this.framesUntilCongested = frames;
    for (const resume of this.waiters.splice(0)) resume();
  }
  summary(): string[] {
    return this.frames.map((f) => `${f.cmd} ${f.streamId} ${f.data.length}`);
  }
}

function makeStream(options: { version?: MuxVersion; maxFrameSize?: number; maxStreamBuffer?: number } = {}) {
  const hooks = new FakeSession();
  const stream = new MuxStream({
    id: 3,
    version: options.version ?? 1,
    maxFrameSize: options.maxFrameSize ?? 32768,
    maxStreamBuffer: options.maxStreamBuffer ?? 65536,
    hooks,
  });
  return { hooks, stream };
}

describe("MuxStream sending", () => {
  test("a write is cut into frames of at most maxFrameSize", async () => {
    const { hooks, stream } = makeStream();
    const data = Buffer.alloc(100_000, 7);
    await new Promise<void>((resolve, reject) => stream.write(data, (e) => (e ? reject(e) : resolve())));
    assert.deepEqual(hooks.summary(), ["PSH 3 32768", "PSH 3 32768", "PSH 3 32768", "PSH 3 1696"]);
    assert.deepEqual(Buffer.concat(hooks.frames.map((f) => f.data)), data);
  });

  test("the write callback is held while the transport is congested", async () => {
    const { hooks, stream } = makeStream({ maxFrameSize: 1000 });
    hooks.congested = true;
    let done = false;
    stream.write(Buffer.alloc(2500), () => {
      done = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, false);
    assert.deepEqual(hooks.summary(), []);
    assert.equal(hooks.waiters.length, 1);
    // The transport takes one frame and congests again: the rest waits for the next drain.
    hooks.drain(1);
    assert.deepEqual(hooks.summary(), ["PSH 3 1000"]);
    assert.equal(hooks.waiters.length, 1);
    hooks.drain();
    assert.deepEqual(hooks.summary(), ["PSH 3 1000", "PSH 3 1000", "PSH 3 500"]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, true);
  });

  test("end() sends FIN after the data; a later destroy() sends no second FIN", async () => {
    const { hooks, stream } = makeStream();
    stream.end("bye");
    await once(stream, "finish");
    assert.equal(stream.muxState, "half-closed-local");
    stream.destroy();
    assert.deepEqual(hooks.summary(), ["PSH 3 3", "FIN 3 0"]);
    assert.equal(stream.muxState, "closed");
    assert.deepEqual(hooks.detached, [3]);
  });

  test("destroy() sends FIN once and fails a write still waiting for the transport", async () => {
    const { hooks, stream } = makeStream();
    hooks.congested = true;
    const written = new Promise<Error | null | undefined>((resolve) => stream.write("x", resolve));
    stream.destroy();
    stream.destroy();
    const error = await written;
    assert.ok(error instanceof MuxError);
    assert.equal(error.code, "MUX_STREAM_DESTROYED");
    assert.deepEqual(hooks.summary(), ["FIN 3 0"]);
    assert.deepEqual(hooks.detached, [3]);
  });
});

describe("MuxStream receiving", () => {
  test("unread bytes are reported, and congestion at maxStreamBuffer", () => {
    const { hooks, stream } = makeStream({ maxStreamBuffer: 100 });
    assert.equal(stream.receiveData(Buffer.alloc(60)), true);
    assert.equal(hooks.buffered, 60);
    assert.equal(hooks.congestedReports.at(-1), false);
    stream.receiveData(Buffer.alloc(60));
    assert.equal(hooks.buffered, 120);
    assert.equal(hooks.congestedReports.at(-1), true);
    assert.equal(stream.read(50)?.length, 50);
    assert.equal(hooks.buffered, 70);
    assert.equal(hooks.congestedReports.at(-1), false);
    assert.equal(stream.receiveBuffered, 70);
  });

  test("a flowing consumer takes data straight away", () => {
    const { hooks, stream } = makeStream();
    const seen: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => seen.push(chunk));
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        stream.receiveData(Buffer.from("abc"));
        assert.equal(Buffer.concat(seen).toString(), "abc");
        assert.equal(hooks.buffered, 0);
        resolve();
      });
    });
  });

  test("FIN ends the readable side after the data; the stream can still write", async () => {
    const { hooks, stream } = makeStream();
    stream.receiveData(Buffer.from("request"));
    stream.receiveFin();
    assert.equal(stream.muxState, "half-closed-remote");
    assert.equal(stream.receiveData(Buffer.from("late")), false, "data after FIN is dropped");
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    await once(stream, "end");
    assert.equal(Buffer.concat(chunks).toString(), "request");
    stream.end("response");
    await once(stream, "close");
    assert.deepEqual(hooks.summary(), ["PSH 3 8", "FIN 3 0"]);
    assert.deepEqual(hooks.detached, [3]);
    assert.equal(hooks.buffered, 0);
  });

  test("destroy() returns unread bytes to the session", () => {
    const { hooks, stream } = makeStream({ maxStreamBuffer: 10 });
    stream.receiveData(Buffer.alloc(30));
    assert.equal(hooks.buffered, 30);
    stream.destroy();
    assert.equal(hooks.buffered, 0);
    assert.equal(hooks.congestedReports.at(-1), false);
    assert.equal(stream.receiveData(Buffer.alloc(5)), false);
  });
});

describe("MuxStream v2 windows", () => {
  test("UPD on the first read, then after every half window", () => {
    const { hooks, stream } = makeStream({ version: 2, maxStreamBuffer: 1000 });
    stream.receiveData(Buffer.alloc(300));
    assert.deepEqual(hooks.summary(), []);
    stream.read(100);
    stream.read(100);
    stream.receiveData(Buffer.alloc(600));
    stream.read(400); // consumed 600 in all, 500 since the first UPD
    const updates = hooks.frames.filter((f) => f.cmd === "UPD").map((f) => decodeWindowUpdate(f.data));
    assert.deepEqual(updates, [
      { consumed: 100, window: 1000 },
      { consumed: 600, window: 1000 },
    ]);
  });

  test("sending stops at the peer's window and goes on after its UPD", async () => {
    const { hooks, stream } = makeStream({ version: 2 });
    let done = false;
    stream.write(Buffer.alloc(INITIAL_PEER_WINDOW + 5000), () => {
      done = true;
    });
    const sent = () => hooks.frames.reduce((n, f) => n + f.data.length, 0);
    assert.equal(sent(), INITIAL_PEER_WINDOW);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, false);
    stream.receiveWindowUpdate(
      decodeWindowUpdate(encodeWindowUpdate({ consumed: 2000, window: INITIAL_PEER_WINDOW })),
    );
    assert.equal(sent(), INITIAL_PEER_WINDOW + 2000);
    stream.receiveWindowUpdate({ consumed: INITIAL_PEER_WINDOW, window: 65536 });
    assert.equal(sent(), INITIAL_PEER_WINDOW + 5000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, true);
  });
});
