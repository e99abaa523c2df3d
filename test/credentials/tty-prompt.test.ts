import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type IPty, spawn } from "node-pty";
import { NoTerminalError, promptOnTerminal } from "../../packages/aws-runas/src/credentials/tty-prompt.js";

const here = dirname(fileURLToPath(import.meta.url));

/** Collects a pty's output and resolves when `pattern` has appeared. */
function watch(pty: IPty) {
  let output = "";
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  pty.onData((d) => {
    output += d;
    for (const w of [...waiters]) {
      const m = output.match(w.pattern);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  return {
    output: () => output,
    waitFor: (pattern: RegExp) =>
      new Promise<RegExpMatchArray>((resolve) => {
        const m = output.match(pattern);
        if (m) resolve(m);
        else waiters.push({ pattern, resolve });
      }),
  };
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "runas-tty-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("promptOnTerminal", () => {
  test("prompts on and reads from the given terminal", async (t) => {
    // A process that holds the pty open but never reads it, so our reader gets the input.
    const pty = spawn("sh", ["-c", "tty; exec sleep 60"], {
      cols: 80,
      rows: 24,
      env: { PATH: process.env["PATH"] ?? "" },
    });
    const exited = new Promise<void>((resolve) => pty.onExit(() => resolve()));
    t.after(async () => {
      pty.kill();
      await exited;
    });
    const seen = watch(pty);
    const [, ttyPath] = await seen.waitFor(/(\/dev\/\S+)\r?\n/);

    const answer = promptOnTerminal("MFA token code: ", ttyPath!);
    await seen.waitFor(/MFA token code: /);
    pty.write("123456\r");
    assert.equal(await answer, "123456");
  });

  test("under a pty with stdin and stdout redirected, the prompt uses /dev/tty", async (t) => {
    const out = join(dir, "child-out");
    const script = join(here, "fixtures", "prompt-child.ts");
    const pty = spawn(
      "sh",
      ["-c", `exec "${process.execPath}" --import tsx "${script}" </dev/null >"${out}"`],
      { cols: 80, rows: 24, cwd: join(here, "..", ".."), env: process.env as Record<string, string> },
    );
    const exited = new Promise<number>((resolve) => pty.onExit((e) => resolve(e.exitCode)));
    t.after(async () => {
      pty.kill();
      await exited;
    });
    const seen = watch(pty);
    await seen.waitFor(/MFA token code: /);
    pty.write("654321\r");
    assert.equal(await exited, 0);
    assert.equal(await readFile(out, "utf8"), "answer=654321\n");
  });

  test("no terminal: a missing path or a file that is not a terminal", async () => {
    await assert.rejects(promptOnTerminal("x", join(dir, "missing")), NoTerminalError);
    const file = join(dir, "plain-file");
    await writeFile(file, "123456\n");
    await assert.rejects(promptOnTerminal("x", file), (e: unknown) => {
      assert.ok(e instanceof NoTerminalError);
      assert.equal(e.message, `no terminal to prompt on (${file})`);
      return true;
    });
    // The file was not written to: the prompt goes nowhere but a terminal.
    assert.equal(await readFile(file, "utf8"), "123456\n");
  });
});
