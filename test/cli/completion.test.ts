// Completion: the pure candidate logic, profile-name reading, and the bash script end to end
// (the script calls `aws-runas __complete`, so an `aws-runas` wrapper is put on PATH).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { completeLine, targetRequest } from "../../packages/aws-runas/src/cli/completion.js";
import { listProfileNames, readProfileNames } from "../../packages/aws-runas/src/cli/profiles.js";
import { TmuxPane, tmuxSkipReason } from "../e2e/helpers/tmux.js";
import { CLI, ensureCliBuilt } from "./helpers.js";

const PROFILES = ["default", "dev", "prod-admin"];

before(() => ensureCliBuilt());

describe("completeLine", () => {
  const cases: [string, string[]][] = [
    ["aws-runas ", ["ssm", "completion", "help"]],
    ["aws-runas s", ["ssm"]],
    ["aws-runas -v ", ["ssm", "completion", "help"]],
    ["aws-runas -d 2h ", ["ssm", "completion", "help"]],
    ["aws-runas ssm ", ["shell", "forward", "ssh", "list", "socks", "help"]],
    ["aws-runas ssm f", ["forward"]],
    ["aws-runas ssm shell ", PROFILES],
    ["aws-runas ssm sh d", ["default", "dev"]],
    ["aws-runas ssm fwd pro", ["prod-admin"]],
    ["aws-runas -vv ssm ssh -P ", PROFILES],
    ["aws-runas ssm shell -vd ", []],
    ["aws-runas ssm shell -d ", []],
    ["aws-runas ssm shell -d12h ", PROFILES],
    ["aws-runas ssm fwd -p 8080 ", PROFILES],
    ["aws-runas ssm fwd --port=8080 ", PROFILES],
    ["aws-runas ssm shell --document D --parameter k=v ", PROFILES],
    ["aws-runas ssm shell dev ", []],
    ["aws-runas ssm shell dev i-0123456789abcdef0 ", []],
    ["aws-runas ssm fwd --p", ["--port", "--plugin", "--pick"]],
    ["aws-runas ssm shell --p", ["--plugin", "--parameter", "--pick"]],
    ["aws-runas ssm ssh --", ["--ec2ic", "--plugin", "--ssh-host", "--pick", "--help", ...globalLongFlags()]],
    ["aws-runas ssm list --", ["--json", "--filter", "--help", ...globalLongFlags()]],
    ["aws-runas ssm list ", PROFILES],
    ["aws-runas ssm shell dev i-0 -- ls ", []],
    ["aws-runas --v", ["--verbose", "--version"]],
    ["aws-runas ssm --h", ["--help"]],
    ["aws-runas completion ", ["bash", "zsh", "fish"]],
    ["aws-runas completion bash ", []],
    ["aws-runas nonsense ", []],
    ["  aws-runas   ssm   ", ["shell", "forward", "ssh", "list", "socks", "help"]],
  ];
  for (const [line, expected] of cases) {
    test(JSON.stringify(line), () => {
      assert.deepEqual(
        completeLine(line, () => PROFILES),
        expected,
      );
    });
  }

  test("profile files are read only when a profile can come next", () => {
    let reads = 0;
    const profiles = () => {
      reads++;
      return PROFILES;
    };
    completeLine("aws-runas ssm ", profiles);
    completeLine("aws-runas ssm shell --", profiles);
    assert.equal(reads, 0);
    completeLine("aws-runas ssm shell ", profiles);
    assert.equal(reads, 1);
  });
});

function globalLongFlags(): string[] {
  return [
    "--duration",
    "--role-duration",
    "--otp",
    "--mfa-serial",
    "--external-id",
    "--refresh",
    "--expiration",
    "--whoami",
    "--verbose",
  ];
}

describe("target completion", () => {
  const TARGETS = ["i-0123456789abcdef0", "i-0a1b2c3d4e5f60003", "Name:web", "Name:worker"];
  const cases: [string, string[]][] = [
    ["aws-runas ssm shell dev ", TARGETS],
    ["aws-runas ssm shell dev Name:w", ["Name:web", "Name:worker"]],
    ["aws-runas ssm fwd -p 80 dev i-0a", ["i-0a1b2c3d4e5f60003"]],
    ["aws-runas ssm ssh dev ec2-user@Name:we", ["ec2-user@Name:web"]],
    // One positional: a profile, or a target when it looks like one (AWS_PROFILE names the profile).
    ["aws-runas ssm shell Name:web", ["Name:web"]],
    ["aws-runas ssm shell i-01", ["i-0123456789abcdef0"]],
    ["aws-runas ssm shell d", ["default", "dev"]],
    ["aws-runas ssm shell dev Name:web ", []],
    ["aws-runas ssm list dev ", []],
    ["aws-runas ssm shell --pick dev ", []],
  ];
  for (const [line, expected] of cases) {
    test(JSON.stringify(line), () => {
      assert.deepEqual(
        completeLine(
          line,
          () => PROFILES,
          () => TARGETS,
        ),
        expected,
      );
    });
  }

  test("targetRequest: only at a target position, with the profile when one was given", () => {
    assert.deepEqual(targetRequest("aws-runas ssm shell dev "), { profile: "dev" });
    assert.deepEqual(targetRequest("aws-runas -v ssm fwd -p 8080 prod i-"), { profile: "prod" });
    assert.deepEqual(targetRequest("aws-runas ssm shell Name:w"), { profile: undefined });
    assert.equal(targetRequest("aws-runas ssm shell "), undefined);
    assert.equal(targetRequest("aws-runas ssm shell dev --"), undefined);
    assert.equal(targetRequest("aws-runas ssm shell dev -d "), undefined);
    assert.equal(targetRequest("aws-runas ssm list dev "), undefined);
    assert.equal(targetRequest("aws-runas ssm "), undefined);
  });
});

describe("profile names", () => {
  test("config file sections", () => {
    const text = [
      "[default]",
      "region = eu-west-1",
      "[profile dev]",
      "role_arn = arn:aws:iam::123456789012:role/Dev",
      "[ profile   prod-admin ]   # production",
      "[sso-session corp]",
      "[services local]",
      "[legacy]",
      "; [profile commented]",
      "not a [section]",
    ].join("\r\n");
    assert.deepEqual(listProfileNames(text, "config"), ["default", "dev", "prod-admin", "legacy"]);
  });

  test("credentials file sections are names as written", () => {
    assert.deepEqual(listProfileNames("[default]\n[ci]\naws_access_key_id = AKIA\n", "credentials"), [
      "default",
      "ci",
    ]);
  });

  test("both files, sorted and de-duplicated; missing files are empty", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "runas-profiles-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "config"), "[default]\n[profile zeta]\n[profile alpha]\n");
    writeFileSync(join(dir, "credentials"), "[default]\n[keys-only]\n");
    assert.deepEqual(
      readProfileNames({
        AWS_CONFIG_FILE: join(dir, "config"),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
      }),
      ["alpha", "default", "keys-only", "zeta"],
    );
    assert.deepEqual(readProfileNames({ HOME: join(dir, "nowhere") }), []);
  });
});

describe("bash completion script", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "runas-complete-"));
    // The script runs `aws-runas __complete`: provide that command on PATH.
    const wrapper = join(dir, "aws-runas");
    writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(wrapper, 0o755);
    writeFileSync(
      join(dir, "config"),
      "[default]\n[profile dev]\n[profile prod-admin]\n[sso-session corp]\n",
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function bash(script: string): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync("bash", ["--norc", "--noprofile", "-c", script], {
      encoding: "utf8",
      env: {
        PATH: `${dir}:${process.env["PATH"]}`,
        HOME: dir,
        AWS_CONFIG_FILE: join(dir, "config"),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
      },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  test("source <(aws-runas completion bash) registers a completion function", () => {
    const result = bash("source <(aws-runas completion bash) && complete -p aws-runas");
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), "complete -F _aws_runas_complete aws-runas");
  });

  /** Simulates pressing Tab at the end of `line` and returns COMPREPLY. */
  function complete(line: string): string[] {
    const words = line.split(/\s+/);
    const script = [
      "source <(aws-runas completion bash)",
      `COMP_LINE=${shellQuote(line)}`,
      `COMP_POINT=${line.length}`,
      // What bash itself would set; the function only needs the current word from it.
      `COMP_WORDS=(${words.map(shellQuote).join(" ")})`,
      `COMP_CWORD=${words.length - 1}`,
      "_aws_runas_complete",
      `printf "%s\\n" "\${COMPREPLY[@]}"`,
    ].join("\n");
    const result = bash(script);
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.split("\n").filter((l) => l !== "");
  }

  test("completes subcommands", () => {
    assert.deepEqual(complete("aws-runas ssm "), ["shell", "forward", "ssh", "list", "socks", "help"]);
    assert.deepEqual(complete("aws-runas ssm fo"), ["forward"]);
  });

  test("completes profile names from AWS_CONFIG_FILE", () => {
    assert.deepEqual(complete("aws-runas ssm shell "), ["default", "dev", "prod-admin"]);
    assert.deepEqual(complete("aws-runas -v ssm fwd -p 8080 pr"), ["prod-admin"]);
  });

  test("completes flags", () => {
    assert.deepEqual(complete("aws-runas ssm ssh --ec"), ["--ec2ic"]);
  });
});

describe("zsh completion script", () => {
  const zshMissing = spawnSync("zsh", ["--version"]).error ? "zsh is not installed" : undefined;
  const skip = zshMissing ?? tmuxSkipReason() ?? false;
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "runas-complete-zsh-"));
    const wrapper = join(dir, "aws-runas");
    writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(wrapper, 0o755);
    writeFileSync(join(dir, "config"), "[default]\n[profile dev]\n[profile prod-admin]\n");
    // What a user puts in ~/.zshrc, in a private ZDOTDIR so no user's setup is read.
    writeFileSync(
      join(dir, ".zshrc"),
      [
        `export PATH=${shellQuote(dir)}:$PATH HOME=${shellQuote(dir)}`,
        `export AWS_CONFIG_FILE=${shellQuote(join(dir, "config"))}`,
        `autoload -U compinit && compinit -u -d ${shellQuote(join(dir, ".zcompdump"))}`,
        "source <(aws-runas completion zsh)",
        "PS1='zsh-ready> '",
        "",
      ].join("\n"),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("defines the completion function", { skip }, () => {
    const result = spawnSync(
      "zsh",
      [
        "-f",
        "-c",
        `autoload -U compinit && compinit -u -d ${shellQuote(join(dir, ".zcompdump-c"))} && source <("${process.execPath}" "${CLI}" completion zsh) && whence -w _aws_runas`,
      ],
      { encoding: "utf8" },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /_aws_runas: function/);
  });

  // Tab pressed in a real interactive zsh in a terminal: what a user sees on the command line.
  test("Tab completes subcommands and profile names in an interactive zsh", { skip }, async (t) => {
    const pane = await TmuxPane.start(["env", `ZDOTDIR=${dir}`, "zsh", "-i"]);
    t.after(() => pane.kill());
    await pane.waitFor(/zsh-ready> $/m);
    await pane.type("aws-runas ssm fo");
    await pane.keys("Tab");
    await pane.waitFor(/zsh-ready> aws-runas ssm forward $/m);
    await pane.type("pr");
    await pane.keys("Tab");
    await pane.waitFor(/zsh-ready> aws-runas ssm forward prod-admin $/m);
    await pane.keys("C-u");
    await pane.type("aws-runas ssm shell -v d");
    await pane.keys("Tab");
    // Two candidates share the prefix "de": zsh inserts it, and a second Tab lists both.
    await pane.waitFor(/zsh-ready> aws-runas ssm shell -v de\s*$/m);
    await pane.keys("Tab");
    await pane.waitFor(/^default\s+dev\s*$/m);
    await pane.keys("C-c");
    // Type only once zsh has drawn its fresh prompt (keys sent earlier can land on the old line).
    await pane.waitFor(/^zsh-ready> $/m);
    await pane.type("aws-runas comp");
    await pane.keys("Tab");
    await pane.waitFor(/zsh-ready> aws-runas completion $/m);
  });

  // The other documented install: the script saved as `_aws_runas` in a directory of $fpath.
  test("saved in $fpath, the first Tab already completes", { skip }, async (t) => {
    const home = join(dir, "fpath-home");
    const functions = join(home, "functions");
    mkdirSync(functions, { recursive: true });
    const script = spawnSync(process.execPath, [CLI, "completion", "zsh"], { encoding: "utf8" });
    writeFileSync(join(functions, "_aws_runas"), script.stdout);
    writeFileSync(
      join(home, ".zshrc"),
      [
        `export PATH=${shellQuote(dir)}:$PATH HOME=${shellQuote(home)}`,
        `export AWS_CONFIG_FILE=${shellQuote(join(dir, "config"))}`,
        `fpath=(${shellQuote(functions)} $fpath)`,
        `autoload -U compinit && compinit -u -d ${shellQuote(join(home, ".zcompdump"))}`,
        "PS1='zsh-ready> '",
        "",
      ].join("\n"),
    );
    const pane = await TmuxPane.start(["env", `ZDOTDIR=${home}`, "zsh", "-i"]);
    t.after(() => pane.kill());
    await pane.waitFor(/zsh-ready> $/m);
    await pane.type("aws-runas ssm fwd prod");
    await pane.keys("Tab");
    await pane.waitFor(/zsh-ready> aws-runas ssm fwd prod-admin $/m);
  });
});

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}
