/**
 * Issue 15 item 3, end to end: a forward and a shell on `role-mfa` (GetSessionToken with MFA,
 * then AssumeRole for 15 minutes) live while the emulator clock runs at 90× and the websocket is
 * recycled every second, so the role credentials expire several times within one session and
 * every ResumeSession / signed reconnect comes late. The role is re-assumed from the cached
 * session token — no MFA again (there is no terminal to ask on, so a prompt would fail) — and
 * AWS never sees expired credentials.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Secret, TOTP } from "otpauth";
import { ALICE, INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import {
  connectLocal,
  echoRoundTrip,
  type Forward,
  startEchoServer,
  startForward,
  type TestServer,
} from "./helpers/forward.js";
import { type EmulatorProcess, spawnCli, startEmulatorProcess } from "./helpers/harness.js";

const SPEED = 90;

describe("credentials expiring several times during one session (emulator clock at 90x)", () => {
  let emulator: EmulatorProcess;
  let echo: TestServer;
  const forwards: Forward[] = [];
  before(async () => {
    [emulator, echo] = await Promise.all([
      startEmulatorProcess(["--require-signed-channel", "--fault", "recycle-websocket-every=1", "-vv"]),
      startEchoServer(),
    ]);
  });
  after(async () => {
    await Promise.all(forwards.map((f) => f.stop("SIGKILL")));
    await Promise.all([emulator?.close(), echo?.close()]);
  });

  const clockNow = async () =>
    Date.parse(((await emulator.admin("/_emulator/clock")) as { now: string }).now);
  const totp = async () =>
    new TOTP({ secret: Secret.fromBase32(ALICE.mfaSecretBase32) }).generate({ timestamp: await clockNow() });
  const log = async () =>
    (await emulator.admin("/_emulator/requests")) as Array<{
      operation: string;
      status: number;
      errorCode?: string;
    }>;

  test("forward and shell keep working; the role is re-assumed without MFA; no call is refused", async () => {
    const env = { ...emulator.env, MFA_CODE: await totp() };
    const f = await startForward(env, ["role-mfa", `${INSTANCE.web}:${echo.port}`], {
      globalArgs: ["-a", "15m"],
    });
    forwards.push(f);
    const shell = spawnCli(["-a", "15m", "ssm", "shell", "role-mfa", INSTANCE.web], {
      ...env,
      MFA_CODE: await totp(),
    });
    let shellOut = "";
    let shellErr = "";
    shell.stdout!.on("data", (d: Buffer) => {
      shellOut += d.toString();
    });
    shell.stderr!.on("data", (d: Buffer) => {
      shellErr += d.toString();
    });
    shell.stdin!.on("error", () => {});
    const socket = await connectLocal(f.port);
    const startedAt = await clockNow();
    // 45 minutes of session time: the 15-minute role credentials are refreshed every ~10 minutes
    // (both processes share the role cache, so about 1 + 4 AssumeRole calls in all).
    for (let step = 0; step < 60; step++) {
      await emulator.admin("/_emulator/clock", { advanceSeconds: SPEED / 2 });
      const r = await echoRoundTrip(socket, 8 * 1024);
      assert.equal(r.received, r.sent, `echo at step ${step}`);
      shell.stdin!.write(`echo tick-${step}-$((${step}+1000))\n`);
      await sleep(500);
    }
    assert.ok((await clockNow()) - startedAt >= 44 * 60_000, "45 minutes of emulator time went by");
    shell.stdin!.end("exit\n");
    const [code] = await once(shell, "exit");
    assert.equal(code, 0, shellErr);
    const ticks = [...shellOut.matchAll(/^tick-(\d+)-(\d+)\r?$/gm)].map((m) => Number(m[2]) - 1000);
    assert.deepEqual(
      ticks,
      Array.from({ length: 60 }, (_, i) => i),
      "every shell line once, in order",
    );
    socket.destroy();
    assert.deepEqual(await f.stop("SIGINT"), { code: 0, signal: null }, f.stderr());

    const entries = await log();
    const count = (op: string) => entries.filter((e) => e.operation === op && e.status === 200).length;
    assert.equal(count("GetSessionToken"), 1, "one MFA sign-in: the cached session token is reused");
    assert.ok(
      count("AssumeRole") >= 4,
      `the role was re-assumed as it expired (${count("AssumeRole")} AssumeRole calls)`,
    );
    assert.ok(count("ResumeSession") >= 40, "the sessions were resumed all along");
    const refused = entries.filter((e) => e.status !== 200);
    assert.deepEqual(refused, [], "no call was refused (none used expired credentials)");
    assert.doesNotMatch(
      emulator.stderr(),
      /upgrade refused/,
      "every websocket upgrade was signed with valid credentials",
    );
    assert.doesNotMatch(f.stderr() + shellErr, /MFA|lost/);
  });
});
