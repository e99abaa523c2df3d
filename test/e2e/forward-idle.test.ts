/**
 * Issue #7 acceptance: a forward that sits idle for 90 s still carries traffic afterwards — built
 * CLI against the built emulator. (This file takes about 95 s: the idle time is the point.)
 *
 * smux keepalive (ssm-protocol.md §7.3) is decided on each side from the other's version: our
 * client keeps it on for agents up to 3.1.1511.0; the emulated agent keeps it on for clients up to
 * 1.2.331.0 and, like real agents of that age, always when it is itself 3.1.1511.0 or older. If the
 * two sides disagree, the side with keepalive on closes an idle session after 30 s. Two forwards
 * idle side by side:
 * - the fixture's `keepalive` instance (agent 3.1.1446.0): keepalive on on both sides;
 * - the modern `web` instance (agent 3.3.40.0): keepalive off on both sides.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { muxKeepAliveFor } from "../../packages/aws-runas/src/session/versions.js";
import { AGENT_VERSION, INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import {
  connectLocal,
  echoRoundTrip,
  type Forward,
  startEchoServer,
  startForward,
  type TestServer,
} from "./helpers/forward.js";
import { type EmulatorProcess, startEmulatorProcess } from "./helpers/harness.js";

const IDLE_MS = 90_000;

interface IdleForward {
  forward: Forward;
  /** A connection opened (and used) before the idle time. */
  socket: Socket;
}

describe(`ssm forward after ${IDLE_MS / 1000} s idle (built CLI against the built emulator)`, () => {
  let emulator: EmulatorProcess;
  let echo: TestServer;
  const sockets: Socket[] = [];
  let modern: IdleForward;
  let keepAlive: IdleForward;

  const open = async (port: number): Promise<Socket> => {
    const socket = await connectLocal(port);
    sockets.push(socket);
    return socket;
  };
  const startIdleForward = async (instance: string): Promise<IdleForward> => {
    const forward = await startForward(emulator.env, ["plain", `${instance}:${echo.port}`], {
      globalArgs: ["-v"],
    });
    const socket = await open(forward.port);
    const r = await echoRoundTrip(socket, 64 * 1024);
    assert.equal(r.received, r.sent);
    return { forward, socket };
  };

  before(async () => {
    // -vv: the emulator logs the keepalive choice of its agent for each port session.
    [emulator, echo] = await Promise.all([startEmulatorProcess(["-vv"]), startEchoServer()]);
    [modern, keepAlive] = await Promise.all([
      startIdleForward(INSTANCE.web),
      startIdleForward(INSTANCE.keepalive),
    ]);
    // The premise of the test, not a timing assertion: nothing moves for 90 s.
    await new Promise<void>((resolve) => setTimeout(resolve, IDLE_MS));
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all([modern?.forward.stop("SIGKILL"), keepAlive?.forward.stop("SIGKILL")]);
    await Promise.all([emulator?.close(), echo?.close()]);
  });

  /** The emulated agent's keepalive choice for a session, from its `-v` log. */
  const agentKeepAlive = (sessionId: string): string | undefined =>
    new RegExp(`session ${sessionId}: port mux mode .*smux keepalive (on|off)`).exec(emulator.stderr())?.[1];

  test("client and emulated agent agree on keepalive for both agents", () => {
    assert.equal(muxKeepAliveFor(AGENT_VERSION.keepalive), true);
    assert.equal(agentKeepAlive(keepAlive.forward.sessionId), "on");
    assert.equal(muxKeepAliveFor(AGENT_VERSION.modern), false);
    assert.equal(agentKeepAlive(modern.forward.sessionId), "off");
  });

  for (const [name, which] of [
    [`keepalive on (agent ${AGENT_VERSION.keepalive})`, () => keepAlive],
    [`keepalive off (agent ${AGENT_VERSION.modern})`, () => modern],
  ] as const) {
    test(`${name}: the old and a new connection carry traffic`, async () => {
      const { forward, socket } = which();
      assert.equal(forward.child.exitCode, null, `the forward is still running: ${forward.stderr()}`);
      assert.doesNotMatch(forward.stderr(), /no smux frame from the peer/);
      const old = await echoRoundTrip(socket, 256 * 1024, 10_000);
      assert.equal(old.received, old.sent);
      const fresh = await echoRoundTrip(await open(forward.port), 256 * 1024, 10_000);
      assert.equal(fresh.received, fresh.sent);
      assert.equal(forward.stdout(), "");
    });
  }
});
