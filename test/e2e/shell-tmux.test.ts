/**
 * Issue #6 acceptance: the built CLI's `ssm shell` in a real terminal (a private tmux server)
 * against the built emulator — typing, window size and resize, Ctrl-C reaching the remote side,
 * a clean exit and the local terminal restored.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { CLI, type EmulatorProcess, startEmulatorProcess } from "./helpers/harness.js";

import { pollUntil, shellQuote, TmuxPane, tmuxSkipReason, writeSessionScript } from "./helpers/tmux.js";

const skip = tmuxSkipReason();

/** Variables of a developer's shell that would change what the CLI does (as in the harness). */
const SCRUBBED_ENV = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

describe("ssm shell in a terminal (tmux, built CLI against the built emulator)", { skip }, () => {
  let emulator: EmulatorProcess;
  let pane: TmuxPane;
  let dir: string;
  const files = { sttyBefore: "stty-before", sttyAfter: "stty-after", status: "status" };
  const readStatus = () => {
    try {
      return readFileSync(join(dir, files.status), "utf8").trim();
    } catch {
      return undefined;
    }
  };

  before(async () => {
    emulator = await startEmulatorProcess();
    dir = mkdtempSync(join(tmpdir(), "runas-e2e-tmux-"));
    const script = writeSessionScript(dir, {
      env: {
        ...Object.fromEntries(SCRUBBED_ENV.map((name) => [name, undefined])),
        ...emulator.exports,
        NO_COLOR: "1",
      },
      command: [process.execPath, CLI, "ssm", "shell", "plain", INSTANCE.web].map(shellQuote).join(" "),
      files,
    });
    pane = await TmuxPane.start(["sh", script], 120, 40);
  });

  after(async () => {
    await pane?.kill();
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the session starts and typed commands run remotely", async () => {
    await pane.waitFor(/Starting session with SessionId: \S+/);
    await pane.typeLine("echo hello-$RANDOM");
    // The echoed command line shows `$RANDOM`; only the remote shell's output has digits.
    await pane.waitFor(/^hello-\d+\s*$/m);
  });

  test("stty size reflects the tmux pane, and again after resize-window", async () => {
    await pane.typeLine('echo "size:$(stty size)"');
    await pane.waitFor(/^size:40 120\s*$/m);
    await pane.resize(100, 30);
    // SIGWINCH and the typed keys reach the CLI independently, so a first look may still see the
    // old size: ask again (a bounded number of times) until the Size message has arrived.
    let seen = false;
    for (let attempt = 0; attempt < 3 && !seen; attempt++) {
      await pane.typeLine(`echo "size${attempt}:$(stty size)"`);
      const m = await pane.waitFor(new RegExp(`^size${attempt}:(\\d+ \\d+)\\s*$`, "m"));
      seen = m[1] === "30 100";
    }
    assert.ok(seen, "the remote pty never reported 30 100");
  });

  test("Ctrl-C interrupts a remote sleep 30 and the client stays connected", async () => {
    await pane.typeLine("echo sleeping-$((6*7)); sleep 30");
    await pane.waitFor(/^sleeping-42\s*$/m);
    await pane.keys("C-c");
    await pane.typeLine("echo still-here-$((40+2))");
    // Well before the 30 s sleep could end on its own.
    await pane.waitFor(/^still-here-42\s*$/m, 10_000);
    assert.equal(readStatus(), undefined, "the CLI must still be running");
  });

  test("exit ends with status 0 and restores the local terminal", async () => {
    await pane.typeLine("exit");
    const status = await pollUntil("the CLI's exit status", readStatus, 15_000);
    assert.equal(status, "0");
    await pane.waitFor(/^pane-script-done\s*$/m);
    const screen = await pane.capture();
    assert.match(screen, /^Exiting session with sessionId: \S+\.\s*$/m);
    // The window was resized on purpose; every other setting must be as before the session.
    const settings = (name: string) =>
      readFileSync(join(dir, name), "utf8").replace(/rows \d+; columns \d+;/, "rows R; columns C;");
    const before = settings(files.sttyBefore);
    assert.match(before, /[^-]icanon\b/, "the pane starts in cooked mode");
    assert.match(before, /[^-]echo\b/);
    assert.equal(settings(files.sttyAfter), before);
  });
});
