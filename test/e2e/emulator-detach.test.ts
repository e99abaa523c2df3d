/**
 * The README's background one-liner in a real bash: `eval "$(npx aws-runas-emulator --detach)"`
 * returns (command substitution is not held open by the emulator), a command works against it,
 * `eval "$(npx aws-runas-emulator --stop)"` ends it, and nothing is left: no process, no state
 * directory, no variables. Also `kill $RUNAS_EMULATOR_PID`, `--log`, start errors and a stale pid.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { childPids, ensureBuilt } from "../reliability/helpers.js";
import { EMULATOR, REPO_ROOT } from "./helpers/harness.js";
import { runProcess } from "./helpers/sshd.js";

/** Whether a process exists and is not a zombie (a zombie has exited; its parent reaps it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Live processes whose command line mentions `marker` (our private temp dir). */
function processesMentioning(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker) && alive(Number(entry)))
        found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** `NAME=value` lines a script echoed. */
function echoed(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

describe("aws-runas-emulator --detach in a real bash", () => {
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  const bash = (script: string) =>
    runProcess("bash", ["--noprofile", "--norc", "-c", script], { env, cwd: REPO_ROOT, timeoutMs: 90_000 });

  before(() => {
    ensureBuilt();
    scratch = mkdtempSync(join(tmpdir(), "runas-detach-"));
    env = { ...process.env, TMPDIR: scratch, NO_COLOR: "1" };
    for (const name of Object.keys(env))
      if (/^(AWS_|RUNAS_|MFA_|SESSION_TOKEN_DURATION|CREDENTIALS_DURATION)/.test(name)) delete env[name];
  });
  after(() => {
    for (const pid of processesMentioning(scratch)) process.kill(pid, "SIGKILL");
    rmSync(scratch, { recursive: true, force: true });
  });

  test("the README one-liner returns, a shell session runs against it, --stop ends it and unsets", async () => {
    const r = await bash(
      [
        "set -eu",
        'eval "$(npx --no-install aws-runas-emulator --detach)"',
        'echo "PID=$RUNAS_EMULATOR_PID"',
        'echo "CONFIG=$AWS_CONFIG_FILE"',
        'echo "CREDENTIALS=$AWS_SHARED_CREDENTIALS_FILE"',
        'echo "STDOUT=$(readlink /proc/$RUNAS_EMULATOR_PID/fd/1)"',
        "printf 'echo detached-ok\\nexit\\n' | npx --no-install aws-runas ssm shell plain Name:web",
        'eval "$(npx --no-install aws-runas-emulator --stop)"',
        // The test's environment has no AWS_/RUNAS_ variables: every one left came from the emulator.
        `echo "LEFT=$(env | grep -E '^(AWS_|RUNAS_)' | cut -d= -f1 | tr '\\n' ' ')"`,
      ].join("\n"),
    );
    const out = r.stdout.toString();
    assert.equal(r.code, 0, `${out}\n${r.stderr}`);
    const values = echoed(out);
    const pid = Number(values.PID);
    assert.ok(pid > 0, out);
    assert.match(out, /^detached-ok\r?$/m);
    // The shell's variables pointed at the emulator's own files, not the user's.
    assert.ok(values.CONFIG?.startsWith(scratch), values.CONFIG);
    assert.ok(values.CREDENTIALS?.startsWith(scratch), values.CREDENTIALS);
    assert.equal(values.STDOUT, "/dev/null", "the emulator holds no pipe of the shell");
    assert.match(r.stderr, /running in the background \(pid \d+\); stop it with: /);
    assert.equal(values.LEFT, "", "--stop unset every variable --detach set");
    assert.equal(alive(pid), false, "the emulator is gone");
    assert.equal(existsSync(values.CONFIG!), false, "its temporary state directory is removed");
    assert.deepEqual(processesMentioning(scratch), []);
  });

  test("kill $RUNAS_EMULATOR_PID stops it too; --log FILE gets its output", async () => {
    const log = join(scratch, "emulator.log");
    const r = await bash(
      [
        "set -eu",
        `eval "$(npx --no-install aws-runas-emulator --detach -v --log ${log})"`,
        'echo "PID=$RUNAS_EMULATOR_PID"',
        "printf 'exit\\n' | npx --no-install aws-runas ssm shell plain Name:web >/dev/null 2>&1",
        'kill "$RUNAS_EMULATOR_PID"',
        'while [ -e /proc/$RUNAS_EMULATOR_PID ] && ! grep -q "^[0-9]* (.*) Z" /proc/$RUNAS_EMULATOR_PID/stat; do sleep 0.1; done',
      ].join("\n"),
    );
    assert.equal(r.code, 0, r.stderr);
    const pid = Number(echoed(r.stdout.toString()).PID);
    assert.equal(alive(pid), false);
    const logged = readFileSync(log, "utf8");
    assert.match(logged, /listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(logged, /StartSession/, "-v reached the detached emulator");
    assert.deepEqual(processesMentioning(scratch), []);
  });

  test("a start error is reported by the --detach command itself, and nothing stays behind", async () => {
    const busy = createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => busy.once("listening", resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const stateDir = join(scratch, "state-busy");
      const r = await bash(
        `npx --no-install aws-runas-emulator --detach --port ${port} --state-dir ${stateDir}`,
      );
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout.toString(), "");
      assert.match(
        r.stderr,
        new RegExp(`^aws-runas-emulator: cannot listen on 127\\.0\\.0\\.1:${port}: `, "m"),
      );
      assert.match(r.stderr, /^hint: choose another --port/m);
      assert.deepEqual(processesMentioning(stateDir), []);
    } finally {
      busy.close();
    }
  });

  test("Ctrl-C while --detach waits stops the starting emulator too (it is in a session of its own)", async () => {
    // A FIFO as the fixture holds the child at start-up until the test decides.
    const fifo = join(scratch, "slow-fixture.json");
    execFileSync("mkfifo", [fifo]);
    const parent = spawn(process.execPath, [EMULATOR, "--detach", "--fixture", fifo], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    parent.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    parent.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = once(parent, "close");
    let child: number | undefined;
    for (let i = 0; i < 200 && child === undefined; i++) {
      child = childPids(parent.pid).find((pid) =>
        // Before its exec a forked child still shows the parent's command line; --ready-fd is
        // the child's own, so the parent is past the spawn when the signal goes.
        readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--ready-fd"),
      );
      if (child === undefined) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.ok(child, "the detached emulator was started");
    parent.kill("SIGINT");
    const [code] = await exited;
    assert.equal(code, 130, stderr);
    assert.equal(stdout, "");
    assert.match(stderr, /^aws-runas-emulator: interrupted by SIGINT; the emulator was stopped$/m);
    for (let i = 0; i < 200 && alive(child); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.equal(alive(child), false, "the starting emulator is gone");
  });

  test("--stop without RUNAS_EMULATOR_PID is a usage error; a pid that is no emulator is left alone", async () => {
    const none = await bash("npx --no-install aws-runas-emulator --stop");
    assert.equal(none.code, 2);
    assert.equal(none.stdout.toString(), "");
    assert.match(none.stderr, /--stop needs RUNAS_EMULATOR_PID/);
    const stale = await bash(
      'sleep 30 & victim=$!; RUNAS_EMULATOR_PID=$victim npx --no-install aws-runas-emulator --stop; rc=$?; kill -0 $victim && echo "ALIVE=yes"; kill $victim; exit $rc',
    );
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /pid \d+ is not an aws-runas-emulator process/);
    assert.equal(echoed(stale.stdout.toString()).ALIVE, "yes");
  });
});
