/**
 * Issue #11: the websocket drops and ResumeSession is refused (`--fault refuse-resume`, the
 * service's "session timed out" answer) — the CLI ends with a clear one-line message and a
 * non-zero exit; a shell in a real terminal (node-pty) leaves the terminal exactly as it found it
 * (`stty -a` before and after). Built CLI against the built emulator.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { spawn as spawnPty } from "node-pty";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { CLI, type EmulatorProcess, startEmulatorProcess } from "../e2e/helpers/harness.js";
import {
  assertNoChildProcesses,
  countRequests,
  ensureBuilt,
  startEchoServer,
  startForward,
} from "./helpers.js";

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The message of a refused resume, naming the session. */
const TIMED_OUT = /aws-runas: Session: \S+ timed out\.$/m;
/** Issue 14 item 11: the hint that says what happened and what to do. */
const TIMED_OUT_HINT =
  /^hint: the service ended the session while the connection was down; start a new session$/m;
/** Signs of an uncaught exception: a stack frame or node's own crash banner. */
const CRASH = /^\s+at .+\(|triggerUncaughtException|^Node\.js v\d+/m;

/** Every process these tests start is gone once the suites closed them. */
after(assertNoChildProcesses);

describe("ResumeSession refused after a websocket drop", () => {
  let emulator: EmulatorProcess;
  let dir: string;
  before(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), "runas-resume-refused-"));
    emulator = await startEmulatorProcess(["--fault", "refuse-resume", "--fault", "drop-websocket-after=40"]);
  });
  after(async () => {
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs `ssm shell` in a pty inside a small script that records `stty -a` before and after it
   * and its exit status; types a command with plenty of output so the drop comes mid-session.
   */
  async function shellInPty(): Promise<{ output: string; before: string; after: string; status: number }> {
    const files = {
      before: join(dir, "stty-before"),
      after: join(dir, "stty-after"),
      status: join(dir, "status"),
    };
    const script = join(dir, "run.sh");
    writeFileSync(
      script,
      [
        `stty -a > ${quote(files.before)}`,
        `${quote(process.execPath)} ${quote(CLI)} ssm shell plain ${INSTANCE.web}`,
        `echo $? > ${quote(files.status)}`,
        `stty -a > ${quote(files.after)}`,
        "",
      ].join("\n"),
    );
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(emulator.env)) if (v !== undefined) env[k] = v;
    const pty = spawnPty("/bin/sh", [script], {
      name: "xterm",
      cols: 100,
      rows: 30,
      cwd: dir,
      env: { ...env, TERM: "xterm" },
    });
    let output = "";
    let typed = false;
    const exited = new Promise<void>((resolve) => pty.onExit(() => resolve()));
    pty.onData((d) => {
      output += d;
      if (!typed && output.includes("Starting session")) {
        typed = true;
        pty.write("seq 1 20000\r");
      }
    });
    const timer = setTimeout(() => pty.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
    return {
      output,
      before: readFileSync(files.before, "utf8"),
      after: readFileSync(files.after, "utf8"),
      status: Number(readFileSync(files.status, "utf8").trim()),
    };
  }

  test("shell in a terminal: non-zero exit, the timed-out message, terminal state restored", async () => {
    const resumes = await countRequests(emulator, "ResumeSession");
    const r = await shellInPty();
    assert.notEqual(r.status, 0, r.output.slice(-2000));
    assert.match(r.output.replace(/\r/g, ""), TIMED_OUT, r.output.slice(-600));
    assert.equal(r.after, r.before, "stty -a is the same before and after");
    assert.ok((await countRequests(emulator, "ResumeSession")) > resumes, "the client asked to resume");
  });

  test("shell in a terminal: the message starts its own line and is the only error output (no stack trace)", async () => {
    const r = await shellInPty();
    assert.doesNotMatch(r.output, CRASH, r.output.slice(-2000));
    assert.match(r.output.replace(/\r/g, ""), /^aws-runas: Session: \S+ timed out\.$/m);
    assert.match(r.output.replace(/\r/g, ""), TIMED_OUT_HINT);
  });

  test("forward with a busy connection: non-zero exit with the timed-out message", async (t) => {
    const echo = await startEchoServer();
    t.after(() => echo.close());
    const forward = await startForward(
      emulator.env,
      "plain",
      `${INSTANCE.web}:${echo.port}`,
      [],
      ["--no-reconnect"],
    );
    t.after(() => forward.stop());
    const socket = connect(forward.port, "127.0.0.1");
    t.after(() => socket.destroy());
    socket.on("error", () => {});
    socket.resume();
    // Echoed data produces frames toward the client until the 40th drops the websocket.
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    let exited = false;
    forward.child.once("exit", () => {
      exited = true;
      socket.emit("drain"); // wake the writer below
    });
    while (!exited && !socket.destroyed) {
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once("drain", resolve));
    }
    const { code } = await forward.stop();
    assert.notEqual(code, 0, forward.stderr());
    assert.match(forward.stderr(), TIMED_OUT);
    assert.match(forward.stderr(), TIMED_OUT_HINT);
    assert.doesNotMatch(forward.stderr(), CRASH);
  });
});
