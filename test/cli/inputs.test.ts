// argv → input tables (ni style): the real commander tree, parsed in-process, no I/O.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PICK_TARGET } from "../../packages/aws-runas/src/cli/commands/pick.js";
import type { CommandInput, Env, GlobalInput } from "../../packages/aws-runas/src/cli/inputs.js";
import { parseCommandLine } from "../../packages/aws-runas/src/cli/program.js";

function parse(argv: readonly string[], env: Env = {}): CommandInput {
  const outcome = parseCommandLine(argv, { env, writeOut: () => {}, writeErr: () => {} });
  assert.equal(outcome.kind, "run", `${argv.join(" ")} should run a command`);
  return (outcome as { input: CommandInput }).input;
}

const NO_GLOBALS: GlobalInput = {
  sessionTokenDuration: undefined,
  roleDuration: undefined,
  mfaCode: undefined,
  mfaSerial: undefined,
  externalId: undefined,
  refresh: false,
  showExpiration: false,
  whoami: false,
  verbosity: 0,
};

const ALL_GLOBALS: GlobalInput = {
  sessionTokenDuration: "2h",
  roleDuration: "30m",
  mfaCode: "123456",
  mfaSerial: "arn:aws:iam::123456789012:mfa/me",
  externalId: "ext-1",
  refresh: true,
  showExpiration: true,
  whoami: true,
  verbosity: 1,
};
const ALL_GLOBAL_FLAGS = [
  "-d",
  "2h",
  "-a",
  "30m",
  "-o",
  "123456",
  "-M",
  "arn:aws:iam::123456789012:mfa/me",
  "-X",
  "ext-1",
  "-r",
  "-e",
  "-w",
  "-v",
];
const ALL_GLOBAL_LONG_FLAGS = [
  "--duration=2h",
  "--role-duration",
  "30m",
  "--otp",
  "123456",
  "--mfa-serial",
  "arn:aws:iam::123456789012:mfa/me",
  "--external-id=ext-1",
  "--refresh",
  "--expiration",
  "--whoami",
  "--verbose",
];

const shell = (over: Partial<Extract<CommandInput, { command: "shell" }>> = {}): CommandInput => ({
  command: "shell",
  global: NO_GLOBALS,
  profile: undefined,
  target: "i-0123456789abcdef0",
  plugin: false,
  document: undefined,
  parameters: {},
  remoteCommand: undefined,
  escapeChar: 0x7e,
  ...over,
});
const forward = (over: Partial<Extract<CommandInput, { command: "forward" }>> = {}): CommandInput => ({
  command: "forward",
  global: NO_GLOBALS,
  profile: undefined,
  target: "i-0123456789abcdef0",
  remotePort: 8080,
  localPort: 0,
  remoteHost: undefined,
  plugin: false,
  bindAddress: "127.0.0.1",
  forwards: [],
  reconnect: true,
  ...over,
});
const ssh = (over: Partial<Extract<CommandInput, { command: "ssh" }>> = {}): CommandInput => ({
  command: "ssh",
  global: NO_GLOBALS,
  profile: undefined,
  target: "i-0123456789abcdef0",
  user: "ec2-user",
  port: 22,
  ec2ic: false,
  plugin: false,
  ...over,
});

const ID = "i-0123456789abcdef0";

describe("argv → input", () => {
  const cases: [string, string[], CommandInput, Env?][] = [
    // positionals
    ["profile and target", ["ssm", "shell", "dev", ID], shell({ profile: "dev" })],
    ["target only: profile left to the credentials layer", ["ssm", "shell", ID], shell()],
    ["alias sh", ["ssm", "sh", "dev", ID], shell({ profile: "dev" })],
    [
      "role ARN as the profile",
      ["ssm", "shell", "arn:aws:iam::123456789012:role/Admin", "Name:web"],
      shell({ profile: "arn:aws:iam::123456789012:role/Admin", target: "Name:web" }),
    ],
    ["IPv6 shell target in brackets", ["ssm", "shell", "[2001:db8::1]"], shell({ target: "2001:db8::1" })],
    // global flags: before ssm, between, after the subcommand, long forms
    ["global flags before ssm", [...ALL_GLOBAL_FLAGS, "ssm", "shell", ID], shell({ global: ALL_GLOBALS })],
    [
      "global flags after the subcommand",
      ["ssm", "shell", ...ALL_GLOBAL_FLAGS, ID],
      shell({ global: ALL_GLOBALS }),
    ],
    [
      "global flags between ssm and subcommand",
      ["ssm", ...ALL_GLOBAL_FLAGS, "shell", ID],
      shell({ global: ALL_GLOBALS }),
    ],
    [
      "global flags after the positionals",
      ["ssm", "shell", ID, ...ALL_GLOBAL_FLAGS],
      shell({ global: ALL_GLOBALS }),
    ],
    ["long global flags", ["ssm", "shell", ...ALL_GLOBAL_LONG_FLAGS, ID], shell({ global: ALL_GLOBALS })],
    [
      "a value after the subcommand wins over one before ssm",
      ["-d", "1h", "ssm", "shell", "-d", "3h", ID],
      shell({ global: { ...NO_GLOBALS, sessionTokenDuration: "3h" } }),
    ],
    // -v counting
    ["-vvv", ["-vvv", "ssm", "shell", ID], shell({ global: { ...NO_GLOBALS, verbosity: 3 } })],
    [
      "-vv after the subcommand",
      ["ssm", "shell", "-vv", ID],
      shell({ global: { ...NO_GLOBALS, verbosity: 2 } }),
    ],
    [
      "-v before plus -v after add up",
      ["-v", "ssm", "shell", "--verbose", ID],
      shell({ global: { ...NO_GLOBALS, verbosity: 2 } }),
    ],
    [
      "more than three -v is capped",
      ["-vvvvv", "ssm", "shell", ID],
      shell({ global: { ...NO_GLOBALS, verbosity: 3 } }),
    ],
    [
      "short group mixing command and global flags",
      ["ssm", "shell", "-Pv", ID],
      shell({ plugin: true, global: { ...NO_GLOBALS, verbosity: 1 } }),
    ],
    [
      "short group global first",
      ["ssm", "shell", "-vrP", ID],
      shell({ plugin: true, global: { ...NO_GLOBALS, verbosity: 1, refresh: true } }),
    ],
    // environment fallbacks
    [
      "env fallbacks",
      ["ssm", "shell", ID],
      shell({
        global: {
          ...NO_GLOBALS,
          sessionTokenDuration: "8h",
          roleDuration: "2h",
          mfaCode: "654321",
          mfaSerial: "SERIAL",
          externalId: "EXT",
        },
      }),
      {
        SESSION_TOKEN_DURATION: "8h",
        CREDENTIALS_DURATION: "2h",
        MFA_CODE: "654321",
        MFA_SERIAL: "SERIAL",
        EXTERNAL_ID: "EXT",
      },
    ],
    [
      "flags win over env",
      ["-d", "1h", "ssm", "shell", "-o", "111111", ID],
      shell({ global: { ...NO_GLOBALS, sessionTokenDuration: "1h", mfaCode: "111111", roleDuration: "2h" } }),
      { SESSION_TOKEN_DURATION: "8h", MFA_CODE: "654321", CREDENTIALS_DURATION: "2h" },
    ],
    [
      "empty env values are ignored",
      ["ssm", "shell", ID],
      shell(),
      { MFA_CODE: "", SESSION_TOKEN_DURATION: " " },
    ],
    // shell flags
    ["--plugin", ["ssm", "shell", "--plugin", ID], shell({ plugin: true })],
    ["-P", ["ssm", "shell", "-P", "dev", ID], shell({ plugin: true, profile: "dev" })],
    [
      "--document with repeated --parameter",
      [
        "ssm",
        "shell",
        "--document",
        "AWS-StartInteractiveCommand",
        "--parameter",
        "command=top -b",
        "--parameter",
        "command=uptime",
        "--parameter=env=A=1",
        ID,
      ],
      shell({
        document: "AWS-StartInteractiveCommand",
        parameters: { command: ["top -b", "uptime"], env: ["A=1"] },
      }),
    ],
    [
      "--document with --plugin is fine",
      ["ssm", "shell", "-P", "--document", "Custom-Doc", ID],
      shell({ plugin: true, document: "Custom-Doc" }),
    ],
    // forward
    ["forward target:port", ["ssm", "forward", `${ID}:8080`], forward()],
    [
      "alias fwd with -p",
      ["ssm", "fwd", "-p", "8888", "dev", `${ID}:9000`],
      forward({ profile: "dev", localPort: 8888, remotePort: 9000 }),
    ],
    ["--port=N", ["ssm", "forward", "--port=443", `${ID}:8080`], forward({ localPort: 443 })],
    ["-pN", ["ssm", "forward", "-p5432", `${ID}:8080`], forward({ localPort: 5432 })],
    ["tag target with colon", ["ssm", "forward", "Name:web:8080"], forward({ target: "Name:web" })],
    [
      "--host for remote-host forwarding",
      ["ssm", "forward", "--host", "db.internal", "-P", `${ID}:5432`],
      forward({ remoteHost: "db.internal", remotePort: 5432, plugin: true }),
    ],
    [
      "forward with globals after",
      ["ssm", "fwd", `${ID}:8080`, "-w", "-e"],
      forward({ global: { ...NO_GLOBALS, whoami: true, showExpiration: true } }),
    ],
    // remote command after --, escape character
    [
      "remote command after --",
      ["ssm", "shell", "dev", ID, "--", "ls", "-l", "--", "x"],
      shell({ profile: "dev", remoteCommand: ["ls", "-l", "--", "x"] }),
    ],
    [
      "remote command with flags before --",
      ["ssm", "sh", "-v", ID, "--", "uptime"],
      shell({ remoteCommand: ["uptime"], global: { ...NO_GLOBALS, verbosity: 1 } }),
    ],
    ["--escape-char none", ["ssm", "shell", "--escape-char", "none", ID], shell({ escapeChar: null })],
    ["--escape-char ^]", ["ssm", "shell", "--escape-char=^]", ID], shell({ escapeChar: 0x1d })],
    [
      "RUNAS_ESCAPE_CHAR=none",
      ["ssm", "shell", ID],
      shell({ escapeChar: null }),
      { RUNAS_ESCAPE_CHAR: "none" },
    ],
    [
      "--escape-char wins over RUNAS_ESCAPE_CHAR",
      ["ssm", "shell", "--escape-char", "%", ID],
      shell({ escapeChar: 0x25 }),
      { RUNAS_ESCAPE_CHAR: "none" },
    ],
    // --pick: the target comes from the picker
    ["shell --pick", ["ssm", "shell", "--pick", "dev"], shell({ profile: "dev", target: PICK_TARGET })],
    ["shell --pick without a profile", ["ssm", "shell", "--pick"], shell({ target: PICK_TARGET })],
    [
      "forward --pick with :port",
      ["ssm", "forward", "--pick", "dev", ":5432"],
      forward({ profile: "dev", target: PICK_TARGET, remotePort: 5432 }),
    ],
    [
      "ssh --pick with user@:port",
      ["ssm", "ssh", "--pick", "ubuntu@:2222"],
      ssh({ target: PICK_TARGET, user: "ubuntu", port: 2222 }),
    ],
    ["--address ::1", ["ssm", "forward", "--address", "::1", `${ID}:8080`], forward({ bindAddress: "::1" })],
    ["--address [::1]", ["ssm", "forward", "--address=[::1]", `${ID}:8080`], forward({ bindAddress: "::1" })],
    [
      "repeated -L with a tag target and --address as default bind",
      [
        "ssm",
        "forward",
        "-L",
        "8080:localhost:80",
        "--address",
        "::1",
        "-L",
        "[::1]:0:db.internal:5432",
        "dev",
        "Name:web",
      ],
      forward({
        profile: "dev",
        target: "Name:web",
        remotePort: 0,
        bindAddress: "::1",
        forwards: [
          { bindAddress: undefined, localPort: 8080, host: "localhost", hostPort: 80 },
          { bindAddress: "::1", localPort: 0, host: "db.internal", hostPort: 5432 },
        ],
      }),
    ],
    // ssh
    ["ssh defaults", ["ssm", "ssh", ID], ssh()],
    [
      "ssh user@host:port with profile",
      ["ssm", "ssh", "dev", `ubuntu@${ID}:2222`],
      ssh({ profile: "dev", user: "ubuntu", port: 2222 }),
    ],
    ["ssh tag host", ["ssm", "ssh", "u@Name:web"], ssh({ user: "u", target: "Name:web" })],
    ["ssh --ec2ic -P", ["ssm", "ssh", "--ec2ic", "-P", ID], ssh({ ec2ic: true, plugin: true })],
    [
      "ssh --ec2ic --ssh-host (ssh's %n)",
      ["ssm", "ssh", "--ec2ic", "--ssh-host", "web.prod", ID],
      ssh({ ec2ic: true, sshHost: "web.prod" }),
    ],
    [
      "ssh with globals before",
      ["-o", "123456", "ssm", "ssh", ID],
      ssh({ global: { ...NO_GLOBALS, mfaCode: "123456" } }),
    ],
    // completion
    ["completion bash", ["completion", "bash"], { command: "completion", shell: "bash" }],
    ["completion zsh", ["completion", "zsh"], { command: "completion", shell: "zsh" }],
    [
      "hidden __complete",
      ["__complete", "--", "aws-runas ssm -v "],
      { command: "complete", line: "aws-runas ssm -v " },
    ],
  ];
  for (const [name, argv, expected, env] of cases) {
    test(`${name}: ${argv.join(" ")}`, () => {
      assert.deepEqual(parse(argv, env), expected);
    });
  }
});

describe("help and version stop before running anything", () => {
  const cases: [string[], RegExp][] = [
    [[], /^NAME:\n {3}aws-runas - /],
    [["--help"], /^NAME:\n {3}aws-runas - /],
    [["ssm"], /^NAME:\n {3}aws-runas ssm - /],
    [["ssm", "-h"], /^NAME:\n {3}aws-runas ssm - /],
    [["ssm", "help", "fwd"], /^NAME:\n {3}aws-runas ssm forward - /],
    [["help", "ssm", "sh"], /^NAME:\n {3}aws-runas ssm shell - /],
    [["ssm", "ssh", "--help", "dev", ID], /^NAME:\n {3}aws-runas ssm ssh - /],
    [["-V"], /^\d+\.\d+\.\d+.*\n$/],
    [["ssm", "shell", "--version"], /^\d+\.\d+\.\d+.*\n$/],
  ];
  for (const [argv, shape] of cases) {
    test(`aws-runas ${argv.join(" ")}`, () => {
      let out = "";
      const outcome = parseCommandLine(argv, { env: {}, writeOut: (t) => (out += t), writeErr: () => {} });
      assert.deepEqual(outcome, { kind: "exit", exitCode: 0 });
      assert.match(out, shape);
    });
  }
});
