/**
 * Issue #7 acceptance, basic mode (the fixture's old agent, 3.0.196.0): one connection at a time —
 * connections in sequence both work, and a second simultaneous one waits and is then served.
 * Built CLI against the built emulator.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import {
  collectUntilClosed,
  connectLocal,
  echoRoundTrip,
  type Forward,
  startEchoServer,
  startForward,
  startServer,
  type TestServer,
} from "./helpers/forward.js";
import { type EmulatorProcess, startEmulatorProcess } from "./helpers/harness.js";

/** Resolves with the next `size` bytes of `socket`. */
function readExactly(socket: Socket, size: number, timeoutMs = 15_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const timer = setTimeout(() => {
      socket.off("data", onData);
      reject(new Error(`only ${length}/${size} bytes arrived in ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length < size) return;
      clearTimeout(timer);
      socket.off("data", onData);
      const all = Buffer.concat(chunks);
      if (all.length > size) socket.unshift(all.subarray(size));
      resolve(all.subarray(0, size));
    };
    socket.on("data", onData);
  });
}

describe("ssm forward, basic mode (built CLI against the built emulator)", () => {
  let emulator: EmulatorProcess;
  let echo: TestServer;
  let f: Forward;
  const sockets: Socket[] = [];
  const open = async (port = f.port): Promise<Socket> => {
    const socket = await connectLocal(port);
    sockets.push(socket);
    return socket;
  };
  /** Half-closes: basic mode cannot carry that, so the forward ends the connection with a reset. */
  const close = async (socket: Socket): Promise<void> => {
    const ended = collectUntilClosed(socket);
    socket.end();
    const { reset } = await ended;
    assert.ok(reset, "a connection the forward closes is reset, never ended as if complete");
  };

  before(async () => {
    [emulator, echo] = await Promise.all([startEmulatorProcess(), startEchoServer()]);
    // -v: the debug log names the port mode the client chose.
    f = await startForward(emulator.env, ["plain", `${INSTANCE.legacy}:${echo.port}`], {
      globalArgs: ["-v"],
    });
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await f?.stop("SIGKILL");
    await Promise.all([emulator?.close(), echo?.close()]);
  });

  test("two connections in sequence both work", async () => {
    for (let i = 0; i < 2; i++) {
      const socket = await open();
      const r = await echoRoundTrip(socket, 256 * 1024);
      assert.equal(r.received, r.sent, `connection ${i + 1}`);
      // Data flowed, so the session is ready and the client has logged its choice.
      assert.match(f.stderr(), /port session mode: basic/);
      await close(socket);
    }
  });

  test("a second simultaneous connection waits, then is served once the first closes", async () => {
    const first = await open();
    assert.equal((await echoRoundTrip(first, 4096)).bytes, 4096);
    const second = await open();
    let secondBytes = 0;
    const counting = (chunk: Buffer) => {
      secondBytes += chunk.length;
    };
    second.on("data", counting);
    second.write("waiting");
    // More round trips on the first connection while the second one waits with data queued: in
    // basic mode nothing of it may come back while the first is open.
    for (let i = 0; i < 3; i++) {
      const again = await echoRoundTrip(first, 64 * 1024);
      assert.equal(again.received, again.sent);
    }
    assert.equal(secondBytes, 0, "the second connection was not served while the first was open");

    second.off("data", counting);
    const waited = readExactly(second, "waiting".length);
    await close(first);
    assert.equal((await waited).toString(), "waiting", "the waiting bytes were delivered after all");
    const r = await echoRoundTrip(second, 128 * 1024);
    assert.equal(r.received, r.sent);
    await close(second);
  });

  test("a destination that speaks first: its greeting, sent before any connection, reaches the first one", async () => {
    // The agent dials at session start (§7.2), so the greeting is sent before anyone connects.
    let greeted!: () => void;
    const sent = new Promise<void>((resolve) => {
      greeted = resolve;
    });
    const banner = await startServer((socket) => {
      socket.write("HELLO from the destination\n", () => greeted());
      socket.pipe(socket);
    });
    const g = await startForward(emulator.env, ["plain", `${INSTANCE.legacy}:${banner.port}`]);
    try {
      await sent;
      const socket = await open(g.port);
      assert.equal((await readExactly(socket, 27)).toString(), "HELLO from the destination\n");
      const r = await echoRoundTrip(socket, 4096);
      assert.equal(r.received, r.sent);
      await close(socket);
    } finally {
      await g.stop("SIGKILL");
      await banner.close();
    }
  });

  test("the forward printed its status on stderr only and keeps serving", async () => {
    assert.equal(f.stdout(), "");
    assert.match(f.stderr(), /^Waiting for connections\.\.\.$/m);
    assert.equal(f.child.exitCode, null, "still serving");
  });
});
