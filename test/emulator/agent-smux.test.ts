/**
 * The emulator agent's own smux v1 server (packages/emulator/src/agent/smux) against the byte vectors of
 * ssm-protocol.md §7.3 and xtaci/smux's defaults: frames split anywhere, 32 KiB data frames, the
 * 4 MiB receive token bucket, keepalive only when the agent's version rule turns it on.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, test } from "node:test";
import {
  SMUX_DEFAULTS,
  SmuxServer,
  type SmuxServerOptions,
} from "../../packages/emulator/src/agent/smux/server.js";
import type { SmuxServerStream } from "../../packages/emulator/src/agent/smux/stream.js";
import { ManualClock } from "../helpers/manual-clock.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

// The observed exchange of §7.3.
const SYN_3 = "01 00 0000 03000000";
const PSH_3_HI = "01 02 0200 03000000 6869";
const PSH_3_ECHO = "01 02 0700 03000000 6563686f3a6869";
const FIN_3 = "01 01 0000 03000000";

function server(options: Partial<SmuxServerOptions> = {}) {
  const clock = new ManualClock();
  const out: Buffer[] = [];
  const streams: SmuxServerStream[] = [];
  const mux = new SmuxServer(
    {
      write: (bytes) => {
        out.push(Buffer.from(bytes));
        return true;
      },
      whenReady: () => Promise.resolve(),
    },
    { keepAlive: false, clock, ...options },
  );
  mux.on("stream", (s) => streams.push(s));
  const sent = () => Buffer.concat(out).toString("hex");
  return { clock, mux, out, streams, sent };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("agent smux server (§7.3)", () => {
  test("the observed exchange: SYN 3, PSH hi, PSH echo:hi back, FIN both ways", async () => {
    const s = server();
    assert.equal(s.mux.receive(hex(SYN_3)), "ok");
    assert.equal(s.streams.length, 1);
    const stream = s.streams[0]!;
    assert.equal(stream.id, 3);
    s.mux.receive(hex(PSH_3_HI));
    const [data] = (await once(stream, "data")) as [Buffer];
    assert.equal(data.toString(), "hi");
    stream.write(`echo:${data}`);
    await tick();
    assert.equal(s.sent(), hex(PSH_3_ECHO).toString("hex"));
    stream.end();
    await tick();
    assert.equal(s.sent(), hex(PSH_3_ECHO + FIN_3).toString("hex"));
    const ended = once(stream, "end");
    const closed = once(stream, "close");
    s.mux.receive(hex(FIN_3));
    stream.resume();
    await ended;
    await closed;
    assert.equal(s.mux.streamCount, 0, "a stream closed both ways is forgotten");
    assert.equal(s.out.length, 2, "one FIN only");
  });

  test("frames split anywhere: fed one byte at a time", async () => {
    const s = server();
    const bytes = hex(`${SYN_3} ${PSH_3_HI} 01 00 0000 05000000 01 02 0300 05000000 616263 ${FIN_3}`);
    for (const b of bytes) s.mux.receive(Buffer.from([b]));
    assert.deepEqual(
      s.streams.map((x) => x.id),
      [3, 5],
    );
    const read = async (stream: SmuxServerStream) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      await tick();
      return Buffer.concat(chunks).toString();
    };
    assert.equal(await read(s.streams[0]!), "hi");
    assert.equal(await read(s.streams[1]!), "abc");
    assert.equal(s.streams[0]!.readableEnded, true, "stream 3 got its FIN");
    assert.equal(s.streams[1]!.readableEnded, false);
  });

  test("writes are cut into PSH frames of at most MaxFrameSize (32768) bytes, little-endian fields", async () => {
    const s = server();
    s.mux.receive(hex("01 00 0000 07010000")); // SYN stream 263 (0x107)
    const stream = s.streams[0]!;
    stream.write(Buffer.alloc(70_000, 0x61));
    await tick();
    const frames = s.out;
    assert.deepEqual(
      frames.map((f) => [f[0], f[1], f.readUInt16LE(2), f.readUInt32LE(4), f.length - 8]),
      [
        [1, 2, 32768, 263, 32768],
        [1, 2, 32768, 263, 32768],
        [1, 2, 4464, 263, 4464],
      ],
    );
    assert.equal(SMUX_DEFAULTS.maxFrameSize, 32768);
  });

  test("a spent receive bucket answers not-ready until the reader takes data back", async () => {
    const s = server({ maxReceiveBuffer: 4 });
    let resumed = 0;
    s.mux.onTokens = () => resumed++;
    s.mux.receive(hex(SYN_3));
    const stream = s.streams[0]!;
    stream.pause();
    assert.equal(s.mux.receive(hex("01 02 0500 03000000 6162636465")), "ok");
    assert.ok(s.mux.bucket <= 0, `bucket ${s.mux.bucket}`);
    assert.equal(s.mux.receive(hex("01 02 0100 03000000 66")), "not-ready", "the bytes are not taken");
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.resume(); // the consumer reads: tokens return
    await tick();
    assert.equal(resumed, 1, "the owner hears that it can offer input again");
    assert.equal(s.mux.receive(hex("01 02 0100 03000000 66")), "ok");
    await tick();
    assert.equal(Buffer.concat(chunks).toString(), "abcdef");
    assert.equal(SMUX_DEFAULTS.maxReceiveBuffer, 4 * 1024 * 1024);
  });

  test("data for an unknown stream and a repeated SYN are ignored; a wrong version ends the session", async () => {
    const s = server();
    s.mux.receive(hex("01 02 0100 09000000 7a")); // PSH for stream 9, never opened
    s.mux.receive(hex(SYN_3));
    s.mux.receive(hex(SYN_3));
    assert.equal(s.streams.length, 1);
    const closed = once(s.mux, "close");
    s.mux.receive(hex("02 00 0000 05000000"));
    const [error] = (await closed) as [Error];
    assert.match(error.message, /version 2/);
    assert.equal(s.mux.closed, true);
    assert.equal(s.streams[0]!.destroyed, true);
  });

  test("a destroyed stream still tells the client with a FIN", async () => {
    const s = server();
    s.mux.receive(hex(SYN_3));
    s.streams[0]!.destroy();
    await tick();
    assert.equal(s.sent(), hex(FIN_3).toString("hex"));
    assert.equal(s.mux.streamCount, 0);
  });

  test("keepalive on: NOP every 10 s, the session ends after 30 s without a frame from the client", () => {
    const s = server({ keepAlive: true });
    let closedWith: Error | undefined;
    s.mux.on("close", (e) => {
      closedWith = e;
    });
    s.clock.advance(10_000);
    assert.equal(s.sent(), "0103000000000000", "a NOP on stream 0");
    s.mux.receive(hex("01 03 0000 00000000")); // the client's NOP
    s.clock.advance(20_000);
    assert.equal(s.mux.closed, false, "a frame arrived within the timeout");
    s.clock.advance(30_000);
    assert.equal(s.mux.closed, true);
    assert.match(closedWith?.message ?? "", /keepalive/);
  });

  test("keepalive on: no timeout while the server itself has stopped reading (bucket spent)", () => {
    const s = server({ keepAlive: true, maxReceiveBuffer: 2 });
    s.mux.receive(hex(SYN_3));
    s.mux.receive(hex(PSH_3_HI)); // nobody reads stream 3: the bucket is spent
    assert.ok(s.mux.bucket <= 0);
    s.clock.advance(120_000);
    assert.equal(s.mux.closed, false);
    s.mux.close();
  });

  test("keepalive off (clients newer than 1.2.331.0): no NOP, an idle session lives on", () => {
    const s = server({ keepAlive: false });
    s.clock.advance(10 * 60_000);
    assert.equal(s.out.length, 0);
    assert.equal(s.mux.closed, false);
    s.mux.close();
  });
});
