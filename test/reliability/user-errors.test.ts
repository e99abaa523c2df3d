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
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ALICE, DNS_NAME, INSTANCE } from "../../src/emulator/fixture/default.js";
import {
  assertOneLineError,
  CLI,
  type CliResult,
  type EmulatorProcess,
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
