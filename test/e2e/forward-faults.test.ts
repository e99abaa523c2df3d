/**
 * Issue #7 acceptance: a 20 MiB transfer through a forward whose websocket the emulator keeps
 * dropping (`--fault drop-websocket-after=200`) arrives intact — built CLI against the built
 * emulator.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import {
  connectLocal,
  echoRoundTrip,
  type Forward,
  requestLog,
  startEchoServer,
  startForward,
  type TestServer,
} from "./helpers/forward.js";
import { type EmulatorProcess, startEmulatorProcess } from "./helpers/harness.js";

const MiB = 1024 * 1024;

describe("ssm forward across websocket drops (--fault drop-websocket-after=200)", () => {
  let emulator: EmulatorProcess;
  let echo: TestServer;
  const forwards: Forward[] = [];
  const sockets: Socket[] = [];

  before(async () => {
    [emulator, echo] = await Promise.all([
      startEmulatorProcess(["--fault", "drop-websocket-after=200"]),
      startEchoServer(),
    ]);
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(forwards.map((f) => f.stop("SIGKILL")));
    await Promise.all([emulator?.close(), echo?.close()]);
  });

  const resumes = async () =>
    (await requestLog(emulator)).filter((e) => e.operation === "ResumeSession").length;

  /** A fresh forward to the echo server and one connection through it. */
  const openForward = async (): Promise<{ f: Forward; socket: Socket }> => {
    const f = await startForward(emulator.env, ["plain", `${INSTANCE.web}:${echo.port}`]);
    forwards.push(f);
    const socket = await connectLocal(f.port);
    sockets.push(socket);
    return { f, socket };
  };

  test("20 MiB in 64 KiB request/response steps arrives intact", async () => {
    const before = await resumes();
    const { f, socket } = await openForward();
    let done = 0;
    while (done < 20 * MiB) {
      const r = await echoRoundTrip(socket, 64 * 1024);
      assert.equal(r.received, r.sent, `sha256 of the step at ${done} bytes`);
      done += r.bytes;
    }
    assert.ok((await resumes()) > before, "the websocket was dropped and the client resumed");
    socket.on("error", () => {}); // Ctrl-C may cut it before the echo's FIN: then it is reset
    socket.end();
    assert.deepEqual(await f.stop("SIGINT"), { code: 0, signal: null }, f.stderr());
    assert.equal(f.stdout(), "");
  });

  test("20 MiB streamed in one go arrives intact (sha256)", {}, async () => {
    const before = await resumes();
    const { f, socket } = await openForward();
    try {
      const r = await echoRoundTrip(socket, 20 * MiB, 30_000);
      assert.equal(r.bytes, 20 * MiB);
      assert.equal(r.received, r.sent, "sha256 differs");
      assert.ok((await resumes()) > before, "the websocket was dropped and the client resumed");
    } finally {
      // A stalled run must not keep the emulator busy for the tests after it.
      socket.destroy();
      await f.stop("SIGINT");
    }
  });
});
