// Help output of the built CLI against the help blocks of the seed (test/fixtures/seed-ssm.md, the
// project's copy of the original help texts: the contract): the seed's lines come first, byte for
// byte; our own options follow as a separate block after a blank line.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, test } from "node:test";
import { BIN, ensureCliBuilt, ROOT, runBuiltCli } from "./helpers.js";

before(() => ensureCliBuilt());

const seedText = readFileSync(new URL("../fixtures/seed-ssm.md", import.meta.url), "utf8");
const packageVersion: string = JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")).version;

/** The fenced block that follows a `#### <title>` heading in the seed. */
function seedBlock(title: string): string {
  const heading = seedText.indexOf(`#### ${title}`);
  assert.ok(heading >= 0, `seed has no "${title}" heading`);
  const open = seedText.indexOf("```", heading);
  const start = seedText.indexOf("\n", open) + 1;
  const end = seedText.indexOf("```", start);
  return seedText.slice(start, end);
}

type Sections = Map<string, string[]>;

/** Splits urfave-style help into `TITLE:` sections; content lines are whitespace-normalized. */
function sections(text: string): Sections {
  const out: Sections = new Map();
  let current: string[] | undefined;
  for (const raw of text.split("\n")) {
    if (/^[A-Z][A-Z ]*:$/.test(raw)) {
      current = [];
      out.set(raw.slice(0, -1), current);
    } else if (current) {
      current.push(raw.trim().replace(/\s+/g, " "));
    }
  }
  for (const lines of out.values()) {
    while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  }
  return out;
}

/** Column where each option's description starts (they must all line up). */
function descriptionColumns(text: string, title: string): number[] {
  const block = text.split(`${title}:\n`)[1]?.split("\n\n")[0] ?? "";
  return block
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line) => {
      const match = /^ {3}\S.*?\S {2,}(?=\S)/.exec(line);
      assert.ok(match, `option line is not "   flags  description": ${JSON.stringify(line)}`);
      return match[0].length;
    });
}

const SUBCOMMANDS: { title: string; argv: string[]; aliasArgv?: string[]; added: string[] }[] = [
  {
    title: "Shell subcommand help",
    argv: ["ssm", "shell", "--help"],
    aliasArgv: ["ssm", "sh", "-h"],
    added: [
      "--document value ",
      "--parameter value ",
      "--escape-char value ",
      "--pick ",
      "-- command [args...] ",
    ],
  },
  {
    title: "Forward subcommand help",
    argv: ["ssm", "forward", "--help"],
    aliasArgv: ["ssm", "fwd", "-h"],
    added: ["--host value ", "--pick ", "--address value ", "--local value, -L value ", "--no-reconnect "],
  },
  {
    title: "SSH subcommand help",
    argv: ["ssm", "ssh", "--help"],
    added: ["--help, -h ", "--ssh-host value ", "--pick "],
  },
];

describe("subcommand help matches the seed", () => {
  for (const { title, argv, aliasArgv, added } of SUBCOMMANDS) {
    test(`aws-runas ${argv.join(" ")} ↔ seed "${title}"`, async () => {
      const result = await runBuiltCli(argv);
      assert.equal(result.code, 0);
      assert.equal(result.stderr, "");
      const seedLines = seedBlock(title).split("\n");
      while (seedLines.at(-1) === "") seedLines.pop();
      assert.ok(result.stdout.endsWith("\n") && !result.stdout.endsWith("\n\n"));
      const ours = result.stdout.slice(0, -1).split("\n");
      // The seed's lines come first, exactly as the seed has them (spacing and alignment too).
      assert.deepEqual(ours.slice(0, seedLines.length), seedLines, "the seed's lines, unchanged");
      // Ours follow as a separate block: one blank line, then our option lines only.
      const rest = ours.slice(seedLines.length);
      assert.equal(rest[0], "", `a blank line before our options: ${JSON.stringify(rest)}`);
      const extra = rest.slice(1);
      assert.equal(extra.length, added.length, `added lines: ${JSON.stringify(extra)}`);
      for (const [i, prefix] of added.entries()) {
        assert.ok(extra[i]?.startsWith(`   ${prefix}`), `${extra[i]} should start with ${prefix}`);
      }
      const columns = extra.map((line) => /^ {3}\S.*?\S {2,}(?=\S)/.exec(line)?.[0].length);
      assert.ok(
        columns.every((c) => c !== undefined && c === columns[0]),
        `our block aligned: ${columns}`,
      );
      assert.equal(
        new Set(descriptionColumns(seedLines.join("\n") + "\n", "OPTIONS")).size,
        1,
        "the seed's block is aligned on its own",
      );
      if (aliasArgv)
        assert.equal((await runBuiltCli(aliasArgv)).stdout, result.stdout, "alias shows the same help");
    });
  }
});

describe("ssm socks help (ours, in the seed's layout)", () => {
  test("aws-runas ssm socks --help: the seed's blocks, usage and aligned options", async () => {
    const result = await runBuiltCli(["ssm", "socks", "--help"]);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, "");
    const help = sections(result.stdout);
    assert.deepEqual([...help.keys()], ["NAME", "USAGE", "DESCRIPTION", "OPTIONS"]);
    assert.deepEqual(help.get("NAME"), ["aws-runas ssm socks - Start a SOCKS5 proxy through an SSM session"]);
    assert.deepEqual(help.get("USAGE"), ["aws-runas ssm socks [command options] profile_name target_spec"]);
    assert.match((help.get("DESCRIPTION") ?? []).join(" "), /resolved on the instance side/);
    const flags = (help.get("OPTIONS") ?? []).map(
      (l) => /^--[\w-]+(?: value)?(?:, -\w(?: value)?)?/.exec(l)?.[0],
    );
    assert.deepEqual(flags, [
      "--port value, -p value",
      "--help, -h",
      "--address value",
      "--allow value",
      "--idle-timeout value",
      "--max-sessions value",
    ]);
    assert.equal(new Set(descriptionColumns(result.stdout, "OPTIONS")).size, 1);
    assert.equal((await runBuiltCli(["ssm", "help", "socks"])).stdout, result.stdout);
  });
});

describe("root and ssm help", () => {
  test("aws-runas --help lists the commands and every global option with its env variable", async () => {
    const result = await runBuiltCli(["--help"]);
    assert.equal(result.code, 0);
    const help = sections(result.stdout);
    assert.deepEqual(
      [...help.keys()],
      ["NAME", "USAGE", "VERSION", "DESCRIPTION", "COMMANDS", "GLOBAL OPTIONS"],
    );
    assert.deepEqual(help.get("VERSION"), [packageVersion]);
    const commands = (help.get("COMMANDS") ?? []).map((l) => l.split(" ")[0]);
    assert.deepEqual(commands, ["ssm", "completion", "help"]);
    const options = help.get("GLOBAL OPTIONS") ?? [];
    const expected: [string, string?][] = [
      ["--duration value, -d value", "SESSION_TOKEN_DURATION"],
      ["--role-duration value, -a value", "CREDENTIALS_DURATION"],
      ["--otp value, -o value", "MFA_CODE"],
      ["--mfa-serial value, -M value", "MFA_SERIAL"],
      ["--external-id value, -X value", "EXTERNAL_ID"],
      ["--refresh, -r"],
      ["--expiration, -e"],
      ["--whoami, -w"],
      ["--verbose, -v"],
      ["--help, -h"],
      ["--version, -V"],
    ];
    assert.equal(options.length, expected.length);
    expected.forEach(([flags, env], i) => {
      const line = options[i] ?? "";
      assert.ok(line.startsWith(`${flags} `), `${line} should start with ${flags}`);
      if (env) assert.ok(line.endsWith(`[$${env}]`), `${line} should end with [$${env}]`);
    });
    assert.equal(new Set(descriptionColumns(result.stdout, "GLOBAL OPTIONS")).size, 1);
    assert.equal((await runBuiltCli([])).stdout, result.stdout, "bare aws-runas prints the same help");
  });

  test("aws-runas ssm alone prints the ssm help and exits 0", async () => {
    const bare = await runBuiltCli(["ssm"]);
    assert.equal(bare.code, 0);
    assert.equal(bare.stderr, "");
    const help = sections(bare.stdout);
    assert.deepEqual(help.get("NAME"), ["aws-runas ssm - Helpful shortcuts for working with SSM sessions"]);
    const commands = (help.get("COMMANDS") ?? []).map((l) => l.split(" - ")[0]?.split(/ (?=[A-Z])/)[0]);
    assert.deepEqual(commands, ["shell, sh", "forward, fwd", "ssh", "list", "socks", "help"]);
    assert.equal((await runBuiltCli(["ssm", "--help"])).stdout, bare.stdout);
    assert.equal((await runBuiltCli(["help", "ssm"])).stdout, bare.stdout);
  });

  test("aws-runas completion --help", async () => {
    const result = await runBuiltCli(["completion", "--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^NAME:\n {3}aws-runas completion - /);
    assert.match(result.stdout, /source <\(aws-runas completion bash\)/);
  });
});

describe("version", () => {
  for (const [via, script] of [
    ["the bundle", undefined],
    ["the installed launcher", BIN],
  ] as const) {
    for (const argv of [["-V"], ["--version"], ["ssm", "shell", "-V"]]) {
      test(`aws-runas ${argv.join(" ")} prints the package version (${via})`, async () => {
        const result = await runBuiltCli(argv, { script });
        assert.equal(result.code, 0);
        assert.equal(result.stdout, `${packageVersion}\n`);
        assert.equal(result.stderr, "");
      });
    }
  }

  test("the installed launcher runs every other command through the bundle, exit status included", async () => {
    const help = await runBuiltCli(["ssm", "shell", "--help"], { script: BIN });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^NAME:\n {3}aws-runas ssm shell - /);
    const usage = await runBuiltCli(["ssm", "bogus"], { script: BIN });
    assert.equal(usage.code, 2);
    assert.equal(usage.stdout, "");
    assert.match(usage.stderr, /^aws-runas: unknown command "ssm bogus"$/m);
  });
});
