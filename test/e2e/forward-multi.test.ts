/**
 * Issue #17: several `-L` forwards in one process and the bind address (`--address`, the
 * bind_address of `-L`), built CLI against the built emulator.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { INSTANCE, REMOTE_HOSTS } from "../../packages/emulator/src/fixture/default.js";
import {
  collectUntilClosed,
  connectLocal,
  echoRoundTrip,
  type RunningCli,
  requestLog,
  sessionInfo,
  startEchoServer,
  startForward,
  startUntil,
  type TestServer,
} from "./helpers/forward.js";
import { assertOneLineError, type EmulatorProcess, runCli, startEmulatorProcess } from "./helpers/harness.js";

const MiB = 1024 * 1024;
const FORWARDING = /^Forwarding (\S+) -> (\S+) \(sessionId (\S+)\)\.$/gm;

interface Listening {
  host: string;
  port: number;
  destination: string;
  sessionId: string;
}

/** `[::1]:8080` / `127.0.0.1:8080` → host and port. */
function splitListen(text: string): { host: string; port: number } {
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(text)!;
  return { host: m[1]!, port: Number(m[2]) };
}

describe("ssm forward -L and --address (built CLI against the built emulator)", () => {
  let emulator: EmulatorProcess;
  let echoes: TestServer[] = [];
  const running: Array<{ stop(signal?: NodeJS.Signals): Promise<unknown> }> = [];
  const sockets: Socket[] = [];

  const startMulti = async (args: string[], count: number): Promise<RunningCli<Listening[]>> => {
    const run = await startUntil(emulator.env, ["ssm", "forward", ...args], (stderr) => {
      if (!/^Waiting for connections\.\.\.$/m.test(stderr)) return undefined;
      const found = [...stderr.matchAll(FORWARDING)].map((m) => ({
        ...splitListen(m[1]!),
        destination: m[2]!,
        sessionId: m[3]!,
      }));
      return found.length === count ? found : undefined;
    });
    running.push(run);
    return run;
  };
  const open = async (port: number, host?: string) => {
    const socket = await connectLocal(port, host);
    // Ctrl-C resets connections that are still open; that is checked by their close, not here.
    socket.on("error", () => {});
    sockets.push(socket);
    return socket;
  };

  before(async () => {
    emulator = await startEmulatorProcess();
    echoes = await Promise.all([startEchoServer(), startEchoServer(), startEchoServer()]);
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(running.map((r) => r.stop("SIGKILL")));
    await Promise.all([emulator?.close(), ...echoes.map((e) => e.close())]);
  });

  test("three -L forwards (instance port, remote host, IPv6 bind) carry data at once; SIGINT ends all three", async () => {
    const [self, remote, v6] = echoes as [TestServer, TestServer, TestServer];
    const host = REMOTE_HOSTS[0]!;
    const run = await startMulti(
      [
        "-L",
        `0:localhost:${self.port}`,
        "-L",
        `0:${host}:${remote.port}`,
        "-L",
        `[::1]:0:localhost:${v6.port}`,
        "plain",
        INSTANCE.web,
      ],
      3,
    );
    const listening = run.ready;
    assert.deepEqual(
      listening.map((l) => [l.host, l.destination]),
      [
        ["127.0.0.1", `localhost:${self.port}`],
        ["127.0.0.1", `${host}:${remote.port}`],
        ["::1", `localhost:${v6.port}`],
      ],
    );
    assert.equal(new Set(listening.map((l) => l.sessionId)).size, 3, "each destination has its own session");
    assert.doesNotMatch(run.stderr(), /warning/, "loopback binds need no warning");

    const acceptedBefore = echoes.map((e) => e.accepted());
    const conns = await Promise.all(listening.map((l) => open(l.port, l.host)));
    const results = await Promise.all(conns.map((socket) => echoRoundTrip(socket, MiB)));
    for (const [i, r] of results.entries()) assert.equal(r.received, r.sent, `forward ${i}: sha256`);
    assert.deepEqual(
      echoes.map((e, i) => e.accepted() - acceptedBefore[i]!),
      [1, 1, 1],
      "each forward reached its own destination",
    );

    const documents = await Promise.all(listening.map((l) => sessionInfo(emulator, l.sessionId)));
    assert.deepEqual(
      documents.map((d) => d?.documentName),
      [
        "AWS-StartPortForwardingSession",
        "AWS-StartPortForwardingSessionToRemoteHost",
        "AWS-StartPortForwardingSession",
      ],
    );
    assert.deepEqual([documents[1]?.parameters.host].flat(), [host]);

    const terminatesBefore = (await requestLog(emulator)).filter(
      (e) => e.operation === "TerminateSession",
    ).length;
    const closed = conns.map((socket) => collectUntilClosed(socket));
    const exit = await run.stop("SIGINT");
    assert.deepEqual(exit, { code: 0, signal: null }, run.stderr());
    for (const end of await Promise.all(closed)) assert.ok(end.reset, "open connections are reset on Ctrl-C");
    const terminates = (await requestLog(emulator)).filter(
      (e) => e.operation === "TerminateSession" && e.status === 200,
    );
    assert.equal(terminates.length - terminatesBefore, 3, "one TerminateSession per session");
    for (const l of listening) {
      assert.equal((await sessionInfo(emulator, l.sessionId))?.state, "Terminated");
      assert.match(run.stderr(), new RegExp(`^Exiting session with sessionId: ${l.sessionId}\\.$`, "m"));
    }
    assert.equal(run.stdout(), "");
  });

  test("a -L whose session the agent ends (a denied address) closes its listener; the other keeps serving", async () => {
    const run = await startMulti(
      ["-L", "0:169.254.169.254:80", "-L", `0:localhost:${echoes[0]!.port}`, "plain", INSTANCE.web],
      2,
    );
    const [denied, good] = run.ready as [Listening, Listening];
    const deadline = Date.now() + 15_000;
    while (!/is forbidden/.test(run.stderr()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(
      run.stderr(),
      new RegExp(
        `^aws-runas: session ${denied.sessionId} ended: Forwarding to IP address 169\\.254\\.169\\.254 is forbidden\\.$`,
        "m",
      ),
    );
    assert.doesNotMatch(run.stderr(), /^Exiting session/m, "an error end is its one line, no closing line");
    await assert.rejects(connectLocal(denied.port), /ECONNREFUSED/, "its listener is closed");
    const socket = await open(good.port);
    const r = await echoRoundTrip(socket, 64 * 1024);
    assert.equal(r.received, r.sent);
    socket.end();
    assert.equal(run.child.exitCode, null, "the process keeps running for the other forward");
    // One destination ended with an error: the run was not a normal end, even after Ctrl-C.
    assert.deepEqual(await run.stop("SIGINT"), { code: 1, signal: null });
  });

  test("--address ::1 listens on IPv6 loopback, without a warning", async () => {
    const f = await startForward(emulator.env, [
      "--address",
      "::1",
      "plain",
      `${INSTANCE.web}:${echoes[0]!.port}`,
    ]);
    running.push(f);
    const socket = await open(f.port, "::1");
    const r = await echoRoundTrip(socket, 64 * 1024);
    assert.equal(r.received, r.sent);
    assert.doesNotMatch(f.stderr(), /warning/);
    socket.end();
    assert.deepEqual(await f.stop("SIGTERM"), { code: 0, signal: null });
  });

  test("a non-loopback address prints exactly one warning line and still serves", async () => {
    const f = await startForward(emulator.env, [
      "--address",
      "0.0.0.0",
      "plain",
      `${INSTANCE.web}:${echoes[0]!.port}`,
    ]);
    running.push(f);
    const warnings = f
      .stderr()
      .split("\n")
      .filter((line) => /warning/i.test(line));
    assert.equal(warnings.length, 1, f.stderr());
    assert.match(
      warnings[0]!,
      /^warning: listening on 0\.0\.0\.0:\d+, .*others on that network can use the tunnel$/,
    );
    const socket = await open(f.port);
    const r = await echoRoundTrip(socket, 1024);
    assert.equal(r.received, r.sent);
    socket.end();
    assert.deepEqual(await f.stop("SIGINT"), { code: 0, signal: null });
  });

  test("-L with a busy local port fails with one line before any session starts", async () => {
    const held = await startEchoServer();
    echoes.push(held);
    const starts = (await requestLog(emulator)).filter((e) => e.operation === "StartSession").length;
    const r = await runCli(
      ["ssm", "forward", "-L", `0:localhost:80`, "-L", `${held.port}:localhost:80`, "plain", INSTANCE.web],
      { env: emulator.env },
    );
    assertOneLineError(r, new RegExp(`${held.port}.*in use`), { hint: /^hint: .*-L$/ });
    assert.doesNotMatch(r.stderr, /-p\b/, "no flag of another form");
    assert.equal((await requestLog(emulator)).filter((e) => e.operation === "StartSession").length, starts);
  });
});
