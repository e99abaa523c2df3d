/**
 * The `~.` escape in a real terminal (a private tmux server), built CLI against the built
 * emulator: it ends a session whose remote side is stuck, with TerminateSession, exit 0 and the
 * local terminal as it was; `~?` lists the escapes; with RUNAS_ESCAPE_CHAR=none `~.` is just text.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { requestLog } from "./helpers/forward.js";
import { CLI, type EmulatorProcess, startEmulatorProcess } from "./helpers/harness.js";
import { pollUntil, shellQuote, TmuxPane, tmuxSkipReason, writeSessionScript } from "./helpers/tmux.js";

const skip = tmuxSkipReason();
const SCRUBBED_ENV = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
const files = { sttyBefore: "stty-before", sttyAfter: "stty-after", status: "status" };

describe("escape sequences in a terminal (tmux)", { skip }, () => {
  let emulator: EmulatorProcess;
  const cleanups: Array<() => Promise<void> | void> = [];
  before(async () => {
    emulator = await startEmulatorProcess();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await emulator?.close();
  });

  /** A pane running `aws-runas ssm shell plain web` with extra environment. */
  async function openShell(extraEnv: Record<string, string> = {}) {
    const dir = mkdtempSync(join(tmpdir(), "runas-e2e-escape-"));
    const script = writeSessionScript(dir, {
      env: {
        ...Object.fromEntries(SCRUBBED_ENV.map((name) => [name, undefined])),
        ...emulator.exports,
        NO_COLOR: "1",
        ...extraEnv,
      },
      command: [process.execPath, CLI, "ssm", "shell", "plain", INSTANCE.web].map(shellQuote).join(" "),
      files,
    });
    const pane = await TmuxPane.start(["sh", script], 100, 30);
    cleanups.push(
      () => pane.kill(),
      () => rmSync(dir, { recursive: true, force: true }),
    );
    const readStatus = () => {
      try {
        return readFileSync(join(dir, files.status), "utf8").trim();
      } catch {
        return undefined;
      }
    };
    const settings = (name: string) => readFileSync(join(dir, name), "utf8");
    await pane.waitFor(/Starting session with SessionId: (\S+)/);
    await pane.waitFor(/^\$ $/m);
    return { pane, readStatus, settings };
  }

  test("~? lists the escapes, ~. ends a session stuck in sleep 1000: TerminateSession, exit 0, stty unchanged", async () => {
    const { pane, readStatus, settings } = await openShell();
    await pane.type("~?");
    await pane.waitFor(/^Supported escape sequences:\s*$/m);
    await pane.waitFor(/^ ~\.\s+- terminate the session\s*$/m);
    // Only the remote shell's output has the sum: the stuck command has started.
    await pane.typeLine("echo stuck-$((40+2)); sleep 1000");
    await pane.waitFor(/^stuck-42\s*$/m);
    const terminatesBefore = (await requestLog(emulator)).filter(
      (e) => e.operation === "TerminateSession",
    ).length;
    await pane.type("~.");
    const status = await pollUntil("the CLI's exit status", readStatus, 15_000);
    assert.equal(status, "0");
    await pane.waitFor(/^pane-script-done\s*$/m);
    const terminates = (await requestLog(emulator)).filter((e) => e.operation === "TerminateSession");
    assert.equal(terminates.length, terminatesBefore + 1, "one TerminateSession call");
    assert.equal(terminates.at(-1)?.status, 200);
    assert.equal(settings(files.sttyAfter), settings(files.sttyBefore));
  });

  test("RUNAS_ESCAPE_CHAR=none: ~. reaches the remote shell as text", async () => {
    const { pane, readStatus } = await openShell({ RUNAS_ESCAPE_CHAR: "none" });
    await pane.type("~.");
    await pane.typeLine("; echo after-$((2+3))");
    await pane.waitFor(/^after-5\s*$/m);
    assert.equal(readStatus(), undefined, "the session is still running");
    await pane.typeLine("exit");
    assert.equal(await pollUntil("the CLI's exit status", readStatus, 15_000), "0");
  });
});
