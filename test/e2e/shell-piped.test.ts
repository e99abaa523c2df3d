import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type EmulatorProcess, runCli, startEmulatorProcess } from "./helpers/harness.js";

describe("ssm shell with piped stdin (built CLI against the built emulator)", () => {
  let emulator: EmulatorProcess;
  before(async () => {
    emulator = await startEmulatorProcess();
  });
  after(() => emulator.close());

  test("prints the command output and exits 0; status lines go to stderr only", async () => {
    const marker = `piped-${Math.random().toString(36).slice(2)}`;
    const r = await runCli(["ssm", "shell", "plain", "i-0123456789abcdef0"], {
      env: emulator.env,
      input: `echo ${marker}\nexit\n`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${marker}\\r?$`, "m"));
    assert.doesNotMatch(r.stdout, /Starting session|Exiting session/);
    assert.match(r.stderr, /^Starting session with SessionId: \S+$/m);
    assert.match(r.stderr, /^Exiting session with sessionId: \S+\.$/m);
  });

  test("the sh alias, a tag target and input without a trailing newline end cleanly", async () => {
    const r = await runCli(["ssm", "sh", "plain", "Name:web"], {
      env: emulator.env,
      input: "echo no-newline",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^no-newline\r?$/m);
  });

  // One Ctrl-D at the end of input is not enough in either case (see pumpInput in
  // src/session/shell.ts); without the repeat both sessions hang until killed.
  test("input ending while a command runs (sleep) still ends the session", async () => {
    const r = await runCli(["ssm", "shell", "plain", "i-0123456789abcdef0"], {
      env: emulator.env,
      input: "sleep 1\necho after-sleep\n",
      timeoutMs: 15_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^after-sleep\r?$/m);
  });

  test("input ending while a command reads stdin (cat) ends the command, then the session", async () => {
    const r = await runCli(["ssm", "shell", "plain", "i-0123456789abcdef0"], {
      env: emulator.env,
      input: "cat\n",
      timeoutMs: 15_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Exiting session with sessionId: \S+\.$/m);
  });
});
