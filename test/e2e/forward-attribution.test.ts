/**
 * Issue 14, Invariant 2: one connection's bytes never reach another connection, and loss is never
 * silent. Built CLI against the built emulator, echo server behind the instance.
 *
 * Basic mode (agent 3.0.196.0) has no connection id and cannot carry a half-close; the forward
 * decides by the protocol's order of events which connection an Output belongs to (README
 * "ssm forward", src/session/port.ts). The emulator that delays every frame toward the client
 * (`--fault delay=300`, order kept) with the agent's 1 KiB / 1 ms read loop (`--pacing
 * realistic`) keeps a connection's echo in flight while the next connection starts; one that
 * corrupts frames (`--fault corrupt-digest=5`) makes the agent send some output again after the
 * acknowledgement of the DisconnectToPort, behind later output.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import {
  type ConnectionEnd,
  collectUntilClosed,
  connectLocal,
  type Forward,
  startEchoServer,
  startForward,
  type TestServer,
} from "./helpers/forward.js";
import { type EmulatorProcess, startEmulatorProcess } from "./helpers/harness.js";

const KB = 1000;

/** Bytes of `data` that are not `value`. */
function foreignBytes(data: Buffer, value: number): number {
  let n = 0;
  for (const byte of data) if (byte !== value) n++;
  return n;
}

/** Resolves once `socket` has received `size` bytes in all (counted from now). */
function received(socket: Socket, size: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length < size) return;
      socket.off("data", onData);
      socket.off("close", onClose);
      resolve();
    };
    const onClose = () => reject(new Error(`closed after ${length}/${size} bytes`));
    socket.on("data", onData);
    socket.once("close", onClose);
  });
}

interface Setup {
  emulator: EmulatorProcess;
  echo: TestServer;
  forwards: Map<string, Forward>;
  sockets: Socket[];
}

function setup(emulatorArgs: string[]): Setup {
  const s = { forwards: new Map<string, Forward>(), sockets: [] as Socket[] } as Setup;
  before(async () => {
    [s.emulator, s.echo] = await Promise.all([startEmulatorProcess(emulatorArgs), startEchoServer()]);
    for (const [mode, instance] of [
      ["basic", INSTANCE.legacy],
      ["mux", INSTANCE.web],
    ] as const) {
      s.forwards.set(
        mode,
        await startForward(s.emulator.env, ["plain", `${instance}:${s.echo.port}`], { globalArgs: ["-v"] }),
      );
    }
  });
  after(async () => {
    for (const socket of s.sockets) socket.destroy();
    await Promise.all([...s.forwards.values()].map((f) => f.stop("SIGKILL")));
    await Promise.all([s.emulator?.close(), s.echo?.close()]);
  });
  return s;
}

async function open(s: Setup, mode: string): Promise<Socket> {
  const socket = await connectLocal(s.forwards.get(mode)!.port, { seeResets: true });
  s.sockets.push(socket);
  return socket;
}

/**
 * The run: connections at once, each sending 300 KB of its own byte value. Half of them
 * half-close right after sending; the others first read their whole echo, then close.
 */
async function concurrentRun(s: Setup, mode: string): Promise<void> {
  const size = 300 * KB;
  const runs = [0x41, 0x42, 0x43, 0x44, 0x45, 0x46].map(async (value, i) => {
    const socket = await open(s, mode);
    const ended = collectUntilClosed(socket, 60_000);
    const readsFirst = i % 2 === 1;
    const echoed = readsFirst ? received(socket, size) : Promise.resolve();
    socket.write(Buffer.alloc(size, value));
    await echoed;
    socket.end();
    return { value, readsFirst, end: await ended };
  });
  const results: Array<{ value: number; readsFirst: boolean; end: ConnectionEnd }> = await Promise.all(runs);
  for (const { value, readsFirst, end } of results) {
    const name = `${mode} connection ${String.fromCharCode(value)} (${end.data.length} bytes back, ${end.reset ? "reset" : "FIN"})`;
    assert.equal(foreignBytes(end.data, value), 0, `${name}: bytes of another connection`);
    assert.ok(end.data.length <= size, `${name}: more than it sent`);
    // Loss is never silent: short of the whole echo, the connection must have been reset.
    assert.ok(end.data.length === size || end.reset, `${name}: a short echo ended with a FIN`);
    if (readsFirst) assert.equal(end.data.length, size, `${name}: read its whole echo before closing`);
    // smux carries the half-close: every echo is complete and ends with a FIN.
    if (mode === "mux") assert.deepEqual([end.data.length, end.reset], [size, false], name);
  }
}

for (const [what, args] of [
  ["no faults", []],
  ["every 5th frame to the client corrupted, so sent again later", ["--fault", "corrupt-digest=5"]],
  [
    "every frame to the client delayed 300 ms, realistic pacing",
    ["--fault", "delay=300", "--pacing", "realistic"],
  ],
] as const) {
  describe(`Invariant 2: concurrent connections never mix (${what})`, () => {
    const s = setup([...args]);
    for (const mode of ["basic", "mux"]) {
      test(`${mode} mode: six connections at once, each sending 300 KB of its own byte`, async () => {
        await concurrentRun(s, mode);
        const f = s.forwards.get(mode)!;
        assert.equal(f.child.exitCode, null, "the forward keeps serving");
        assert.match(f.stderr(), new RegExp(`port session mode: ${mode}`));
      });
    }
  });
}

describe("Invariant 2, basic mode: the old connection's output is still in flight when the next one starts", () => {
  const s = setup(["--fault", "delay=300", "--pacing", "realistic"]);

  for (const how of ["half-closes", "closes"] as const) {
    test(`the first connection ${how} while its echo is in flight: none of it reaches the second`, async () => {
      const size = 64 * 1024;
      const logFrom = s.forwards.get("basic")!.stderr().length;
      const first = await open(s, "basic");
      const firstEnd = collectUntilClosed(first);
      let afterEnd = -1;
      // The first echo byte arrives 300 ms after the agent sent it; the rest of the echo was sent
      // 1 KiB per ms behind it, so most of it is still on its way when the first connection ends.
      const firstByte = received(first, 1);
      first.write(Buffer.alloc(size, 0x61));
      await firstByte;
      if (how === "half-closes") {
        first.end();
        afterEnd = 0;
        first.on("data", (chunk: Buffer) => {
          afterEnd += chunk.length;
        });
      } else {
        first.destroy();
      }
      // At once: the second connection is accepted and sends while the first one's echo is in flight.
      const second = await open(s, "basic");
      const secondEnd = collectUntilClosed(second);
      const secondEcho = received(second, size);
      second.write(Buffer.alloc(size, 0x62));
      await secondEcho;
      second.end();

      const [a, b] = await Promise.all([firstEnd, secondEnd]);
      assert.equal(foreignBytes(b.data, 0x62), 0, "bytes of the first connection reached the second");
      assert.equal(b.data.length, size, "the second connection got its whole echo");
      assert.equal(foreignBytes(a.data, 0x61), 0);
      assert.ok(b.reset, "the second connection was reset after its half-close, not ended with a FIN");
      if (how === "half-closes") {
        assert.ok(afterEnd > 0, "output of the first connection arrived after it ended (was in flight)");
        assert.ok(a.reset, "the half-closed first connection was reset once its output was written");
      } else {
        assert.match(
          s.forwards.get("basic")!.stderr().slice(logFrom),
          /basic mode: dropped \d+ bytes of output/,
          "the in-flight output of the closed connection was dropped",
        );
      }
    });
  }
});

describe("Invariant 2: a connection still open when the session ends is reset, not ended as if complete", () => {
  const s = setup([]);
  for (const [mode, instance] of [
    ["basic", INSTANCE.legacy],
    ["mux", INSTANCE.web],
  ] as const) {
    test(`${mode} mode: Ctrl-C with a connection open`, async () => {
      const f = await startForward(s.emulator.env, ["plain", `${instance}:${s.echo.port}`]);
      s.forwards.set(`${mode}-ctrl-c`, f);
      const socket = await connectLocal(f.port, { seeResets: true });
      s.sockets.push(socket);
      const echoed = received(socket, 4096);
      socket.write(Buffer.alloc(4096, 0x7a));
      await echoed;
      const ended = collectUntilClosed(socket);
      assert.deepEqual(await f.stop("SIGINT"), { code: 0, signal: null }, f.stderr());
      const end = await ended;
      assert.ok(end.reset, `the open ${mode} connection was ended with a FIN`);
    });
  }
});
