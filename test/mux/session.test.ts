import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import type { Socket } from "node:net";
import { describe, type TestContext, test } from "node:test";
import { MuxError } from "@aws-runas/wire/errors.js";
import {
  Cmd,
  describeFrame,
  encodeFrame,
  MuxSession,
  type MuxSessionOptions,
  type MuxStream,
  type MuxVersion,
} from "../../packages/aws-runas/src/mux/index.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { hashOf, RawPeer, sha256, socketPair, textOf, writeAll } from "./helpers.js";
import { hex } from "./reference.js";

const MiB = 1024 * 1024;
/** Random bytes shared by the data tests; each stream sends a different 1 MiB window of it. */
const BASE = randomBytes(2 * MiB);
function payload(tag: number, size = MiB): Buffer {
  const offset = (tag * 7919) % (BASE.length - size);
  return BASE.subarray(offset, offset + size);
}

/** Resolves once a stream has closed, whether or not that already happened. */
function streamClosed(stream: MuxStream): Promise<unknown> {
  return stream.closed ? Promise.resolve() : once(stream, "close");
}

/** Resolves on `close`; unlike events.once it does not reject when `error` comes first. */
function closeOf(session: MuxSession): Promise<void> {
  return new Promise((resolve) => session.once("close", () => resolve()));
}

/** A client and a server session over a real socket pair, closed after the test. */
async function sessionPair(t: TestContext, options: Partial<MuxSessionOptions> = {}) {
  const [clientSocket, serverSocket] = await socketPair(t);
  const client = new MuxSession(clientSocket, { keepAlive: false, ...options, client: true });
  const server = new MuxSession(serverSocket, { keepAlive: false, ...options, client: false });
  t.after(() => {
    client.close();
    server.close();
  });
  return { client, server, clientSocket, serverSocket };
}

/** A client session facing a raw peer that reads and writes frames by hand. */
async function clientAndRawPeer(t: TestContext, options: Partial<MuxSessionOptions> = {}) {
  const [clientSocket, peerSocket] = await socketPair(t);
  const session = new MuxSession(clientSocket, { keepAlive: false, ...options, client: true });
  t.after(() => session.close());
  return { session, peer: new RawPeer(peerSocket), clientSocket, peerSocket };
}

/** The peer opens stream `id` and waits until the session announced it: a sync point. */
async function syncVia(session: MuxSession, peer: RawPeer, id: number): Promise<MuxStream> {
  const announced = once(session, "stream") as Promise<[MuxStream]>;
  peer.send(encodeFrame({ version: 1, cmd: Cmd.syn, streamId: id }));
  const [stream] = await announced;
  assert.equal(stream.id, id);
  return stream;
}

describe("data exchange", () => {
  for (const version of [1, 2] as MuxVersion[]) {
    const streams = version === 1 ? 64 : 16;
    test(`v${version}: ${streams} streams x 1 MiB in both directions at once, sha256 intact`, {
      timeout: 60_000,
    }, async (t) => {
      const { client, server } = await sessionPair(t, { version });
      const serverDone: Array<Promise<{ id: number; received: string }>> = [];
      server.on("stream", (stream) => {
        const received = hashOf(stream);
        const sent = writeAll(stream, payload(stream.id + 100_000), stream.id + 1);
        serverDone.push(Promise.all([received, sent]).then(([hash]) => ({ id: stream.id, received: hash })));
      });
      const clientDone = Array.from({ length: streams }, async () => {
        const stream = client.openStream();
        const [received] = await Promise.all([
          hashOf(stream),
          writeAll(stream, payload(stream.id), stream.id),
        ]);
        return { id: stream.id, received };
      });
      const clientResults = await Promise.all(clientDone);
      assert.equal(serverDone.length, streams);
      const serverResults = await Promise.all(serverDone);
      for (const { id, received } of clientResults) {
        assert.equal(received, sha256(payload(id + 100_000)), `server -> client on stream ${id}`);
      }
      for (const { id, received } of serverResults) {
        assert.equal(received, sha256(payload(id)), `client -> server on stream ${id}`);
      }
      for (const session of [client, server]) {
        const stats = session.stats();
        assert.equal(stats.streams, 0, "every stream left the table");
        assert.equal(stats.receiveBuffered, 0);
        assert.ok(
          stats.peakReceiveBuffered <= session.options.maxReceiveBuffer + session.options.maxFrameSize,
        );
      }
    });
  }
});

describe("stream ids and the ssm-protocol.md §7.3 trace", { timeout: 20_000 }, () => {
  test("client stream ids are 3, 5, 7; server stream ids are 2, 4", async (t) => {
    const { client, server } = await sessionPair(t);
    const accepted: number[] = [];
    server.on("stream", (s) => {
      accepted.push(s.id);
      if (s.id === 9) s.end();
    });
    const clientIds = [client.openStream(), client.openStream(), client.openStream()].map((s) => s.id);
    assert.deepEqual(clientIds, [3, 5, 7]);
    const serverIds = [server.openStream(), server.openStream()].map((s) => s.id);
    assert.deepEqual(serverIds, [2, 4]);
    const clientAccepted: number[] = [];
    client.on("stream", (s) => clientAccepted.push(s.id));
    // A stream opened after the SYNs makes a round trip that proves they all arrived.
    const last = client.openStream();
    last.end();
    await textOf(last);
    assert.deepEqual(accepted, [3, 5, 7, 9]);
    assert.deepEqual(clientAccepted, [2, 4]);
  });

  test("the observed trace, byte for byte, against a raw agent", async (t) => {
    const { session, peer } = await clientAndRawPeer(t);
    const stream = session.openStream();
    stream.write("hi");
    await peer.waitFrames(2);
    assert.equal(peer.hex(), hex("01 00 0000 03000000  01 02 0200 03000000 6869").toString("hex"));
    const reply = textOf(stream);
    peer.send(hex("01 02 0700 03000000 6563686f3a6869"));
    peer.send(hex("01 01 0000 03000000"));
    assert.equal(await reply, "echo:hi");
    assert.equal(stream.muxState, "half-closed-remote");
    stream.end();
    await peer.waitFrames(3);
    assert.equal(describeFrame(peer.frames[2]!), "v1 FIN sid=3 len=0");
    assert.equal(peer.hex().slice(-16), hex("01 01 0000 03000000").toString("hex"));
    await streamClosed(stream);
    assert.equal(session.stats().streams, 0);
  });
});

describe("closing streams", { timeout: 20_000 }, () => {
  test("half-close: one side ends its writes, the other still answers, then ends", async (t) => {
    const { client, server } = await sessionPair(t);
    const serverSide = new Promise<{ request: string; state: string }>((resolve, reject) => {
      server.once("stream", (stream) => {
        textOf(stream).then((request) => {
          const state = stream.muxState;
          stream.end(`answer to ${request}`);
          resolve({ request, state });
        }, reject);
      });
    });
    const stream = client.openStream();
    stream.end("question");
    await new Promise<void>((resolve) => stream.once("finish", resolve));
    assert.equal(stream.muxState, "half-closed-local");
    const answer = await textOf(stream);
    const { request, state } = await serverSide;
    assert.equal(request, "question");
    assert.equal(state, "half-closed-remote", "the server could still write after the client's FIN");
    assert.equal(answer, "answer to question");
    await streamClosed(stream);
    assert.equal(stream.muxState, "closed");
    assert.equal(client.stats().streams, 0);
  });

  test("a stream destroyed by one side ends cleanly on the other", async (t) => {
    const { client, server } = await sessionPair(t);
    const accepted = once(server, "stream") as Promise<[MuxStream]>;
    const stream = client.openStream();
    stream.write("partial");
    stream.destroy();
    assert.equal(client.stats().streams, 0, "destroy frees the stream at once");
    const [remote] = await accepted;
    let errored = false;
    remote.on("error", () => {
      errored = true;
    });
    assert.equal(await textOf(remote), "partial");
    remote.end();
    await streamClosed(remote);
    assert.equal(errored, false);
    assert.equal(server.stats().streams, 0);
  });

  test("frames for unknown streams are ignored and PSH to a closed stream is dropped", async (t) => {
    const { session, peer } = await clientAndRawPeer(t);
    const stream = session.openStream();
    const received = textOf(stream);
    peer.send(encodeFrame({ version: 1, cmd: Cmd.psh, streamId: 3 }, Buffer.from("one")));
    peer.send(encodeFrame({ version: 1, cmd: Cmd.fin, streamId: 3 }));
    assert.equal(await received, "one");
    stream.end();
    await streamClosed(stream);
    peer.send(encodeFrame({ version: 1, cmd: Cmd.psh, streamId: 3 }, Buffer.from("late")));
    peer.send(encodeFrame({ version: 1, cmd: Cmd.psh, streamId: 99 }, Buffer.from("nobody")));
    peer.send(encodeFrame({ version: 1, cmd: Cmd.fin, streamId: 77 }));
    peer.send(encodeFrame({ version: 1, cmd: Cmd.nop, streamId: 0 }));
    const next = await syncVia(session, peer, 2);
    assert.equal(session.closed, false);
    assert.equal(session.stats().streams, 1);
    assert.equal(session.stats().receiveBuffered, 0, "dropped data is not buffered anywhere");
    next.destroy();
  });

  test("without a 'stream' listener an incoming stream is refused with FIN", async (t) => {
    const { session, peer } = await clientAndRawPeer(t);
    peer.send(encodeFrame({ version: 1, cmd: Cmd.syn, streamId: 2 }));
    const frames = await peer.waitFrames(1);
    assert.equal(describeFrame(frames[0]!), "v1 FIN sid=2 len=0");
    assert.equal(session.stats().streams, 0);
  });
});

describe("session life cycle", { timeout: 20_000 }, () => {
  test("close() three times: one close event, streams destroyed, no new streams", async (t) => {
    const { client, server } = await sessionPair(t);
    const stream = client.openStream();
    let closes = 0;
    client.on("close", () => closes++);
    const closed = once(client, "close");
    client.close();
    client.close();
    client.close();
    assert.equal(client.closed, true);
    assert.equal(stream.destroyed, true);
    await closed;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closes, 1);
    assert.throws(
      () => client.openStream(),
      (e: unknown) => e instanceof MuxError && e.code === "MUX_SESSION_CLOSED",
    );
    // The peer sees the transport end and closes too.
    if (!server.closed) await once(server, "close");
  });

  test("a bad frame from the peer: one MUX_BAD_FRAME error, then close", async (t) => {
    const { session, peer } = await clientAndRawPeer(t);
    const errors: MuxError[] = [];
    session.on("error", (e) => errors.push(e));
    const closed = closeOf(session);
    const stream = session.openStream();
    peer.send(hex("09 02 0000 03000000"));
    peer.send(hex("07 07 0000 03000000"));
    await closed;
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, "MUX_BAD_FRAME");
    assert.match(errors[0]!.message, /version 9 \(expected 1\)/);
    assert.equal(stream.destroyed, true);
  });

  test("the transport ending closes the session without an error", async (t) => {
    const { session, peerSocket } = await clientAndRawPeer(t);
    let errored = false;
    session.on("error", () => {
      errored = true;
    });
    const stream = session.openStream();
    peerSocket.end();
    await once(session, "close");
    assert.equal(errored, false);
    assert.equal(stream.destroyed, true);
  });

  test("a transport failure: one MUX_TRANSPORT_ERROR with the cause, then close", async (t) => {
    const { session, clientSocket } = await clientAndRawPeer(t);
    const errors: MuxError[] = [];
    session.on("error", (e) => errors.push(e));
    const closed = closeOf(session);
    const cause = new Error("boom");
    clientSocket.destroy(cause);
    await closed;
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, "MUX_TRANSPORT_ERROR");
    assert.equal(errors[0]!.message, "smux transport failed: boom");
    assert.equal(errors[0]!.cause, cause);
  });

  test("options are checked, and the messages name the bound", () => {
    const transport = { on() {} } as unknown as Socket;
    const cases: Array<[Partial<MuxSessionOptions>, RegExp]> = [
      [{ version: 3 as MuxVersion }, /version must be 1 or 2, got 3/],
      [{ clock: {} as ManualClock }, /clock must have an every\(ms, fn\) function/],
      [{ maxFrameSize: 70_000 }, /maxFrameSize must be between 1 and 65535, got 70000/],
      [{ maxFrameSize: 0 }, /maxFrameSize must be between 1 and 65535, got 0/],
      [{ maxReceiveBuffer: 2 ** 31 }, /maxReceiveBuffer must be between 1 and 2147483647/],
      [
        { maxStreamBuffer: 5 * MiB },
        /maxStreamBuffer must be between 1 and maxReceiveBuffer \(4194304\), got 5242880/,
      ],
      [{ keepAlive: true, keepAliveIntervalMs: 0 }, /keepAliveIntervalMs must be a positive integer, got 0/],
      [
        { keepAlive: true, keepAliveIntervalMs: 10_000, keepAliveTimeoutMs: 5_000 },
        /keepAliveTimeoutMs \(5000\) must be at least keepAliveIntervalMs \(10000\)/,
      ],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => new MuxSession(transport, { client: true, ...options }),
        (e: unknown) => e instanceof MuxError && e.code === "MUX_BAD_OPTION" && message.test(e.message),
        String(message),
      );
    }
  });
});

describe("keepalive", { timeout: 20_000 }, () => {
  test("enabled: a NOP every interval, timers gone after close", async (t) => {
    const clock = new ManualClock();
    const { session, peer } = await clientAndRawPeer(t, {
      keepAlive: true,
      keepAliveIntervalMs: 10_000,
      keepAliveTimeoutMs: 40_000,
      clock,
    });
    assert.deepEqual(clock.activeTimers, [10_000, 40_000]);
    clock.advance(30_000);
    const frames = await peer.waitFrames(3);
    assert.deepEqual(
      frames.map((f) => describeFrame(f)),
      ["v1 NOP sid=0 len=0", "v1 NOP sid=0 len=0", "v1 NOP sid=0 len=0"],
    );
    assert.equal(peer.hex(), "0103000000000000".repeat(3));
    session.close();
    assert.deepEqual(clock.activeTimers, []);
  });

  test("disabled: no timers and no NOP on the wire", async (t) => {
    const clock = new ManualClock();
    const { session, peer } = await clientAndRawPeer(t, { keepAlive: false, clock });
    assert.deepEqual(clock.activeTimers, []);
    clock.advance(60_000);
    const stream = session.openStream();
    stream.end("x");
    const frames = await peer.waitFrames(3);
    assert.deepEqual(
      frames.map((f) => describeFrame(f)),
      ["v1 SYN sid=3 len=0", "v1 PSH sid=3 len=1", "v1 FIN sid=3 len=0"],
    );
  });

  test("timeout: a silent peer closes the session; any frame keeps it alive for one more period", async (t) => {
    const clock = new ManualClock();
    const { session, peer } = await clientAndRawPeer(t, { keepAlive: true, clock });
    const errors: MuxError[] = [];
    session.on("error", (e) => errors.push(e));
    session.on("stream", (s) => s.destroy());
    // The peer sends a NOP; a SYN right behind it tells us both were processed.
    peer.send(encodeFrame({ version: 1, cmd: Cmd.nop, streamId: 0 }));
    await syncVia(session, peer, 2);
    clock.advance(30_000);
    assert.equal(session.closed, false, "traffic during the period keeps the session");
    const closed = closeOf(session);
    clock.advance(30_000);
    assert.equal(session.closed, true, "a whole period of silence closes it");
    await closed;
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, "MUX_KEEPALIVE_TIMEOUT");
    assert.match(errors[0]!.message, /no smux frame from the peer for 30000 ms/);
    assert.deepEqual(clock.activeTimers, []);
  });

  test("no timeout while reading is paused for back-pressure", async (t) => {
    const clock = new ManualClock();
    const { session, peer, clientSocket } = await clientAndRawPeer(t, {
      keepAlive: true,
      clock,
      maxFrameSize: 1024,
      maxStreamBuffer: 1024,
      maxReceiveBuffer: 4096,
    });
    session.on("error", () => {});
    const paused = once(clientSocket, "pause");
    const accepted = once(session, "stream") as Promise<[MuxStream]>;
    peer.send(encodeFrame({ version: 1, cmd: Cmd.syn, streamId: 2 }));
    for (let i = 0; i < 3; i++)
      peer.send(encodeFrame({ version: 1, cmd: Cmd.psh, streamId: 2 }, payload(i, 1024)));
    const [[remote]] = await Promise.all([accepted, paused]);
    clock.advance(90_000);
    assert.equal(session.closed, false, "our own pause is not the peer's silence");
    let received = 0;
    const all = new Promise<void>((resolve) => {
      remote.on("data", (c: Buffer) => {
        received += c.length;
        if (received === 3 * 1024) resolve();
      });
    });
    await all;
    assert.equal(session.stats().readPaused, false);
    clock.advance(60_000);
    assert.equal(session.closed, true, "once reading again, silence counts");
  });
});

describe("back-pressure", { timeout: 60_000 }, () => {
  for (const version of [1, 2] as MuxVersion[]) {
    test(`v${version}: a writer cannot run ahead of a slow reader`, { timeout: 60_000 }, async (t) => {
      const maxStreamBuffer = 64 * 1024;
      const maxReceiveBuffer = version === 1 ? 256 * 1024 : MiB;
      const maxFrameSize = 32 * 1024;
      const { client, server } = await sessionPair(t, {
        version,
        maxStreamBuffer,
        maxReceiveBuffer,
        maxFrameSize,
      });
      const accepted = once(server, "stream") as Promise<[MuxStream]>;
      const stream = client.openStream();
      const [remote] = await accepted;

      // The reader reads only while the writer is blocked, so the writer always runs ahead and the
      // pipeline stays full. A sender that ignored back-pressure would never block, the reader would
      // never read, and produced - consumed would outgrow the bound.
      const total = 64 * MiB;
      const chunk = 16 * 1024;
      // Loopback socket buffers here may autotune up to tcp_rmem max (32 MiB) + tcp_wmem max (4 MiB).
      const bound = 40 * MiB;
      const data = Buffer.alloc(chunk, 0x5a);
      let produced = 0;
      let consumed = 0;
      let readerActive = false;
      const readAvailable = () => {
        for (let c = remote.read() as Buffer | null; c !== null; c = remote.read() as Buffer | null) {
          consumed += c.length;
        }
      };
      remote.on("readable", () => {
        if (readerActive) readAvailable();
      });
      while (produced < total) {
        assert.ok(
          produced - consumed <= bound,
          `writer got ${produced - consumed} bytes ahead of the reader`,
        );
        produced += chunk;
        if (!stream.write(data)) {
          readerActive = true;
          readAvailable();
          await once(stream, "drain");
          readerActive = false;
        }
      }
      const ended = once(remote, "end");
      stream.end();
      readerActive = true;
      readAvailable();
      await ended;
      assert.equal(consumed, total);

      const receiver = server.stats();
      const sender = client.stats();
      t.diagnostic(`receiver ${JSON.stringify(receiver)}`);
      t.diagnostic(`sender ${JSON.stringify(sender)}`);
      assert.ok(receiver.peakReceiveBuffered <= maxReceiveBuffer + maxFrameSize);
      if (version === 1) {
        assert.ok(receiver.readPauses > 0, "the receiver paused its transport");
        assert.ok(receiver.peakStreamReceiveBuffered <= maxStreamBuffer + maxFrameSize);
      } else {
        // v2: the window (256 KiB until the first UPD, then maxStreamBuffer) bounds the stream.
        assert.ok(receiver.peakStreamReceiveBuffered <= 256 * 1024);
      }
      // The sender never piles more than a frame on top of the transport's own high-water mark.
      assert.ok(sender.peakTransportWriteBuffered <= 16 * 1024 + maxFrameSize + 64);
    });
  }

  test("v1: a stream over maxStreamBuffer pauses the transport until its reader catches up", async (t) => {
    const maxStreamBuffer = 64 * 1024;
    const maxFrameSize = 16 * 1024;
    const { session, peer, clientSocket } = await clientAndRawPeer(t, {
      maxStreamBuffer,
      maxReceiveBuffer: 256 * 1024,
      maxFrameSize,
    });
    const paused = once(clientSocket, "pause");
    const accepted = once(session, "stream") as Promise<[MuxStream]>;
    const data = payload(1);
    peer.send(encodeFrame({ version: 1, cmd: Cmd.syn, streamId: 2 }));
    for (let offset = 0; offset < data.length; offset += maxFrameSize) {
      peer.send(
        encodeFrame({ version: 1, cmd: Cmd.psh, streamId: 2 }, data.subarray(offset, offset + maxFrameSize)),
      );
    }
    peer.send(encodeFrame({ version: 1, cmd: Cmd.fin, streamId: 2 }));
    const [[remote]] = await Promise.all([accepted, paused]);
    const stats = session.stats();
    assert.equal(stats.readPaused, true);
    assert.equal(clientSocket.isPaused(), true);
    assert.equal(remote.receiveBuffered, maxStreamBuffer, "paused as soon as the stream reached its limit");
    assert.equal(stats.receiveBuffered, maxStreamBuffer);
    // Reading resumes the transport; the rest of the data follows intact.
    const resumed = once(clientSocket, "resume");
    const received = hashOf(remote);
    await resumed;
    assert.equal(await received, sha256(data));
    assert.ok(session.stats().peakStreamReceiveBuffered <= maxStreamBuffer + maxFrameSize);
  });

  for (const version of [1, 2] as MuxVersion[]) {
    test(`v${version}: the session pauses the transport at maxReceiveBuffer across streams`, async (t) => {
      const maxReceiveBuffer = 128 * 1024;
      const maxFrameSize = 16 * 1024;
      const { session, peer, clientSocket } = await clientAndRawPeer(t, {
        version,
        maxStreamBuffer: 64 * 1024,
        maxReceiveBuffer,
        maxFrameSize,
      });
      const streams: MuxStream[] = [];
      session.on("stream", (s) => streams.push(s));
      const paused = once(clientSocket, "pause");
      const ids = [2, 4, 6, 8];
      for (const id of ids) peer.send(encodeFrame({ version, cmd: Cmd.syn, streamId: id }));
      // Three 16 KiB frames per stream, round robin: 192 KiB in all, no stream over 48 KiB.
      for (let round = 0; round < 3; round++) {
        for (const id of ids) {
          peer.send(
            encodeFrame({ version, cmd: Cmd.psh, streamId: id }, payload(id * 3 + round, maxFrameSize)),
          );
        }
      }
      for (const id of ids) peer.send(encodeFrame({ version, cmd: Cmd.fin, streamId: id }));
      await paused;
      const stats = session.stats();
      assert.equal(stats.readPaused, true);
      assert.equal(stats.receiveBuffered, maxReceiveBuffer, "dispatch stopped at the limit");
      assert.ok(
        streams.every((s) => s.receiveBuffered < 64 * 1024),
        "no stream was over its own limit",
      );
      const results = await Promise.all(streams.map((s) => hashOf(s)));
      assert.deepEqual(
        results,
        ids.map((id) =>
          sha256(Buffer.concat([0, 1, 2].map((round) => payload(id * 3 + round, maxFrameSize)))),
        ),
      );
      assert.ok(session.stats().peakReceiveBuffered <= maxReceiveBuffer + maxFrameSize);
    });
  }
});
