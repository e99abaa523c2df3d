import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MuxError } from "@aws-runas/wire/errors.js";
import fc from "fast-check";
import {
  Cmd,
  decodeWindowUpdate,
  describeFrame,
  encodeFrame,
  encodeHeader,
  encodeWindowUpdate,
  type Frame,
  FrameDecoder,
  type FrameHeader,
  MAX_FRAME_LENGTH,
} from "../../packages/aws-runas/src/mux/index.js";
import { hex, refDecodeHeader, refEncodeFrame, refEncodeHeader } from "./reference.js";

/** fast-check settings with a printed, replayable seed (FC_SEED=<n> replays a run). */
function fcParams(t: { diagnostic(message: string): void }, numRuns = 200): fc.Parameters<unknown> {
  const seed = process.env.FC_SEED
    ? Number(process.env.FC_SEED)
    : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  t.diagnostic(`fast-check seed ${seed} (replay with FC_SEED=${seed})`);
  return { seed, numRuns };
}

function dataOf(length: number, salt = 0): Buffer {
  const data = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) data[i] = (i * 31 + salt) & 0xff;
  return data;
}

/** Feeds `chunks` to a fresh decoder and returns every frame, with data copied out. */
function decodeChunks(chunks: Uint8Array[], decoder = new FrameDecoder()): Frame[] {
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    for (const frame of decoder.decode(chunk)) frames.push({ ...frame, data: Buffer.from(frame.data) });
  }
  assert.equal(decoder.bufferedBytes, 0, "no bytes left over");
  return frames;
}

function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

function assertMuxError(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MuxError, `expected a MuxError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

/** The ssm-protocol.md §7.3 [OBS] trace, one frame per entry. */
const trace: Array<{ bytes: string; frame: Omit<FrameHeader, "length">; data: string }> = [
  { bytes: "01 00 0000 03000000", frame: { version: 1, cmd: Cmd.syn, streamId: 3 }, data: "" },
  { bytes: "01 02 0200 03000000 6869", frame: { version: 1, cmd: Cmd.psh, streamId: 3 }, data: "hi" },
  {
    bytes: "01 02 0700 03000000 6563686f3a6869",
    frame: { version: 1, cmd: Cmd.psh, streamId: 3 },
    data: "echo:hi",
  },
  { bytes: "01 01 0000 03000000", frame: { version: 1, cmd: Cmd.fin, streamId: 3 }, data: "" },
];
const traceBytes = Buffer.concat(trace.map((entry) => hex(entry.bytes)));

describe("frame header round trip", () => {
  const table: FrameHeader[] = [
    { version: 1, cmd: Cmd.syn, length: 0, streamId: 3 },
    { version: 1, cmd: Cmd.fin, length: 0, streamId: 0x80000000 },
    { version: 1, cmd: Cmd.psh, length: 1, streamId: 5 },
    { version: 1, cmd: Cmd.psh, length: MAX_FRAME_LENGTH, streamId: 0xffffffff },
    { version: 1, cmd: Cmd.nop, length: 0, streamId: 0 },
    { version: 2, cmd: Cmd.upd, length: 8, streamId: 0xfffffffe },
    { version: 2, cmd: Cmd.psh, length: 0x100, streamId: 0x01020304 },
  ];
  for (const header of table) {
    test(describeFrame(header), () => {
      const expected = Buffer.from(refEncodeHeader(header));
      assert.deepEqual(encodeHeader(header), expected);
      const data = dataOf(header.length);
      const encoded = encodeFrame(header, data);
      assert.equal(encoded.length, 8 + header.length, "exactly sized");
      assert.deepEqual(encoded, Buffer.from(refEncodeFrame(header, data)));
      const [frame, ...rest] = new FrameDecoder().decode(encoded);
      assert.equal(rest.length, 0);
      assert.deepEqual({ ...frame, data: Buffer.from(frame!.data) }, { ...header, data });
    });
  }

  test("encodeHeader writes into a target at an offset", () => {
    const target = Buffer.alloc(12, 0xee);
    encodeHeader({ version: 1, cmd: Cmd.psh, length: 0x1234, streamId: 0x0a0b0c0d }, target, 2);
    assert.equal(target.toString("hex"), "eeee" + "01023412" + "0d0c0b0a" + "eeee");
  });

  test("the encoder matches the DataView reference for any header", (t) => {
    fc.assert(
      fc.property(
        fc.record({
          version: fc.constantFrom(1, 2),
          cmd: fc.integer({ min: 0, max: 4 }),
          length: fc.integer({ min: 0, max: 0xffff }),
          streamId: fc.integer({ min: 0, max: 0xffffffff }),
        }),
        (header) => {
          const encoded = encodeHeader(header);
          assert.deepEqual(encoded, Buffer.from(refEncodeHeader(header)));
          assert.deepEqual(refDecodeHeader(encoded), { ...header });
        },
      ),
      fcParams(t, 500),
    );
  });

  test("window update data: consumed and window, little-endian", () => {
    const data = encodeWindowUpdate({ consumed: 0x01020304, window: 65536 });
    assert.equal(data.toString("hex"), "04030201" + "00000100");
    assert.deepEqual(decodeWindowUpdate(data), { consumed: 0x01020304, window: 65536 });
    assert.equal(
      describeFrame({ version: 2, cmd: Cmd.upd, length: 8, streamId: 3, data }),
      "v2 UPD sid=3 consumed=16909060 window=65536",
    );
  });

  test("describeFrame names unknown commands", () => {
    assert.equal(describeFrame({ version: 9, cmd: 7, length: 1, streamId: 2 }), "v9 CMD(7) sid=2 len=1");
  });
});

describe("ssm-protocol.md §7.3 trace", () => {
  for (const entry of trace) {
    const data = Buffer.from(entry.data);
    test(`${entry.bytes} is ${describeFrame({ ...entry.frame, length: data.length })} "${entry.data}"`, () => {
      const bytes = hex(entry.bytes);
      const frames = new FrameDecoder({ version: 1, maxFrameSize: 32768 }).decode(bytes);
      assert.equal(frames.length, 1);
      assert.deepEqual({ ...frames[0] }, { ...entry.frame, length: data.length, data });
      assert.deepEqual(encodeFrame(entry.frame, data), bytes);
    });
  }

  test("the whole trace in one chunk decodes to the four frames", () => {
    const frames = decodeChunks([traceBytes]);
    assert.deepEqual(
      frames.map((f) => describeFrame(f)),
      ["v1 SYN sid=3 len=0", "v1 PSH sid=3 len=2", "v1 PSH sid=3 len=7", "v1 FIN sid=3 len=0"],
    );
  });
});

describe("FrameDecoder chunk boundaries", () => {
  const expected = decodeChunks([traceBytes]);

  test("every split point of the trace", () => {
    for (let cut = 0; cut <= traceBytes.length; cut++) {
      const frames = decodeChunks([traceBytes.subarray(0, cut), traceBytes.subarray(cut)]);
      assert.deepEqual(frames, expected, `split at ${cut}`);
    }
  });

  test("every pair of split points of the trace", () => {
    for (let a = 0; a <= traceBytes.length; a++) {
      for (let b = a; b <= traceBytes.length; b++) {
        const chunks = [traceBytes.subarray(0, a), traceBytes.subarray(a, b), traceBytes.subarray(b)];
        assert.deepEqual(decodeChunks(chunks), expected, `split at ${a} and ${b}`);
      }
    }
  });

  test("one byte at a time", () => {
    const chunks = [...traceBytes].map((byte) => Uint8Array.of(byte));
    assert.deepEqual(decodeChunks(chunks), expected);
  });

  test("a header split from its body waits for the body", () => {
    const decoder = new FrameDecoder();
    const psh = encodeFrame({ version: 1, cmd: Cmd.psh, streamId: 7 }, dataOf(100));
    decoder.push(psh.subarray(0, 8));
    assert.equal(decoder.next(), undefined);
    assert.equal(decoder.bufferedBytes, 0, "the header is taken, the body is missing");
    decoder.push(psh.subarray(8, 50));
    assert.equal(decoder.next(), undefined);
    decoder.push(psh.subarray(50));
    assert.deepEqual(Buffer.from(decoder.next()!.data), dataOf(100));
    assert.equal(decoder.next(), undefined);
  });

  test("data inside one chunk is a view, data across chunks is assembled", () => {
    // Buffer.alloc never hands out pool memory, so buffer identity below means "a view of the input".
    const input = Buffer.alloc(8 + 64);
    encodeFrame({ version: 1, cmd: Cmd.psh, streamId: 3 }, dataOf(64)).copy(input);
    const whole = new FrameDecoder().decode(input)[0]!;
    assert.equal(whole.data.buffer, input.buffer);
    assert.equal(whole.data.byteOffset, input.byteOffset + 8);
    const decoder = new FrameDecoder();
    decoder.push(input.subarray(0, 20));
    const spanning = decoder.decode(input.subarray(20))[0]!;
    assert.notEqual(spanning.data.buffer, input.buffer);
    assert.deepEqual(Buffer.from(spanning.data), dataOf(64));
  });

  const frameArb = (version: 1 | 2) =>
    fc.oneof(
      fc.record({
        version: fc.constant(version),
        cmd: fc.constantFrom(Cmd.syn, Cmd.fin, Cmd.nop),
        streamId: fc.integer({ min: 0, max: 0xffffffff }),
        data: fc.constant(new Uint8Array(0)),
      }),
      fc.record({
        version: fc.constant(version),
        cmd: fc.constant(Cmd.psh),
        streamId: fc.integer({ min: 0, max: 0xffffffff }),
        data: fc.uint8Array({ minLength: 0, maxLength: 3000 }),
      }),
      ...(version === 2
        ? [
            fc.record({
              version: fc.constant(version),
              cmd: fc.constant(Cmd.upd),
              streamId: fc.integer({ min: 0, max: 0xffffffff }),
              data: fc.uint8Array({ minLength: 8, maxLength: 8 }),
            }),
          ]
        : []),
    );
  const framesArb = fc
    .constantFrom<1 | 2>(1, 2)
    .chain((version) => fc.array(frameArb(version), { maxLength: 30 }));

  test("random frames split at random points decode to the same frames", (t) => {
    fc.assert(
      fc.property(framesArb, fc.array(fc.nat(), { maxLength: 40 }), (frames, cuts) => {
        const bytes = Buffer.concat(frames.map((f) => refEncodeFrame(f, f.data)));
        const decoded = decodeChunks(split(bytes, cuts));
        assert.deepEqual(
          decoded.map((f) => ({ version: f.version, cmd: f.cmd, streamId: f.streamId, data: f.data })),
          frames.map((f) => ({ ...f, data: Buffer.from(f.data) })),
        );
      }),
      fcParams(t),
    );
  });

  test("many frames in one chunk, and the same bytes one byte at a time", (t) => {
    fc.assert(
      fc.property(framesArb, (frames) => {
        const bytes = Buffer.concat(frames.map((f) => refEncodeFrame(f, f.data)));
        const together = decodeChunks([bytes]);
        assert.equal(together.length, frames.length);
        const single = decodeChunks([...bytes].map((b) => Uint8Array.of(b)));
        assert.deepEqual(single, together);
      }),
      fcParams(t, 50),
    );
  });

  test("random garbage only ever throws MuxError", (t) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        const decoder = new FrameDecoder({ maxFrameSize: 32768 });
        try {
          for (const chunk of split(bytes, cuts)) decoder.decode(chunk);
        } catch (error) {
          assert.ok(error instanceof MuxError, `not a MuxError: ${String(error)}`);
          assert.match(error.code, /^MUX_(BAD_FRAME|FRAME_TOO_LARGE)$/);
        }
      }),
      fcParams(t, 1000),
    );
  });
});

describe("FrameDecoder rejects bad frames", () => {
  const cases: Array<{
    name: string;
    bytes: string;
    options?: ConstructorParameters<typeof FrameDecoder>[0];
    code: string;
    message: RegExp;
  }> = [
    {
      name: "version 0",
      bytes: "00 00 0000 03000000",
      code: "MUX_BAD_FRAME",
      message: /version 0 \(expected 1 or 2\)/,
    },
    { name: "version 3", bytes: "03 02 0000 03000000", code: "MUX_BAD_FRAME", message: /version 3/ },
    {
      name: "a v2 frame on a v1 session",
      bytes: "02 03 0000 00000000",
      options: { version: 1 },
      code: "MUX_BAD_FRAME",
      message: /version 2 \(expected 1\)/,
    },
    {
      name: "command 5",
      bytes: "02 05 0000 03000000",
      code: "MUX_BAD_FRAME",
      message: /unknown command 5 for version 2/,
    },
    {
      name: "UPD in v1",
      bytes: "01 04 0800 03000000",
      code: "MUX_BAD_FRAME",
      message: /unknown command 4 for version 1/,
    },
    {
      name: "UPD of 4 bytes",
      bytes: "02 04 0400 03000000",
      code: "MUX_BAD_FRAME",
      message: /UPD carries 4 data bytes \(must be 8\)/,
    },
    {
      name: "SYN with data",
      bytes: "01 00 0100 03000000",
      code: "MUX_BAD_FRAME",
      message: /SYN carries 1 data bytes \(must be 0\)/,
    },
    { name: "NOP with data", bytes: "01 03 0200 00000000", code: "MUX_BAD_FRAME", message: /NOP carries 2/ },
    {
      name: "PSH over the maximum frame size",
      bytes: "01 02 0180 03000000",
      options: { maxFrameSize: 32768 },
      code: "MUX_FRAME_TOO_LARGE",
      message: /32769 bytes on stream 3 exceeds the maximum frame size 32768/,
    },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.code}`, () => {
      const decoder = new FrameDecoder(c.options);
      assertMuxError(() => decoder.decode(hex(c.bytes)), c.code, c.message);
      // Poisoned: the stream is out of step, so it keeps failing.
      assertMuxError(() => decoder.decode(hex("01 03 0000 00000000")), c.code, c.message);
    });
  }

  test("the header is checked before its body arrives", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });
    assertMuxError(() => decoder.decode(hex("01 02 ffff 03000000")), "MUX_FRAME_TOO_LARGE", /65535 bytes/);
  });

  test("the encoder refuses values the fields cannot hold", () => {
    assertMuxError(
      () => encodeFrame({ version: 1, cmd: Cmd.psh, streamId: 3 }, Buffer.alloc(MAX_FRAME_LENGTH + 1)),
      "MUX_FRAME_TOO_LARGE",
      /65536 is outside 0\.\.65535/,
    );
    assertMuxError(
      () => encodeFrame({ version: 1, cmd: Cmd.syn, streamId: 2 ** 32 }),
      "MUX_BAD_FRAME",
      /stream id/,
    );
    assertMuxError(() => encodeFrame({ version: 1, cmd: 5, streamId: 1 }), "MUX_BAD_FRAME", /command 5/);
    assertMuxError(() => encodeFrame({ version: 3, cmd: 0, streamId: 1 }), "MUX_BAD_FRAME", /version 3/);
    assertMuxError(() => decodeWindowUpdate(Buffer.alloc(7)), "MUX_BAD_FRAME", /UPD carries 7/);
  });
});
