/**
 * Issue #11: bad input from the user, end to end through the built CLI against the built
 * emulator — the mistakes that only show at run time (argv mistakes are test/cli/errors.test.ts;
 * offline instances, unknown documents and access denied are test/e2e/shell-errors.test.ts; a busy
 * local port is test/e2e/forward-mux.test.ts). Each one is a single `aws-runas: ...` line with an
 * optional `hint: ...` line, a non-zero exit, nothing on stdout, no stack trace. The CLI runs in a
 * new session (no controlling terminal), as in CI or under an SSH ProxyCommand.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Secret, TOTP } from "otpauth";
import { ALICE, DNS_NAME, INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import {
  assertOneLineError,
  CLI,
  type CliResult,
  type EmulatorProcess,
  freePort,
  runCli,
  startEmulatorProcess,
} from "../e2e/helpers/harness.js";
import { assertNoChildProcesses, ensureBuilt } from "./helpers.js";

/** Runs the built CLI without a controlling terminal (setsid), stdin at EOF. */
async function runDetached(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env,
    stdio: ["pipe", "pipe", "pipe"],
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
  child.stdin.on("error", () => {});
  child.stdin.end();
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

/** One message line (plus an optional hint line), non-zero exit, clean stdout, no stack. */
function assertUserError(r: CliResult, message: RegExp, hint?: RegExp, exitCode?: number): void {
  assertOneLineError(r, message, {
    ...(hint ? { hint } : {}),
    ...(exitCode !== undefined ? { exitCode } : {}),
  });
  // README: every error comes with a hint line (issue 14 item 11).
  assert.match(r.stderr, /^hint: \S/m, `a hint line: ${r.stderr}`);
}

/** Keeps the AWS settings of the emulator and nothing a developer's shell might add. */
function without(env: NodeJS.ProcessEnv, ...names: string[]): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of names) delete out[name];
  return out;
}

after(assertNoChildProcesses);

describe("run-time mistakes: one clear line, non-zero exit (built CLI)", () => {
  let emulator: EmulatorProcess;
  let dir: string;
  before(async () => {
    ensureBuilt();
    emulator = await startEmulatorProcess();
    dir = mkdtempSync(join(tmpdir(), "runas-user-errors-"));
    writeFileSync(join(dir, "a-file"), "not a directory\n");
    writeFileSync(join(dir, "noregion.config"), "[profile noregion]\n");
    writeFileSync(
      join(dir, "noregion.credentials"),
      `[noregion]\naws_access_key_id = ${ALICE.accessKeyId}\naws_secret_access_key = ${ALICE.secretAccessKey}\n`,
    );
    writeFileSync(
      join(dir, "bad-arn.config"),
      "[profile badarn]\nrole_arn = not-an-arn\nsource_profile = plain\nregion = us-east-1\n",
    );
  });
  after(async () => {
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const shell = (profile: string, target: string = INSTANCE.web) => ["ssm", "shell", profile, target];

  describe("profiles", () => {
    test("a profile that does not exist (positional): the hint lists the profiles", async () => {
      const r = await runDetached(shell("nosuch"), emulator.env);
      assertUserError(r, /profile "nosuch" not found/, /plain.*role/);
    });

    test("a profile that does not exist (AWS_PROFILE)", async () => {
      const r = await runDetached(["ssm", "shell", INSTANCE.web], { ...emulator.env, AWS_PROFILE: "nosuch" });
      assertUserError(r, /profile "nosuch".*AWS_PROFILE.*not found|AWS_PROFILE.*"nosuch".*not found/);
    });

    test("a malformed role_arn in the profile", async () => {
      const r = await runDetached(shell("badarn"), {
        ...emulator.env,
        AWS_CONFIG_FILE: join(dir, "bad-arn.config"),
      });
      assertUserError(r, /role ARN "not-an-arn"/, /arn:aws:iam::/);
    });

    test("a role ARN as the profile that may not be assumed", async () => {
      const r = await runDetached(shell("arn:aws:iam::123456789012:role/nosuch"), emulator.env);
      assertUserError(r, /AssumeRole.*(access denied|not authorized)/i);
    });

    test("a wrong --external-id", async () => {
      const r = await runDetached(["-X", "wrong-external-id", ...shell("partner")], emulator.env);
      assertUserError(r, /AssumeRole.*(access denied|not authorized)/i);
    });

    test("an MFA profile with no code and no terminal names MFA_CODE and -o", async () => {
      const r = await runDetached(shell("role-mfa"), without(emulator.env, "MFA_CODE"));
      assertUserError(r, /MFA code is needed/, /MFA_CODE.*-o|-o.*MFA_CODE/);
    });

    test("no region anywhere", async () => {
      const r = await runDetached(shell("noregion"), {
        ...without(emulator.env, "AWS_REGION", "AWS_DEFAULT_REGION"),
        AWS_CONFIG_FILE: join(dir, "noregion.config"),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "noregion.credentials"),
      });
      assertUserError(r, /no AWS region/, /AWS_REGION/);
    });

    for (const [flag, value, name] of [
      ["-d", "abc", "--duration"],
      ["-a", "99x", "--role-duration"],
    ] as const) {
      test(`an unparsable ${name} (${value})`, async () => {
        const r = await runDetached([flag, value, ...shell("role")], emulator.env);
        assertUserError(r, new RegExp(`"${value}".*${name}`), /duration such as/, 2);
      });
    }
  });

  describe("targets", () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        "a tag nothing carries",
        "Name:no-such-name",
        /no instance matches "Name:no-such-name".*tag Name=no-such-name/,
      ],
      ["a private address no instance has", "10.9.9.9", /no instance matches "10\.9\.9\.9"/],
      [
        "a DNS name without records",
        `nosuch.${DNS_NAME.web.split(".").slice(1).join(".")}`,
        /no instance matches .*no A\/AAAA record/,
      ],
      ["a TXT record without an instance id", DNS_NAME.txtNoId, /no instance matches .*no instance id/],
      ["a stopped instance", INSTANCE.stopped, /not connected/],
    ];
    for (const [what, target, message] of cases) {
      test(what, async () => {
        const r = await runDetached(shell("plain", target), emulator.env);
        assertUserError(r, message);
        // Issue 14 item 10: the hint names only what exists (there is no --region flag).
        if (/no instance matches/.test(r.stderr)) {
          assert.match(r.stderr, /^hint: .*AWS_REGION or region in the profile/m);
          assert.doesNotMatch(r.stderr, /--region/);
        }
      });
    }

    test("a forward to an instance id nobody has", async () => {
      const r = await runDetached(["ssm", "forward", "plain", "i-00000000000000bad:80"], emulator.env);
      assertUserError(r, /i-00000000000000bad/);
    });

    test("a malformed RUNAS_DNS_SERVERS", async () => {
      const r = await runDetached(shell("plain", DNS_NAME.web), {
        ...emulator.env,
        RUNAS_DNS_SERVERS: "not-a-host:99999",
      });
      assertUserError(r, /RUNAS_DNS_SERVERS.*"not-a-host:99999"/, /IP\[:port\]/, 2);
    });
  });

  describe("unreadable files", () => {
    const cases: Array<[string, string, (d: string) => string, RegExp]> = [
      ["AWS_CONFIG_FILE is a directory", "AWS_CONFIG_FILE", (d) => d, /config file .*EISDIR/],
      [
        "AWS_CONFIG_FILE goes through a file",
        "AWS_CONFIG_FILE",
        (d) => join(d, "a-file", "config"),
        /config file .*ENOTDIR/,
      ],
      [
        "AWS_SHARED_CREDENTIALS_FILE is a directory",
        "AWS_SHARED_CREDENTIALS_FILE",
        (d) => d,
        /credentials file .*EISDIR/,
      ],
      [
        "AWS_SHARED_CREDENTIALS_FILE goes through a file",
        "AWS_SHARED_CREDENTIALS_FILE",
        (d) => join(d, "a-file", "credentials"),
        /credentials file .*ENOTDIR/,
      ],
    ];
    for (const [what, variable, path, message] of cases) {
      test(what, async () => {
        const r = await runDetached(shell("plain"), { ...emulator.env, [variable]: path(dir) });
        assertUserError(r, message, new RegExp(variable));
      });
    }

    test("AWS_CA_BUNDLE is a directory: one line, non-zero exit", async () => {
      const r = await runDetached(shell("plain"), { ...emulator.env, AWS_CA_BUNDLE: dir });
      assert.notEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, /^aws-runas: cannot read AWS_CA_BUNDLE /m);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    });

    test("AWS_CA_BUNDLE is a directory: no session left behind", async () => {
      const before = (await emulator.admin("/_emulator/sessions")) as unknown[];
      const r = await runDetached(shell("plain"), { ...emulator.env, AWS_CA_BUNDLE: dir });
      assertUserError(r, /AWS_CA_BUNDLE/);
      const sessions = (await emulator.admin("/_emulator/sessions")) as Array<{ state: string }>;
      const added = sessions.slice(before.length);
      assert.ok(
        added.every((s) => s.state === "Terminated"),
        `sessions left open: ${JSON.stringify(added)}`,
      );
    });
  });

  test("--plugin without session-manager-plugin on PATH: install hint", async () => {
    const r = await runDetached(["ssm", "shell", "-P", "plain", INSTANCE.web], {
      ...emulator.env,
      PATH: "/usr/bin:/bin",
    });
    assertUserError(r, /session-manager-plugin was not found/, /install/);
  });
});

/** Operations the emulator answered, in order (its request log). */
async function operations(emulator: EmulatorProcess): Promise<string[]> {
  const log = (await emulator.admin("/_emulator/requests")) as Array<{ operation: string; status: number }>;
  return log.map((e) => `${e.operation} ${e.status}`);
}

/**
 * Issue 14, invariant 3: an error message is true, complete, and names only things that exist.
 * One test per defect (items 8-15), each through the built CLI against the emulator.
 */
describe("invariant 3: error messages are true and complete (built CLI)", () => {
  let emulator: EmulatorProcess;
  let dir: string;
  /** The emulator's profiles, copied so no cached credentials are shared with other tests. */
  let freshEnv: () => NodeJS.ProcessEnv;
  before(async () => {
    ensureBuilt();
    emulator = await startEmulatorProcess();
    dir = mkdtempSync(join(tmpdir(), "runas-invariant3-"));
    let n = 0;
    freshEnv = () => {
      const d = mkdtempSync(join(dir, `fresh-${n++}-`));
      copyFileSync(emulator.env.AWS_CONFIG_FILE!, join(d, "config"));
      copyFileSync(emulator.env.AWS_SHARED_CREDENTIALS_FILE!, join(d, "credentials"));
      return {
        ...emulator.env,
        AWS_CONFIG_FILE: join(d, "config"),
        AWS_SHARED_CREDENTIALS_FILE: join(d, "credentials"),
      };
    };
    const keys = `aws_access_key_id = ${ALICE.accessKeyId}\naws_secret_access_key = ${ALICE.secretAccessKey}\n`;
    const role = "role_arn = arn:aws:iam::123456789012:role/admin\nregion = us-east-1\n";
    writeFileSync(
      join(dir, "chains.config"),
      [
        `[profile a]\n${role}source_profile = b\n`,
        `[profile b]\n${role}source_profile = c\n`,
        `[profile c]\n${role}source_profile = b\n`,
        `[profile self]\n${role}source_profile = self\n`,
        `[profile selfnokeys]\n${role}source_profile = selfnokeys\n`,
      ].join("\n"),
    );
    writeFileSync(join(dir, "chains.credentials"), `[self]\n${keys}`);
    writeFileSync(join(dir, "unterminated.config"), "[profile x\nregion = us-east-1\n");
    writeFileSync(join(dir, "stray.config"), "[profile x]\nregion = us-east-1\nthis line is junk\n");
  });
  after(async () => {
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const shell = (profile: string, target: string = INSTANCE.web) => ["ssm", "shell", profile, target];
  const totp = () => new TOTP({ secret: Secret.fromBase32(ALICE.mfaSecretBase32) }).generate();

  test("item 8: an unreachable STS endpoint keeps every word of the message", async () => {
    const port = await freePort();
    const r = await runDetached(shell("plain"), {
      ...freshEnv(),
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    });
    assertUserError(
      r,
      /^aws-runas: STS GetSessionToken: cannot reach the AWS endpoint \(ECONNREFUSED\)$/,
      /AWS_ENDPOINT_URL/,
    );
    assert.doesNotMatch(r.stderr, /\*\*\*\*/);
  });

  test("items 8 and 11: a wrong MFA code: AWS's words intact, and a hint about the code", async () => {
    const valid = totp();
    const wrong = valid === "000000" ? "000001" : "000000";
    const r = await runDetached(["-o", wrong, ...shell("role-mfa")], freshEnv());
    assertUserError(
      r,
      /^aws-runas: STS GetSessionToken: access denied: MultiFactorAuthentication failed/,
      /^hint: check the MFA code: it must be the current code of arn:aws:iam::123456789012:mfa\/alice/,
    );
    assert.doesNotMatch(r.stderr, /\*\*\*\*/);
  });

  test("item 11: access denied (profile bob) has a hint naming a real flag", async () => {
    const r = await runDetached(shell("bob"), emulator.env);
    assertUserError(
      r,
      /^aws-runas: SSM StartSession: access denied: User: \S+:user\/bob is not authorized/,
      /-w/,
    );
  });

  test("item 11: a source_profile loop names the loop, not the SDK's text", async () => {
    const r = await runDetached(shell("a"), {
      ...emulator.env,
      AWS_CONFIG_FILE: join(dir, "chains.config"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "chains.credentials"),
    });
    assertUserError(r, /^aws-runas: profile "a": source_profile loops: a -> b -> c -> b$/, /own credentials/);
  });

  test("item 11: an invalid AWS_ENDPOINT_URL names the variable (usage error)", async () => {
    const r = await runDetached(shell("plain"), { ...freshEnv(), AWS_ENDPOINT_URL: "notaurl" });
    assertUserError(r, /^aws-runas: AWS_ENDPOINT_URL "notaurl" is not an http\(s\) URL$/, /unset it/, 2);
  });

  test("item 12: -o abc is refused before any AWS call and not echoed", async () => {
    const before = (await operations(emulator)).length;
    const r = await runDetached(["-o", "abc", ...shell("role-mfa")], freshEnv());
    assertUserError(r, /^aws-runas: invalid --otp: an MFA code is 6 digits$/, /MFA device/, 2);
    assert.doesNotMatch(r.stderr, /abc/);
    assert.deepEqual((await operations(emulator)).slice(before), []);
  });

  test("item 13: an unterminated section header names the file and line", async () => {
    const r = await runDetached(shell("x"), {
      ...emulator.env,
      AWS_CONFIG_FILE: join(dir, "unterminated.config"),
    });
    assertUserError(r, /unterminated\.config:1: section header without a closing "\]"$/, /key = value/);
  });

  test("item 13: a stray line names the file and line", async () => {
    const r = await runDetached(shell("x"), { ...emulator.env, AWS_CONFIG_FILE: join(dir, "stray.config") });
    assertUserError(r, /stray\.config:3: not a "key = value" setting/, /key = value/);
  });

  test("item 14: source_profile naming the profile itself assumes the role with its own keys, once", async () => {
    const env = {
      ...emulator.env,
      AWS_CONFIG_FILE: join(dir, "chains.config"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "chains.credentials"),
    };
    const before = (await operations(emulator)).length;
    const r = await runCli(shell("self"), { env, input: "echo self-ok\nexit\n" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /self-ok/);
    const ops = (await operations(emulator)).slice(before);
    assert.deepEqual(
      ops.filter((op) => op.startsWith("AssumeRole")),
      ["AssumeRole 200"],
      ops.join(", "),
    );

    const noKeys = await runDetached(shell("selfnokeys"), env);
    assertUserError(
      noKeys,
      /profile "selfnokeys" names itself as source_profile but has no keys/,
      /aws_access_key_id/,
    );
  });

  // The same mistakes through every command: credentials and files are read before the
  // commands part ways, so each must say the same thing.
  const commands: Array<[string, (profile: string) => string[]]> = [
    ["shell", (profile) => ["ssm", "shell", profile, INSTANCE.web]],
    ["forward", (profile) => ["ssm", "forward", profile, `${INSTANCE.web}:22`]],
    ["ssh", (profile) => ["ssm", "ssh", profile, `ec2-user@${INSTANCE.web}`]],
  ];
  for (const [command, argv] of commands) {
    test(`every command (${command}): -o abc, a malformed file, a loop, a bad AWS_ENDPOINT_URL`, async () => {
      const chains = {
        ...emulator.env,
        AWS_CONFIG_FILE: join(dir, "chains.config"),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "chains.credentials"),
      };
      const cases: Array<[string[], NodeJS.ProcessEnv, RegExp, RegExp, number]> = [
        [
          ["-o", "abc", ...argv("role-mfa")],
          freshEnv(),
          /invalid --otp: an MFA code is 6 digits$/,
          /MFA device/,
          2,
        ],
        [
          argv("x"),
          { ...emulator.env, AWS_CONFIG_FILE: join(dir, "unterminated.config") },
          /unterminated\.config:1: section header without a closing "\]"$/,
          /key = value/,
          1,
        ],
        [argv("a"), chains, /source_profile loops: a -> b -> c -> b$/, /own credentials/, 1],
        [
          argv("plain"),
          { ...freshEnv(), AWS_ENDPOINT_URL: "notaurl" },
          /AWS_ENDPOINT_URL "notaurl"/,
          /unset it/,
          2,
        ],
      ];
      for (const [args, env, message, hint, code] of cases) {
        const r = await runDetached(args, env);
        assertUserError(r, message, hint, code);
      }
    });
  }

  for (const [flags, profile, line] of [
    [
      ["-a", "13h"],
      "role",
      "warning: role credentials duration 13h0m0s (--role-duration) is outside 15m0s..12h0m0s, using 12h0m0s",
    ],
    [
      ["-d", "10m"],
      "plain",
      "warning: session token duration 10m0s (--duration) is outside 15m0s..36h0m0s, using 15m0s",
    ],
  ] as const) {
    test(`item 15: ${flags.join(" ")} is clamped with one line at the default level`, async () => {
      const r = await runCli([...flags, ...shell(profile)], { env: freshEnv(), input: "exit\n" });
      assert.equal(r.code, 0, r.stderr);
      const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning:"));
      assert.deepEqual(warnings, [line]);
    });
  }
});

/**
 * Issue 14 item 9: cached credentials that AWS rejects before their recorded expiry (here: the
 * emulator's clock moves 2 h ahead of ours) are dropped and obtained again, with no -r and no
 * "unexpected" error — for a role (role and session-token caches both dead) and a plain profile.
 */
describe("item 9: expired cached credentials are replaced automatically (built CLI)", () => {
  let emulator: EmulatorProcess;
  before(async () => {
    ensureBuilt();
    emulator = await startEmulatorProcess();
  });
  after(() => emulator?.close());

  for (const profile of ["role", "plain"]) {
    test(`-d 15m ${profile}: works again after the AWS clock moved 2 h on`, async () => {
      const args = ["-d", "15m", "ssm", "shell", profile, INSTANCE.web];
      const first = await runCli(args, { env: emulator.env, input: "exit\n" });
      assert.equal(first.code, 0, first.stderr);
      await emulator.admin("/_emulator/clock", { advanceSeconds: 7200 });
      const before = (await operations(emulator)).length;
      const again = await runCli(args, { env: emulator.env, input: "echo still-works\nexit\n" });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /still-works/);
      assert.doesNotMatch(again.stderr, /aws-runas:|hint:/);
      const ops = (await operations(emulator)).slice(before);
      // The dead cached credentials were refused once, then replaced from STS.
      assert.ok(
        ops.some((op) => / 4\d\d$/.test(op)),
        `a refusal first: ${ops.join(", ")}`,
      );
      assert.ok(ops.includes("GetSessionToken 200"), ops.join(", "));
      if (profile === "role") assert.ok(ops.includes("AssumeRole 200"), ops.join(", "));
      assert.ok(ops.includes("StartSession 200"), ops.join(", "));
    });
  }
});
