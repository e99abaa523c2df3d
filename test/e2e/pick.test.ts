/**
 * `--pick` (built CLI against the built emulator): in a terminal (tmux) typing `work` and Enter
 * opens the session on the `worker` instance whose agent is online; without a terminal it is one
 * error line with a hint to use `ssm list`; nothing is ever drawn on stdout.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { CLI, type EmulatorProcess, startEmulatorProcess } from "./helpers/harness.js";
import { pollUntil, shellQuote, TmuxPane, tmuxSkipReason, writeSessionScript } from "./helpers/tmux.js";

const SCRUBBED_ENV = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
const files = { sttyBefore: "stty-before", sttyAfter: "stty-after", status: "status" };

/** Runs the built CLI in a new session (setsid): no controlling terminal, so no /dev/tty. */
async function runWithoutTerminal(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

describe("--pick", () => {
  let emulator: EmulatorProcess;
  before(async () => {
    emulator = await startEmulatorProcess();
  });
  after(() => emulator.close());

  test("without a terminal: one error line and a hint naming ssm list, for shell, forward and ssh", async () => {
    for (const args of [
      ["ssm", "shell", "--pick", "plain"],
      ["ssm", "forward", "--pick", "plain", ":8080"],
      ["ssm", "ssh", "--pick", "plain"],
    ]) {
      const r = await runWithoutTerminal(args, emulator.env);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "");
      assert.equal(
        r.stderr,
        "aws-runas: --pick needs a terminal to show the instances on\n" +
          "hint: list them with 'aws-runas ssm list' and give an instance id (or Name:value) as target_spec\n",
      );
    }
    const noPort = await runWithoutTerminal(["ssm", "forward", "--pick", "plain"], emulator.env);
    assert.match(noPort.stderr, /^aws-runas: --pick needs the remote port, as :port$/m);
  });

  test("in a terminal: type work, Enter — the session opens on the online worker", {
    skip: tmuxSkipReason(),
  }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "runas-e2e-pick-"));
    const script = writeSessionScript(dir, {
      env: {
        ...Object.fromEntries(SCRUBBED_ENV.map((name) => [name, undefined])),
        ...emulator.exports,
        NO_COLOR: "1",
      },
      command: `${[process.execPath, CLI, "ssm", "shell", "--pick", "plain"].map(shellQuote).join(" ")} > ${shellQuote(join(dir, "stdout"))}`,
      files,
    });
    const pane = await TmuxPane.start(["sh", script], 100, 30);
    t.after(async () => {
      await pane.kill();
      rmSync(dir, { recursive: true, force: true });
    });
    await pane.waitFor(/Instance \(type to filter.*> $/m);
    await pane.type("work");
    // Both workers match; the online one comes first and is selected.
    await pane.waitFor(
      /2\/\d+> work\s*\n> i-0a1b2c3d4e5f60003 +worker .*Online\s*\n {2}i-0a1b2c3d4e5f60004 +worker .*ConnectionLost/,
    );
    await pane.keys("Enter");
    const sessions = await pollUntil("the session on the worker", async () => {
      const list = (await emulator.admin("/_emulator/sessions")) as Array<{ target: string; state: string }>;
      return list.length > 0 ? list : undefined;
    });
    assert.deepEqual(
      sessions.map((s) => s.target),
      [INSTANCE.workerOnline],
    );
    await pane.waitFor(/Starting session with SessionId: \S+/);
    await pane.typeLine("exit");
    assert.equal(
      await pollUntil("the CLI's exit status", () => {
        try {
          return readFileSync(join(dir, files.status), "utf8").trim();
        } catch {
          return undefined;
        }
      }),
      "0",
    );
    // stdout carried only the remote shell's output, never the picker.
    assert.doesNotMatch(readFileSync(join(dir, "stdout"), "utf8"), /type to filter|Loading instances/);
    assert.equal(
      readFileSync(join(dir, files.sttyAfter), "utf8"),
      readFileSync(join(dir, files.sttyBefore), "utf8"),
    );
  });
});
