/**
 * Issue #11 resource hygiene: after each command no child process, listener or temp file
 * remains, and SIGTERM to the emulator in the middle of a shell session ends everything — the
 * emulator's pty shells, its listeners, its temp state directory — and the CLI leaves with the
 * service's message. The programs get a private TMPDIR, so "no temp file" is checked exactly.
 * Children are read from `/proc/<pid>/task/<tid>/children`, listeners from `/proc/net/tcp*`.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import {
  type EmulatorProcess,
  runCli,
  spawnCli,
  startEmulatorProcess,
  waitForOutput,
} from "../e2e/helpers/harness.js";
import {
  assertNoChildProcesses,
  childPids,
  commandLine,
  emulatorStateDir,
  ensureBuilt,
  isListening,
  startEchoServer,
  startForward,
  type TestServer,
} from "./helpers.js";

/** Whether a process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("no process, listener or temp file is left behind", () => {
  let privateTmp: string;
  let emulator: EmulatorProcess;
  let echo: TestServer;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    ensureBuilt();
    privateTmp = mkdtempSync(join(tmpdir(), "runas-hygiene-"));
    // Both programs (and the emulator's state dir) use this TMPDIR.
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = privateTmp;
    try {
      emulator = await startEmulatorProcess();
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    env = { ...emulator.env, TMPDIR: privateTmp };
    echo = await startEchoServer();
  });
  after(async () => {
    await echo?.close();
    await emulator?.close();
    rmSync(privateTmp, { recursive: true, force: true });
  });
  after(assertNoChildProcesses);

  /** Only the emulator may be our child between commands; the private TMPDIR holds only its state. */
  function assertOnlyEmulator(what: string): void {
    const others = childPids().filter((pid) => pid !== emulator.process.pid);
    assert.deepEqual(
      others.map((pid) => `${pid} ${commandLine(pid)}`),
      [],
      `${what}: no process left besides the emulator`,
    );
    assert.deepEqual(
      readdirSync(privateTmp).filter((name) => join(privateTmp, name) !== emulatorStateDir(emulator)),
      [],
      `${what}: no temp file left`,
    );
  }

  test("ssm shell (piped)", async () => {
    const r = await runCli(["ssm", "shell", "plain", INSTANCE.web], { env, input: "echo hygiene\nexit\n" });
    assert.equal(r.code, 0, r.stderr);
    assertOnlyEmulator("shell");
  });

  test("ssm forward: the listener is gone after Ctrl-C", async () => {
    const forward = await startForward(env, "plain", `${INSTANCE.web}:${echo.port}`);
    const socket = connect(forward.port, "127.0.0.1");
    socket.on("error", () => {}); // open at Ctrl-C: the forward resets it
    socket.write("ping");
    const [data] = (await once(socket, "data")) as [Buffer];
    assert.equal(data.toString(), "ping");
    assert.ok(isListening(forward.port));
    const { code } = await forward.stop();
    socket.destroy();
    assert.equal(code, 0, forward.stderr());
    assert.equal(isListening(forward.port), false, "the forward's port is closed");
    assertOnlyEmulator("forward");
  });

  test("ssm ssh (stdin closed)", async () => {
    const r = await runCli(["ssm", "ssh", "plain", `ec2-user@${INSTANCE.web}:${echo.port}`], {
      env,
      input: "",
    });
    assert.equal(r.signal, null, r.stderr);
    assertOnlyEmulator("ssh");
  });

  test("a failing command (unknown instance)", async () => {
    const r = await runCli(["ssm", "shell", "plain", "i-00000000000000bad"], { env, input: "" });
    assert.notEqual(r.code, 0);
    assertOnlyEmulator("failed shell");
  });

  test("SIGTERM to the emulator mid-session: its shells, listeners and state dir are gone", async () => {
    const stateDir = emulatorStateDir(emulator);
    const api = Number(new URL(emulator.exports.AWS_ENDPOINT_URL!).port);
    assert.ok(existsSync(stateDir));
    const cli = spawnCli(["ssm", "shell", "plain", INSTANCE.web], env);
    let stderr = "";
    cli.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    cli.stdin!.on("error", () => {});
    cli.stdin!.write("echo $((6*7))-ready\n");
    await waitForOutput(cli.stdout!, /^42-ready/m);
    // The pty shell the emulator runs for this session is one of its children.
    const shells = childPids(emulator.process.pid!);
    assert.ok(shells.length > 0, "the emulator runs a shell for the session");
    const cliExit = once(cli, "exit") as Promise<[number | null, NodeJS.Signals | null]>;

    const exited = once(emulator.process, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    emulator.process.kill("SIGTERM");
    const [emulatorCode, emulatorSignal] = await exited;
    assert.equal(emulatorSignal, null, "the emulator handled SIGTERM itself");
    assert.equal(emulatorCode, 0);
    const [cliCode] = await cliExit;
    assert.notEqual(cliCode, null, `the CLI ended by itself: ${stderr}`);
    assert.match(stderr, /Exiting session|shutting down|closed/i);

    assert.equal(existsSync(stateDir), false, "the temp state dir was removed");
    assert.equal(isListening(api), false, "the API port is closed");
    for (const pid of shells) assert.equal(alive(pid), false, `emulator child ${pid} is gone`);
    assert.deepEqual(readdirSync(privateTmp), [], "nothing left in TMPDIR");
    assert.deepEqual(childPids(), [], "no child process left");
  });
});
