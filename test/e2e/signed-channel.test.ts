/**
 * Issue 15 item 1 acceptance, end to end: an emulator that requires signed data-channel upgrades
 * (`--require-signed-channel`) accepts the built CLI's shell, forward and ssh sessions, with
 * long-term keys and with role credentials (session token signed too). Refusals of unsigned and
 * wrongly signed upgrades are covered in test/emulator/gateway-signed.test.ts.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import {
  connectLocal,
  echoRoundTrip,
  startEchoServer,
  startForward,
  type TestServer,
} from "./helpers/forward.js";
import {
  type EmulatorProcess,
  runCli,
  spawnCli,
  startEmulatorProcess,
  waitForOutput,
} from "./helpers/harness.js";

describe("built CLI against an emulator requiring signed channels", () => {
  let emulator: EmulatorProcess;
  let echo: TestServer;
  before(async () => {
    [emulator, echo] = await Promise.all([
      startEmulatorProcess(["--require-signed-channel", "-vv"]),
      startEchoServer(),
    ]);
  });
  after(() => Promise.all([emulator?.close(), echo?.close()]));

  for (const profile of ["plain", "role"]) {
    test(`ssm shell (${profile})`, async () => {
      const r = await runCli(["ssm", "shell", profile, INSTANCE.web], {
        env: emulator.env,
        input: "echo signed-$((20+22))\nexit\n",
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^signed-42\r?$/m);
    });
  }

  test("ssm forward", async () => {
    const f = await startForward(emulator.env, ["role", `${INSTANCE.web}:${echo.port}`]);
    try {
      const socket = await connectLocal(f.port);
      const r = await echoRoundTrip(socket, 256 * 1024);
      assert.equal(r.received, r.sent);
      socket.destroy();
    } finally {
      assert.deepEqual(await f.stop("SIGINT"), { code: 0, signal: null }, f.stderr());
    }
  });

  test("ssm ssh (standard stream)", async () => {
    // Stdin stays open until the echo is back: at its end the stream session ends at once (§7.4).
    const child = spawnCli(["ssm", "ssh", "plain", `ec2-user@${INSTANCE.web}:${echo.port}`], emulator.env);
    try {
      child.stdin!.write("ping-through-ssh\n");
      await waitForOutput(child.stdout!, /ping-through-ssh\n/);
      child.stdin!.end();
      const [code] = await once(child, "exit");
      assert.equal(code, 0);
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("the gateway refused nothing (every upgrade was signed)", () => {
    assert.doesNotMatch(emulator.stderr(), /upgrade refused/);
  });
});
