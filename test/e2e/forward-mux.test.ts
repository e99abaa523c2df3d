/**
 * Issue #7 acceptance, mux mode (modern agent): many connections at once, remote-host forwarding,
 * a refused destination, local errors, Ctrl-C / SIGTERM, and a clean stdout — built CLI against the
 * built emulator.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import type { Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { INSTANCE, REMOTE_HOSTS } from "../../packages/emulator/src/fixture/default.js";
import {
  collectUntilClosed,
  connectLocal,
  echoRoundTrip,
  type Forward,
  freePort,
  readAll,
  requestLog,
  sessionInfo,
  startEchoServer,
  startForward,
  startServer,
  type TestServer,
} from "./helpers/forward.js";
import { assertOneLineError, type EmulatorProcess, runCli, startEmulatorProcess } from "./helpers/harness.js";

const MiB = 1024 * 1024;

describe("ssm forward, mux mode (built CLI against the built emulator)", () => {
  let emulator: EmulatorProcess;
  let echo: TestServer;
  const forwards: Forward[] = [];
  const sockets: Socket[] = [];
  const servers: TestServer[] = [];

  /** Starts a forward that the `after` hook stops; its stdout must stay empty. */
  const forward = async (args: string[]): Promise<Forward> => {
    const f = await startForward(emulator.env, args);
    forwards.push(f);
    return f;
  };
  const open = async (port: number): Promise<Socket> => {
    const socket = await connectLocal(port);
    sockets.push(socket);
    return socket;
  };

  before(async () => {
    [emulator, echo] = await Promise.all([startEmulatorProcess(), startEchoServer()]);
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(forwards.map((f) => f.stop("SIGKILL")));
    await Promise.all([emulator?.close(), echo?.close(), ...servers.map((s) => s.close())]);
  });

  test("50 concurrent connections each echo 2 MiB intact (sha256)", {}, async () => {
    const f = await forward(["plain", `${INSTANCE.web}:${echo.port}`]);
    const conns = await Promise.all(Array.from({ length: 50 }, () => open(f.port)));
    try {
      const results = await Promise.all(conns.map((socket) => echoRoundTrip(socket, 2 * MiB, 50_000)));
      for (const [i, r] of results.entries()) {
        assert.equal(r.bytes, 2 * MiB, `connection ${i}`);
        assert.equal(r.received, r.sent, `connection ${i}: sha256 differs`);
      }
      assert.ok(echo.accepted() >= 50, "every connection reached the echo server");
      assert.match(f.stderr(), /^Connection accepted for session \[\S+\]$/m);
    } finally {
      // A stalled run must not keep the emulator busy for the tests after it.
      for (const socket of conns) socket.destroy();
      await f.stop("SIGINT");
    }
  });

  test("a handful of concurrent connections are served at once (smux streams)", async () => {
    const f = await forward(["plain", `${INSTANCE.web}:${echo.port}`]);
    const before = echo.accepted();
    const conns = await Promise.all(Array.from({ length: 8 }, () => open(f.port)));
    const results = await Promise.all(conns.map((socket) => echoRoundTrip(socket, 256 * 1024)));
    for (const r of results) assert.equal(r.received, r.sent);
    // All eight were open at the same time, each with its own connection on the far side.
    assert.equal(echo.accepted() - before, 8);
    for (const socket of conns) socket.end();
  });

  test("--host reaches a server the fixture maps to a remote host name", async () => {
    const host = REMOTE_HOSTS[0]!;
    const greeting = `hello-from-${host}-${Math.random().toString(36).slice(2)}`;
    const server = await startServer((socket) => socket.end(greeting));
    servers.push(server);
    const f = await forward(["--host", host, "plain", `${INSTANCE.web}:${server.port}`]);
    const socket = await open(f.port);
    assert.equal((await readAll(socket)).toString(), greeting);
    const session = await sessionInfo(emulator, f.sessionId);
    assert.equal(session?.documentName, "AWS-StartPortForwardingSessionToRemoteHost");
    assert.deepEqual([session?.parameters.host].flat(), [host]);
  });

  test("a refused destination closes that connection with a one-line note; others are served", async () => {
    const port = await freePort();
    const f = await forward(["plain", `${INSTANCE.web}:${port}`]);
    const refused = await open(f.port);
    refused.resume();
    await once(refused, "close");
    const notes = f
      .stderr()
      .split("\n")
      .filter((line) => /refused/i.test(line));
    assert.equal(notes.length, 1, `one note about the refused connection, got: ${f.stderr()}`);
    assert.match(notes[0]!, /^\S.*refused.*$/);
    assert.equal(f.child.exitCode, null, "the forward keeps running");

    // Something listens there now: the same session serves the next connection.
    const server = await startEchoServer(port);
    servers.push(server);
    const socket = await open(f.port);
    const r = await echoRoundTrip(socket, 64 * 1024);
    assert.equal(r.received, r.sent);
    socket.end();
  });

  /** Stops `f` with `signal` and checks exit 0, the closing line and TerminateSession. */
  const assertStopsCleanly = async (f: Forward, signal: NodeJS.Signals) => {
    const terminatesBefore = (await requestLog(emulator)).filter(
      (e) => e.operation === "TerminateSession",
    ).length;
    const exit = await f.stop(signal);
    assert.deepEqual(exit, { code: 0, signal: null }, f.stderr());
    assert.match(f.stderr(), new RegExp(`^Exiting session with sessionId: ${f.sessionId}\\.$`, "m"));
    const terminates = (await requestLog(emulator)).filter(
      (e) => e.operation === "TerminateSession" && e.status === 200,
    );
    assert.ok(terminates.length > terminatesBefore, "TerminateSession was called");
    assert.equal((await sessionInfo(emulator, f.sessionId))?.state, "Terminated");
  };

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    test(`${signal} ends the forward with exit 0 and TerminateSession`, async () => {
      const f = await forward(["plain", `${INSTANCE.web}:${echo.port}`]);
      const socket = await open(f.port);
      const r = await echoRoundTrip(socket, 1024);
      assert.equal(r.received, r.sent);
      socket.end();
      await once(socket, "close");
      await assertStopsCleanly(f, signal);
    });
  }

  test("Ctrl-C while a local connection is still open also exits 0", async () => {
    const f = await forward(["plain", `${INSTANCE.web}:${echo.port}`]);
    const socket = await open(f.port);
    const r = await echoRoundTrip(socket, 1024);
    assert.equal(r.received, r.sent);
    const closed = collectUntilClosed(socket); // subscribe first: it may close while the forward stops
    await assertStopsCleanly(f, "SIGINT");
    assert.ok((await closed).reset, "the open connection is reset, not ended as if complete");
  });

  test("stdout of every forward stayed empty (status lines are on stderr)", () => {
    assert.ok(forwards.length > 0);
    for (const f of forwards) {
      assert.equal(f.stdout(), "", `stdout of session ${f.sessionId}`);
      assert.match(f.stderr(), /^Waiting for connections\.\.\.$/m);
    }
  });

  // -L's twin is in forward-multi.test.ts (its hint names -L).
  for (const command of ["forward", "socks"]) {
    test(`ssm ${command}: a local port already in use: one line and a -p hint, exit != 0`, async () => {
      const held = await startServer(() => {});
      servers.push(held);
      const target = command === "forward" ? `${INSTANCE.web}:${echo.port}` : INSTANCE.web;
      const r = await runCli(["ssm", command, "-p", String(held.port), "plain", target], {
        env: emulator.env,
      });
      assertOneLineError(r, new RegExp(`${held.port}.*in use`), {
        hint: /^hint: choose another port with -p, or leave -p out for a random free port$/,
      });
    });
  }

  for (const bad of ["abc", "70000"]) {
    test(`a malformed local port (-p ${bad}): one line, exit != 0`, async () => {
      const r = await runCli(["ssm", "forward", "-p", bad, "plain", `${INSTANCE.web}:${echo.port}`], {
        env: emulator.env,
      });
      assertOneLineError(r, new RegExp(bad));
    });
  }
});
