/**
 * The README's emulator examples, taken from README.md itself and run as written: the
 * `--fixture` JSON example (a shell by tag and by its DNS name, with the profile it promises),
 * and the throwaway-sshd block for `ssm ssh` (in a real bash, only its port swapped for a free one).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ensureBuilt } from "../reliability/helpers.js";
import {
  type EmulatorProcess,
  freePort,
  REPO_ROOT,
  runCli,
  startEmulatorProcess,
} from "./helpers/harness.js";
import { runProcess, sshdUnavailableReason } from "./helpers/sshd.js";

const README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");

/** The first fenced block of `language` after `marker` in the README. */
function blockAfter(marker: string, language: string): string {
  const at = README.indexOf(marker);
  assert.ok(at >= 0, `README has no ${JSON.stringify(marker)}`);
  const open = README.indexOf(`\`\`\`${language}\n`, at);
  assert.ok(open >= 0, `no ${language} block after ${JSON.stringify(marker)}`);
  const start = open + language.length + 4;
  return README.slice(start, README.indexOf("```", start));
}

describe("README: the --fixture example", () => {
  let scratch: string;
  let emulator: EmulatorProcess;
  before(async () => {
    ensureBuilt();
    scratch = mkdtempSync(join(tmpdir(), "runas-readme-"));
    const file = join(scratch, "my-world.json");
    writeFileSync(file, blockAfter("**Your own world**", "json"));
    emulator = await startEmulatorProcess(["--fixture", file]);
  });
  after(async () => {
    await emulator?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const target of ["Name:app", "app.my.internal"]) {
    test(`npx aws-runas ssm shell me ${target}`, async () => {
      const r = await runCli(["ssm", "shell", "me", target], {
        env: emulator.env,
        input: "echo fixture-ok\nexit\n",
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^fixture-ok\r?$/m);
    });
  }
});

describe("README: the throwaway sshd for ssm ssh", { skip: sshdUnavailableReason() }, () => {
  let emulator: EmulatorProcess;
  before(async () => {
    ensureBuilt();
    emulator = await startEmulatorProcess();
  });
  after(() => emulator?.close());

  test("the block runs line by line in bash: ssh reaches sshd through the session, sshd is stopped", async () => {
    const port = await freePort();
    const block = blockAfter("**`ssm ssh` needs an sshd**", "sh");
    assert.match(block, /Port 2222/);
    const script = [
      "set -e",
      block.replaceAll("2222", String(port)),
      // What the block's kill stopped: the pid file's process must be gone.
      'sleep 0.5; if kill -0 "$(cat "$d/sshd.pid")" 2>/dev/null; then echo "SSHD=alive"; else echo "SSHD=gone"; fi',
      'echo "DIR=$d"',
    ].join("\n");
    const r = await runProcess("bash", ["--noprofile", "--norc", "-c", script], {
      env: emulator.env,
      cwd: REPO_ROOT,
      timeoutMs: 90_000,
    });
    const out = r.stdout.toString();
    assert.equal(r.code, 0, `${out}\n${r.stderr}`);
    assert.match(out, /^hello from sshd$/m);
    assert.match(out, /^SSHD=gone$/m);
    const dir = /^DIR=(.*)$/m.exec(out)?.[1];
    if (dir && existsSync(dir) && dir.startsWith(tmpdir())) rmSync(dir, { recursive: true, force: true });
  });
});
