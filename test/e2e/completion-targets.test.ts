/**
 * Tab on the target position in real interactive bash, zsh and fish (tmux), the built CLI against
 * the built emulator: `Name:we` completes to `Name:web` and an id prefix to the instance id; the
 * list comes from the cache file next to the config after the first Tab.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import { requestLog } from "./helpers/forward.js";
import { CLI, type EmulatorProcess, startEmulatorProcess } from "./helpers/harness.js";
import { shellQuote, TmuxPane, tmuxSkipReason } from "./helpers/tmux.js";

const missing = (shell: string) =>
  spawnSync(shell, ["--version"]).error ? `${shell} is not installed` : undefined;
const SCRUBBED_ENV = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

describe("Tab completes instance ids and Name tags (bash, zsh, fish)", { skip: tmuxSkipReason() }, () => {
  let emulator: EmulatorProcess;
  let dir: string;
  let exportLines: string[];
  let started = 0;
  before(async () => {
    started = Date.now();
    emulator = await startEmulatorProcess();
    dir = mkdtempSync(join(tmpdir(), "runas-e2e-complete-"));
    writeFileSync(
      join(dir, "aws-runas"),
      `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(CLI)} "$@"\n`,
    );
    chmodSync(join(dir, "aws-runas"), 0o755);
    exportLines = [
      ...SCRUBBED_ENV.map((name) => `unset ${name}`),
      ...Object.entries(emulator.exports).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
      `export PATH=${shellQuote(dir)}:$PATH HOME=${shellQuote(dir)}`,
    ];
  });
  after(async () => {
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** In `pane`: type `prefix`, Tab, and expect the line to read `done`. */
  async function tab(pane: TmuxPane, prompt: string, prefix: string, done: string) {
    await pane.type(prefix);
    await pane.keys("Tab");
    await pane.waitFor(new RegExp(`${reEscape(prompt)}${reEscape(done)} *$`, "m"));
    await pane.keys("C-u");
  }
  const reEscape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  async function exercise(pane: TmuxPane, prompt: string) {
    await pane.waitFor(new RegExp(`${reEscape(prompt)}$`, "m"));
    await tab(pane, prompt, "aws-runas ssm shell plain Name:we", "aws-runas ssm shell plain Name:web ");
    await tab(pane, prompt, "aws-runas ssm fwd plain i-0123", `aws-runas ssm fwd plain ${INSTANCE.web} `);
    await tab(
      pane,
      prompt,
      "aws-runas ssm ssh plain ec2-user@Name:leg",
      "aws-runas ssm ssh plain ec2-user@Name:legacy ",
    );
  }

  test("bash", { skip: missing("bash") }, async (t) => {
    const rc = join(dir, "bashrc");
    writeFileSync(
      rc,
      [...exportLines, "source <(aws-runas completion bash)", "PS1='bash-ready> '", ""].join("\n"),
    );
    const pane = await TmuxPane.start(["bash", "--noprofile", "--rcfile", rc, "-i"]);
    t.after(() => pane.kill());
    await exercise(pane, "bash-ready> ");
  });

  test("zsh", { skip: missing("zsh") }, async (t) => {
    const zdot = join(dir, "zsh");
    spawnSync("mkdir", ["-p", zdot]);
    writeFileSync(
      join(zdot, ".zshrc"),
      [
        ...exportLines,
        `autoload -U compinit && compinit -u -d ${shellQuote(join(zdot, ".zcompdump"))}`,
        "source <(aws-runas completion zsh)",
        "PS1='zsh-ready> '",
        "",
      ].join("\n"),
    );
    const pane = await TmuxPane.start(["env", `ZDOTDIR=${zdot}`, "zsh", "-i"]);
    t.after(() => pane.kill());
    await exercise(pane, "zsh-ready> ");
  });

  test("fish", { skip: missing("fish") }, async (t) => {
    const config = join(dir, "config.fish");
    writeFileSync(
      config,
      [
        ...SCRUBBED_ENV.map((name) => `set -e ${name}`),
        ...Object.entries(emulator.exports).map(([k, v]) => `set -gx ${k} ${shellQuote(v)}`),
        `set -gx PATH ${shellQuote(dir)} $PATH`,
        `set -gx HOME ${shellQuote(dir)}`,
        "set -g fish_greeting ''",
        "set -g fish_autosuggestion_enabled 0",
        "function fish_prompt; echo -n 'fish-ready> '; end",
        "aws-runas completion fish | source",
        "",
      ].join("\n"),
    );
    const pane = await TmuxPane.start(["fish", "--no-config", "-C", `source ${shellQuote(config)}`]);
    t.after(() => pane.kill());
    await exercise(pane, "fish-ready> ");
  });

  test("the list is cached next to the config file (mode 0600) and Tab reuses it", async () => {
    const configDir = dirname(emulator.exports.AWS_CONFIG_FILE!);
    const caches = readdirSync(configDir).filter((f) => f.startsWith(".aws_runas_targets_"));
    assert.equal(caches.length, 1, `cache files: ${caches.join(" ")}`);
    assert.equal(statSync(join(configDir, caches[0]!)).mode & 0o777, 0o600);
    // The three shells' nine Tabs made one listing per 60 s between them (a slow machine may
    // need more than 60 s for the three shells; that is not a timing assertion, just the TTL).
    // Each listing reads DescribeInstances once (one page) and DescribeInstanceInformation twice.
    const calls = (await requestLog(emulator)).filter((e) => e.operation === "DescribeInstances");
    const ttls = 1 + Math.floor((Date.now() - started) / 60_000);
    assert.ok(calls.length >= 1 && calls.length <= ttls, `${calls.length} listings in ${ttls} TTL periods`);
  });
});
