// Every command-line mistake: exit code 2, nothing on stdout, exactly one message line and one
// hint line on stderr. Runs the built CLI.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { BIN, cleanEnv, ensureCliBuilt, runBuiltCli } from "./helpers.js";

before(() => ensureCliBuilt());

const ID = "i-0123456789abcdef0";

/** [argv, expected message line (after "aws-runas: "), expected hint fragment] */
const CASES: [string[], string | RegExp, string | RegExp][] = [
  // positionals
  [["ssm", "shell"], "missing target_spec", "usage: aws-runas ssm shell"],
  [["ssm", "forward"], "missing target_spec", "usage: aws-runas ssm forward"],
  [["ssm", "ssh", "-v"], "missing target_spec", "usage: aws-runas ssm ssh"],
  [["ssm", "shell", "dev", ID, "extra"], 'too many arguments: "extra"', "usage: aws-runas ssm shell"],
  [["ssm", "ssh", "a", "b", "c", "d"], 'too many arguments: "c" "d"', "usage: aws-runas ssm ssh"],
  [["ssm", "shell", "", ID], "empty profile_name", "AWS_PROFILE"],
  [["ssm", "shell", " "], "empty target", "instance id"],
  // target specs (parsed by src/target/spec.ts)
  [["ssm", "forward", ID], `invalid target "${ID}": missing the remote port`, "TARGET:PORT"],
  [["ssm", "forward", `${ID}:http`], `invalid target "${ID}:http": port "http" is not a number`, "1-65535"],
  [["ssm", "forward", `${ID}:70000`], `invalid target "${ID}:70000": port 70000 is out of range`, "1-65535"],
  [["ssm", "ssh", "u@"], 'invalid target "u@": no host', "instance id"],
  [["ssm", "ssh", "h:0"], 'invalid target "h:0": port 0 is out of range', "1-65535"],
  // unbalanced brackets and empty tag parts (issue 14 item 16: were tags, or runtime errors with exit 1)
  [["ssm", "shell", "plain", "[::1"], `invalid target "[::1": '[' without a closing ']'`, "[2001:db8::1]"],
  [
    ["ssm", "ssh", "plain", "u@[::1"],
    `invalid target "u@[::1": '[' without a closing ']'`,
    "[2001:db8::1]:22",
  ],
  [
    ["ssm", "forward", "plain", "[2001:db8::10"],
    `invalid target "[2001:db8::10": '[' without a closing ']'`,
    "IPv6",
  ],
  [["ssm", "shell", "plain", ":"], `invalid target ":": empty tag key before ':'`, "Name:web"],
  [["ssm", "shell", "plain", "tag:"], `invalid target "tag:": empty tag value after ':'`, "Name:web"],
  [["ssm", "forward", "plain", "tag::80"], `invalid target "tag::80": empty tag value after ':'`, "Name:web"],
  // one IPv6 rule for ssh and forward: a bare literal whose last group could be a port is ambiguous
  [
    ["ssm", "ssh", "plain", "root@2001:db8::10:2222"],
    'invalid target "root@2001:db8::10:2222": ambiguous IPv6 address, the last group could be a port',
    "[2001:db8::10]:2222",
  ],
  [
    ["ssm", "forward", "plain", "2001:db8::10:9000"],
    'invalid target "2001:db8::10:9000": ambiguous IPv6 address, the last group could be a port',
    "[2001:db8::10]:9000",
  ],
  // --port
  [["ssm", "forward", "-p", "abc", `${ID}:80`], 'invalid --port "abc": not a number', "leave out -p"],
  [["ssm", "forward", "-p", "-1", `${ID}:80`], 'invalid --port "-1": not a number', "leave out -p"],
  [["ssm", "forward", "--port", "65536", `${ID}:80`], "invalid --port 65536: out of range", "1-65535"],
  // issue 14 item 15: 0 is not "random port"; leaving -p out is
  [
    ["ssm", "forward", "-p", "0", `${ID}:80`],
    "invalid --port 0: out of range",
    "leave out -p for a random port",
  ],
  [["ssm", "forward", "--port", "00", `${ID}:80`], "invalid --port 00: out of range", "1-65535"],
  [
    ["ssm", "forward", `${ID}:80`, "-p"],
    "option '-p, --port <value>' argument missing",
    "aws-runas ssm forward --help",
  ],
  // --host
  [["ssm", "forward", "--host", "", `${ID}:80`], 'invalid --host ""', "host name"],
  [["ssm", "forward", "--host", "a b", `${ID}:80`], 'invalid --host "a b"', "host name"],
  [
    ["ssm", "forward", "-L", "8080:db", ID],
    /^aws-runas: invalid -L "8080:db": /,
    "local_port:host:host_port",
  ],
  [["ssm", "forward", "-L", "1:localhost:80", "-p", "2", ID], "-p does not go with -L", "-L [bind_address"],
  [["ssm", "forward", "-L", "1:localhost:80", "--host", "h", ID], "--host does not go with -L", "-L"],
  [["ssm", "forward", "-L", "1:localhost:80", "-P", ID], "-L needs the built-in client", "--plugin"],
  [["ssm", "forward", "-L", "1:localhost:80", `${ID}:80`], /target_spec is the instance alone/, `${ID}`],
  [
    ["ssm", "forward", "--address", "example.com", `${ID}:80`],
    /invalid --address "example.com"/,
    "127.0.0.1",
  ],
  [
    ["ssm", "forward", "--address", "0.0.0.0", "-P", `${ID}:80`],
    /--address needs the built-in client/,
    "--plugin",
  ],
  [["ssm", "ssh", "--host", "x", ID], "unknown option '--host'", "aws-runas ssm ssh --help"],
  [["ssm", "ssh", "-p", "22", ID], "unknown option '-p'", "aws-runas ssm ssh --help"],
  [["ssm", "shell", "--ec2ic", ID], "unknown option '--ec2ic'", "aws-runas ssm shell --help"],
  [["ssm", "forward", "--pot", "1", `${ID}:80`], "unknown option '--pot'", "did you mean --port?"],
  // --ssh-host
  [["ssm", "ssh", "--ssh-host", "%n", ID], 'invalid --ssh-host "%n"', "--ssh-host %n inside a ProxyCommand"],
  [["ssm", "ssh", "--ssh-host", "", ID], 'invalid --ssh-host ""', "--ssh-host %n"],
  [["ssm", "shell", "--ssh-host", "x", ID], "unknown option '--ssh-host'", "aws-runas ssm shell --help"],
  // --document / --parameter
  [["ssm", "shell", "--parameter", "k=v", ID], "--parameter needs --document", "--document NAME"],
  [
    ["ssm", "shell", "--document", "D", "--parameter", "novalue", ID],
    'invalid --parameter "novalue": expected key=value',
    "command=",
  ],
  [
    ["ssm", "shell", "--document", "D", "--parameter", "=v", ID],
    'invalid --parameter "=v": expected key=value',
    "command=",
  ],
  [["ssm", "shell", "--document", "", ID], "empty value for --document", "session document"],
  // remote commands, escapes, list, --pick (issue 18)
  [["ssm", "shell", ID, "--"], "missing command after --", "-- command [args...]"],
  [["ssm", "shell", "-P", ID, "--", "ls"], "--plugin cannot run a command after --", "leave out --plugin"],
  [["ssm", "shell", "--escape-char", "ab", ID], 'invalid --escape-char "ab"', "none"],
  [["ssm", "list", "--filter", "=x"], 'invalid --filter "=x": expected key=value', "Name=web*"],
  [["ssm", "list", "a", "b"], 'too many arguments: "b"', "usage: aws-runas ssm list"],
  [
    ["ssm", "shell", "--pick", "a", "b"],
    'too many arguments with --pick: "b"',
    "usage: aws-runas ssm shell --pick",
  ],
  [
    ["ssm", "forward", "--pick", "dev"],
    "--pick needs the remote port, as :port",
    "usage: aws-runas ssm forward --pick",
  ],
  // global flags
  [["ssm", "shell", "--otp", "", ID], "empty value for --otp", "--otp"],
  // issue 14 item 12: an MFA code is checked before any call, and never echoed
  [["-o", "abc", "ssm", "shell", ID], "invalid --otp: an MFA code is 6 digits", "leave out -o"],
  [["ssm", "shell", "--otp", "12345", ID], "invalid --otp: an MFA code is 6 digits", "MFA device"],
  [["ssm", "forward", "-o", "1234567", `${ID}:80`], "invalid --otp: an MFA code is 6 digits", "MFA device"],
  [["ssm", "ssh", "-o", "12a456", ID], "invalid --otp: an MFA code is 6 digits", "MFA device"],
  [["-d", " ", "ssm", "shell", ID], "empty value for --duration", "--duration"],
  [["ssm", "shell", ID, "-M"], "option '-M, --mfa-serial <value>' argument missing", "--help"],
  [["--bogus"], "unknown option '--bogus'", "aws-runas --help"],
  // commands
  [["ssm", "foo"], 'unknown command "ssm foo"', "aws-runas ssm --help"],
  [["foo"], 'unknown command "foo"', "aws-runas --help"],
  [["help", "nothing"], 'no help for unknown command "nothing"', "aws-runas --help"],
  [["completion"], "missing shell name", "aws-runas completion bash|zsh|fish"],
  [["completion", "tcsh"], 'unsupported shell "tcsh"', "aws-runas completion bash|zsh|fish"],
];

describe("usage errors exit 2 with one message line and a hint", () => {
  for (const [argv, message, hint] of CASES) {
    test(`aws-runas ${argv.map((a) => (a === "" || a.includes(" ") ? JSON.stringify(a) : a)).join(" ")}`, async () => {
      const result = await runBuiltCli(argv);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, "");
      const lines = result.stderr.split("\n");
      assert.equal(lines.length, 3, `two lines and a final newline: ${JSON.stringify(result.stderr)}`);
      assert.equal(lines[2], "");
      const [first = "", second = ""] = lines;
      if (typeof message === "string") assert.equal(first, `aws-runas: ${message}`);
      else assert.match(first, message);
      assert.ok(second.startsWith("hint: "), second);
      if (typeof hint === "string") assert.ok(second.includes(hint), `${second} should mention ${hint}`);
      else assert.match(second, hint);
    });
  }
});

describe("MFA_CODE of the wrong shape is a usage error too", () => {
  test("MFA_CODE=abc", async () => {
    const result = await runBuiltCli(["ssm", "shell", ID], { env: cleanEnv({ MFA_CODE: "abc" }) });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      "aws-runas: invalid MFA_CODE: an MFA code is 6 digits\nhint: give the current code from the MFA device, or unset MFA_CODE to be prompted\n",
    );
  });
});

describe("under -v, a failure's stack names our source files (source maps), never minified chunks", () => {
  const env = cleanEnv({ AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" });
  for (const [script, what] of [
    [undefined, "dist/aws-runas.js"],
    [BIN, "the bin launcher"],
  ] as const) {
    test(`-v through ${what}`, async () => {
      const result = await runBuiltCli(["-v", "ssm", "shell", "nosuch", ID], {
        env,
        ...(script ? { script } : {}),
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^aws-runas: profile "nosuch" not found$/m);
      const frames = result.stderr.split("\n").filter((l) => /^\s+at /.test(l));
      assert.ok(frames.length >= 3, result.stderr);
      assert.match(frames[0]!, /\bsrc\/config\/profile\.ts:\d+:\d+\)$/, result.stderr);
      assert.ok(
        frames.every((f) => !/dist\/chunks\//.test(f)),
        `frames in minified chunks:\n${result.stderr}`,
      );
    });
  }

  test("without -v: no stack at all", async () => {
    const result = await runBuiltCli(["ssm", "shell", "nosuch", ID], { env });
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.stderr, /^\s+at /m);
  });
});
