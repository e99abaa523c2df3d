/**
 * Issue 15 items 2 and 4, end to end (built CLI, built emulator): the service's clean websocket
 * recycling (`--fault recycle-websocket-every`) and network outages (`POST /_emulator/outage`,
 * during which the emulator accepts TCP connections and drops them at once) are ridden out by a
 * forward carrying verified echo traffic and by a shell — every byte checked, status lines only
 * for a real outage.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import type { Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
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
import { type EmulatorProcess, spawnCli, startEmulatorProcess } from "./helpers/harness.js";

const LOST = /^Connection to session \S+ lost \(.*\); reconnecting for up to .+\.\.\.$/gm;
const BACK = /^Session \S+: reconnected after \d+ s\.$/gm;

/** Echo round trips of `size` bytes until `stop()` says so; every one verified by sha256. */
async function echoUntil(socket: Socket, stop: () => boolean, size = 16 * 1024): Promise<number> {
  let bytes = 0;
  while (!stop()) {
    const r = await echoRoundTrip(socket, size, 60_000);
    assert.equal(r.received, r.sent, `echo step at ${bytes} bytes`);
    bytes += r.bytes;
  }
  return bytes;
}

/**
 * A shell printing numbered lines for a while; resolves with its stdout, stderr and exit code.
 * Stdin stays open until the last line is out (piped input ends the session at its end).
 */
async function countingShell(env: NodeJS.ProcessEnv, lines: number, pauseS: number) {
  const child: ChildProcess = spawnCli(["ssm", "shell", "plain", INSTANCE.web], env);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin!.on("error", () => {});
  child.stdin!.write(
    `for i in $(seq 1 ${lines}); do echo "line-$i-of-${lines}"; sleep ${pauseS}; done; echo done-$((6*7))\n`,
  );
  const exited = once(child, "exit");
  const finished = new Promise<void>((resolve) => {
    const onData = () => {
      if (/^done-42\r?$/m.test(stdout)) {
        child.stdout!.off("data", onData);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
  });
  return {
    child,
    async result() {
      await finished;
      child.stdin!.end("exit\n");
      const [code] = await exited;
      return { code: code as number | null, stdout, stderr };
    },
  };
}

/** Every numbered line exactly once, in order. */
function assertLines(stdout: string, lines: number): void {
  const seen = [...stdout.matchAll(/^line-(\d+)-of-\d+\r?$/gm)].map((m) => Number(m[1]));
  assert.deepEqual(
    seen,
    Array.from({ length: lines }, (_, i) => i + 1),
    "each line once, in order",
  );
}

describe("websocket recycled every 1.5 s (clean 1000 Bye)", () => {
  let emulator: EmulatorProcess;
  let echo: TestServer;
  const forwards: Forward[] = [];
  before(async () => {
    [emulator, echo] = await Promise.all([
      startEmulatorProcess(["--fault", "recycle-websocket-every=1.5"]),
      startEchoServer(),
    ]);
  });
  after(async () => {
    await Promise.all(forwards.map((f) => f.stop("SIGKILL")));
    await Promise.all([emulator?.close(), echo?.close()]);
  });

  test("a forward with echo traffic and a shell carry on, every byte verified, nothing printed", async () => {
    const f = await startForward(emulator.env, ["plain", `${INSTANCE.web}:${echo.port}`]);
    forwards.push(f);
    const socket = await connectLocal(f.port);
    const shell = await countingShell(emulator.env, 40, 0.2);
    const started = Date.now();
    const echoed = await echoUntil(socket, () => Date.now() - started > 8000);
    const out = await shell.result();
    assert.equal(out.code, 0, out.stderr);
    assertLines(out.stdout, 40);
    assert.ok(echoed > 0);
    socket.destroy();
    const resumes = (await requestLog(emulator)).filter((e) => e.operation === "ResumeSession").length;
    assert.ok(resumes >= 6, `both sessions resumed after each recycle (${resumes} ResumeSession calls)`);
    assert.deepEqual(await f.stop("SIGINT"), { code: 0, signal: null }, f.stderr());
    for (const stderr of [f.stderr(), out.stderr]) {
      assert.doesNotMatch(stderr, LOST, "a recycle that heals at once is not reported");
      assert.doesNotMatch(stderr, BACK);
    }
  });
});

describe("a 6-second network outage mid-transfer", () => {
  let emulator: EmulatorProcess;
  let echo: TestServer;
  const forwards: Forward[] = [];
  before(async () => {
    [emulator, echo] = await Promise.all([startEmulatorProcess(), startEchoServer()]);
  });
  after(async () => {
    await Promise.all(forwards.map((f) => f.stop("SIGKILL")));
    await Promise.all([emulator?.close(), echo?.close()]);
  });

  test("forward and shell ride it out: one 'lost' and one 'reconnected after N s' line each", async () => {
    const f = await startForward(emulator.env, ["plain", `${INSTANCE.web}:${echo.port}`]);
    forwards.push(f);
    const socket = await connectLocal(f.port);
    const shell = await countingShell(emulator.env, 50, 0.2);
    let stop = false;
    const traffic = echoUntil(socket, () => stop);
    await sleep(1500);
    await emulator.admin("/_emulator/outage", { seconds: 6 });
    await sleep(9000);
    stop = true;
    assert.ok((await traffic) > 0);
    const out = await shell.result();
    assert.equal(out.code, 0, out.stderr);
    assertLines(out.stdout, 50);
    socket.destroy();
    assert.deepEqual(await f.stop("SIGINT"), { code: 0, signal: null }, f.stderr());
    for (const [name, stderr] of [
      ["forward", f.stderr()],
      ["shell", out.stderr],
    ] as const) {
      assert.equal(stderr.match(LOST)?.length, 1, `${name}: one 'lost' line:\n${stderr}`);
      assert.equal(stderr.match(BACK)?.length, 1, `${name}: one 'reconnected' line:\n${stderr}`);
    }
  });
});
