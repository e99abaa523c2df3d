import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import {
  aliasesForHostName,
  type ConfigFile,
  evaluateSshConfig,
  parseSshConfigText,
  splitConfigLine,
} from "../../packages/aws-runas/src/ssh/config.js";
import { loadSshConfig } from "../../packages/aws-runas/src/ssh/config-file.js";
import { tempDir } from "./openssh-tools.js";

const run = promisify(execFile);

/** `${NAME}` as ssh_config writes an environment variable. */
const env = (name: string) => `$${"{"}${name}}`;

function configOf(text: string, path = "cfg"): ConfigFile {
  const { directives, notes } = parseSshConfigText(text, path);
  return { path, directives, includes: new Map(), notes };
}

/** The list `ssh -G` prints when no IdentityFile applies. */
const SSH_DEFAULTS = [
  "id_rsa",
  "id_ecdsa",
  "id_ecdsa_sk",
  "id_ed25519",
  "id_ed25519_sk",
  "id_xmss",
  "id_dsa",
].map((n) => `~/.ssh/${n}`);

/** What the real ssh client says applies (`ssh -G`), as independent truth. */
async function sshG(configPath: string, host: string): Promise<string[]> {
  const { stdout } = await run("ssh", ["-G", "-F", configPath, host], { timeout: 10_000 });
  const files = stdout
    .split("\n")
    .filter((l) => l.startsWith("identityfile "))
    .map((l) => l.slice("identityfile ".length));
  return files.join("\n") === SSH_DEFAULTS.join("\n") ? [] : files;
}

describe("splitConfigLine", () => {
  const cases: [string, string[]][] = [
    ["a b  c", ["a", "b", "c"]],
    ['"a b" c', ["a b", "c"]],
    ["'a b' c", ["a b", "c"]],
    ['a\\ b "c\\"d"', ["a b", 'c"d']],
    ["a # comment", ["a"]],
    ["a#b", ["a#b"]],
    ['"#x" y', ["#x", "y"]],
    ["", []],
  ];
  for (const [text, words] of cases) {
    test(JSON.stringify(text), () => assert.deepEqual(splitConfigLine(text).words, words));
  }
  test("an unterminated quote is an error", () => {
    assert.equal(splitConfigLine('"abc').error, "unterminated quote");
  });
});

describe("parseSshConfigText", () => {
  test("keywords are lower-cased, `=` separates, comments and blank lines are skipped", () => {
    const { directives, notes } = parseSshConfigText(
      "# top\nHost web\n\n  IdentityFile=~/.ssh/a\n  HostName = i-0abc  \n\tUser\tbob # trailing\nbad line!\n",
    );
    assert.deepEqual(
      directives.map((d) => [d.keyword, d.args, d.line]),
      [
        ["host", ["web"], 2],
        ["identityfile", ["~/.ssh/a"], 4],
        ["hostname", ["i-0abc"], 5],
        ["user", ["bob"], 6],
        ["bad", ["line!"], 7],
      ],
    );
    assert.deepEqual(notes, []);
  });

  test("unparsable lines become notes with file and line", () => {
    const { directives, notes } = parseSshConfigText('Host a\n  IdentityFile "x\n!!\n', "my.cfg");
    assert.equal(directives.length, 1);
    assert.deepEqual(notes, ["my.cfg:2: unterminated quote", "my.cfg:3: cannot parse line"]);
  });
});

/** Scenarios checked against our evaluator and against `ssh -G`. */
const SCENARIOS: { name: string; config: string; host: string; identityFiles: string[] }[] = [
  {
    name: "global entries before any Host apply to every host",
    config: "IdentityFile /k/global\nHost web\n  IdentityFile /k/web\n",
    host: "other",
    identityFiles: ["/k/global"],
  },
  {
    name: "IdentityFile accumulates over every matching block, in file order",
    config:
      "Host i-*\n  IdentityFile /k/ids\nHost *\n  IdentityFile /k/all\nHost web\n  IdentityFile /k/web\n",
    host: "i-0123456789abcdef0",
    identityFiles: ["/k/ids", "/k/all"],
  },
  {
    name: "several patterns on one Host line",
    config: "Host web db i-*\n  IdentityFile /k/multi\n",
    host: "db",
    identityFiles: ["/k/multi"],
  },
  {
    name: "a negated pattern excludes the host",
    config: "Host * !bastion\n  IdentityFile /k/inner\nHost bastion\n  IdentityFile /k/bastion\n",
    host: "bastion",
    identityFiles: ["/k/bastion"],
  },
  {
    name: "? matches one character",
    config: "Host web?\n  IdentityFile /k/web1\n",
    host: "web12",
    identityFiles: [],
  },
  {
    name: "tag targets match literally, case-sensitively",
    config: "Host Name:web*\n  IdentityFile /k/tag\nHost name:*\n  IdentityFile /k/lower\n",
    host: "Name:web-1",
    identityFiles: ["/k/tag"],
  },
  {
    name: "quoted paths with spaces and Keyword=value",
    config: 'Host web\n  IdentityFile "/k/with space"\n  IdentityFile=/k/eq\n',
    host: "web",
    identityFiles: ["/k/with space", "/k/eq"],
  },
  {
    name: "keywords are case-insensitive",
    config: "HOST web\n  identityFILE /k/a\n",
    host: "web",
    identityFiles: ["/k/a"],
  },
  {
    name: "Match all applies like Host *",
    config: "Host web\n  IdentityFile /k/web\nMatch all\n  IdentityFile /k/all\n",
    host: "other",
    identityFiles: ["/k/all"],
  },
];

describe("evaluateSshConfig", () => {
  for (const s of SCENARIOS) {
    test(s.name, async (t) => {
      assert.deepEqual(evaluateSshConfig(configOf(s.config), s.host).identityFiles, s.identityFiles);
      const dir = await tempDir(t);
      const path = join(dir, "config");
      await writeFile(path, s.config);
      assert.deepEqual(await sshG(path, s.host), s.identityFiles, "ssh -G disagrees with the scenario");
    });
  }

  test("first HostName / IdentityAgent / IdentitiesOnly win", () => {
    const settings = evaluateSshConfig(
      configOf(
        "Host web\n  HostName i-0aaa\n  IdentitiesOnly yes\n  IdentityAgent none\n" +
          "Host *\n  HostName i-0bbb\n  IdentitiesOnly no\n  IdentityAgent /x\n",
      ),
      "web",
    );
    assert.equal(settings.hostName, "i-0aaa");
    assert.equal(settings.identitiesOnly, true);
    assert.equal(settings.identityAgent, "none");
  });

  test("other Match blocks are skipped with a note", () => {
    const settings = evaluateSshConfig(
      configOf("Match host web exec true\n  IdentityFile /k/match\nHost web\n  IdentityFile /k/web\n", "cfg"),
      "web",
    );
    assert.deepEqual(settings.identityFiles, ["/k/web"]);
    assert.deepEqual(settings.notes, ["cfg:1: Match host web exec true not evaluated; its block is skipped"]);
  });

  test("nothing applies in an empty config", () => {
    const settings = evaluateSshConfig(configOf(""), "web");
    assert.deepEqual(settings.identityFiles, []);
    assert.equal(settings.hostName, undefined);
  });
});

describe("aliasesForHostName", () => {
  test("finds literal aliases whose HostName is the host", () => {
    const config = configOf(
      "Host web web-alt\n  HostName i-0abc\nHost %h-*\n  HostName i-0abc\nHost db\n  HostName i-0def\n" +
        "Host self\n  HostName %h.internal\n",
    );
    assert.deepEqual(aliasesForHostName(config, "i-0abc"), ["web", "web-alt"]);
    assert.deepEqual(aliasesForHostName(config, "self.internal"), ["self"]);
    assert.deepEqual(aliasesForHostName(config, "i-0fff"), []);
  });
});

describe("loadSshConfig", () => {
  test("a missing file is an empty config", async (t) => {
    const dir = await tempDir(t);
    const config = await loadSshConfig(join(dir, "nope"), { home: dir, env: {} });
    assert.deepEqual(config.directives, []);
    assert.deepEqual(config.notes, []);
  });

  test("Include: relative to ~/.ssh, globs sorted, ~ and $VAR, conditional on the enclosing block", async (t) => {
    const home = await tempDir(t);
    const ssh = join(home, ".ssh");
    await mkdir(join(ssh, "conf.d"), { recursive: true });
    await mkdir(join(home, "elsewhere"));
    await writeFile(
      join(ssh, "conf.d", "b.conf"),
      "IdentityFile /k/b\nHost other\n  IdentityFile /k/b-other\n",
    );
    await writeFile(join(ssh, "conf.d", "a.conf"), "IdentityFile /k/a\n");
    await writeFile(join(ssh, "conf.d", ".hidden.conf"), "IdentityFile /k/hidden\n");
    await writeFile(join(home, "elsewhere", "env.conf"), "IdentityFile /k/env\n");
    await writeFile(join(home, "elsewhere", "tilde.conf"), "IdentityFile /k/tilde\n");
    await writeFile(join(home, "elsewhere", "db.conf"), "IdentityFile /k/db-only\n");
    const main = join(ssh, "config");
    await writeFile(
      main,
      "Include conf.d/*.conf\n" +
        `Host web\n  Include ${env("CONF")}/env.conf ~/elsewhere/tilde.conf\n  IdentityFile /k/after-include\n` +
        "Host db\n  Include ~/elsewhere/db.conf\n",
    );
    const config = await loadSshConfig(main, { home, env: { CONF: join(home, "elsewhere") } });
    // The `Host other` inside b.conf must not leak into the main file's state.
    assert.deepEqual(evaluateSshConfig(config, "web").identityFiles, [
      "/k/a",
      "/k/b",
      "/k/env",
      "/k/tilde",
      "/k/after-include",
    ]);
    assert.deepEqual(evaluateSshConfig(config, "db").identityFiles, ["/k/a", "/k/b", "/k/db-only"]);
    assert.deepEqual(evaluateSshConfig(config, "other").identityFiles, ["/k/a", "/k/b", "/k/b-other"]);
  });

  test("include loops stop at the depth limit with a note", async (t) => {
    const home = await tempDir(t);
    const path = join(home, "loop");
    await writeFile(path, `IdentityFile /k/loop\nInclude ${path}\n`);
    const config = await loadSshConfig(path, { home, env: {} });
    const settings = evaluateSshConfig(config, "web");
    assert.equal(settings.identityFiles.length, 17);
    assert.ok(
      settings.notes.some((n) => n.includes("Include nested deeper than 16")),
      settings.notes.join("\n"),
    );
  });

  test("an unexpandable include is a note, not an error", async (t) => {
    const home = await tempDir(t);
    const path = join(home, "config");
    await writeFile(path, `Include ${env("NOT_SET")}/x ~bob/y\nIdentityFile /k/main\n`);
    const settings = evaluateSshConfig(await loadSshConfig(path, { home, env: {} }), "web");
    assert.deepEqual(settings.identityFiles, ["/k/main"]);
    assert.equal(settings.notes.length, 2);
  });
});
