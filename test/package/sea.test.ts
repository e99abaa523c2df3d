import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { INSTANCE } from "../../packages/emulator/src/fixture/default.js";
import {
  connectLocal,
  echoRoundTrip,
  type Forward,
  requestLog,
  startEchoServer,
  startForward,
  type TestServer,
} from "../e2e/helpers/forward.js";
import { type EmulatorProcess, REPO_ROOT, runCli, startEmulatorProcess } from "../e2e/helpers/harness.js";
import {
  NON_INTERACTIVE_SSH_OPTIONS,
  runProcess,
  sshdUnavailableReason,
  startSshd,
} from "../e2e/helpers/sshd.js";
import { Cleanup, generateKey, tempDir } from "../ssh/openssh-tools.js";

const run = promisify(execFile);

/** PATH with every directory that holds a `node` left out: the executable must not need one. */
function pathWithoutNode(): string {
  return (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir !== "" && !existsSync(join(dir, "node")))
    .join(delimiter);
}

/**
 * The single-file executable (`npm run sea`, scripts/sea.mjs): built once into a folder of its
 * own, then run from there with no Node on PATH and no files beside it — `--version`, the help
 * texts and errors as the built CLI prints them, and real sessions against the emulator.
 */
describe("the single-file executable", () => {
  let work: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;
  let emulator: EmulatorProcess;
  let echo: TestServer;
  const forwards: Forward[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "aws-runas-sea-test-"));
    bin = join(work, "bin", "aws-runas");
    const [{ stdout }, emu, server] = await Promise.all([
      run(process.execPath, ["scripts/sea.mjs", "--out", bin], { cwd: REPO_ROOT }),
      startEmulatorProcess(),
      startEchoServer(),
    ]);
    assert.equal(stdout, `${bin}\n`);
    [emulator, echo] = [emu, server];
    env = { ...emulator.env, PATH: pathWithoutNode() };
    // Runs from an empty folder: nothing it could read relative to the working directory.
    mkdirSync(join(work, "cwd"));
  });

  after(async () => {
    for (const f of forwards) await f.stop("SIGKILL");
    await Promise.all([emulator?.close(), echo?.close()]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("is one file, and the environment it runs in has no node on PATH", () => {
    assert.deepEqual(readdirSync(join(work, "bin")), ["aws-runas"]);
    const found = spawnSync("/bin/sh", ["-c", "command -v node"], { env, encoding: "utf8" });
    assert.notEqual(found.status, 0, `node is reachable: ${found.stdout}`);
  });

  test("--version prints the package version", async () => {
    const { version } = (await import("../../packages/aws-runas/package.json", { with: { type: "json" } }))
      .default;
    for (const flag of ["--version", "-V"]) {
      const r = await run(bin, [flag], { cwd: join(work, "cwd"), env });
      assert.deepEqual({ stdout: r.stdout, stderr: r.stderr }, { stdout: `${version}\n`, stderr: "" }, flag);
    }
  });

  // The same program: help texts, and the one-line error with its hint and exit code.
  for (const args of [
    ["--help"],
    ["ssm", "--help"],
    ["ssm", "shell", "--help"],
    ["ssm", "forward", "--help"],
    ["ssm", "ssh", "--help"],
    ["ssm", "forward", "plain"],
    ["ssm", "shell", "--bogus-flag", "x"],
  ]) {
    test(`\`${args.join(" ")}\` prints what the built CLI prints`, async () => {
      const [sea, cli] = await Promise.all([
        runCli(args, { env, command: [bin] }),
        runCli(args, { env: emulator.env }),
      ]);
      const view = (r: typeof sea) => ({
        code: r.code,
        signal: r.signal,
        stdout: r.stdout,
        stderr: r.stderr,
      });
      assert.deepEqual(view(sea), view(cli));
      assert.ok(cli.stdout.length + cli.stderr.length > 0);
    });
  }

  test("a KMS-encrypted ssm shell session runs a command with local stdin", async () => {
    const r = await runCli(["ssm", "shell", "plain", INSTANCE.kms, "--", "printf 'sea:%s' $((6*7)); cat"], {
      env,
      command: [bin],
      input: "from-stdin",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "sea:42from-stdin", r.stderr);
    assert.match(r.stderr, /^This session is encrypted using AWS KMS\.$/m);
    const requests = await requestLog(emulator);
    assert.ok(
      requests.some((e) => e.operation === "GenerateDataKey" && e.status === 200),
      "the KMS client inside the executable asked for the data key",
    );
  });

  test("ssm forward carries bytes both ways and ends cleanly on Ctrl-C", async () => {
    const f = await startForward(env, ["plain", `${INSTANCE.web}:${echo.port}`], { command: [bin] });
    forwards.push(f);
    const socket = await connectLocal(f.port);
    try {
      const r = await echoRoundTrip(socket, 1024 * 1024);
      assert.equal(r.received, r.sent);
    } finally {
      socket.destroy();
    }
    assert.deepEqual(await f.stop("SIGINT"), { code: 0, signal: null }, f.stderr());
    assert.equal(f.stdout(), "");
  });

  test("ssm ssh as the OpenSSH client's ProxyCommand reaches a real sshd", {
    skip: sshdUnavailableReason(),
  }, async () => {
    const cleanup = new Cleanup();
    try {
      const home = await tempDir(cleanup, "aws-runas-sea-home-");
      await mkdir(join(home, ".ssh"), { mode: 0o700 });
      const key = await generateKey(join(home, ".ssh", "id_sea"), "ed25519");
      const sshd = await startSshd(cleanup, { authorizedKeys: [key.publicLine] });
      const config = join(home, ".ssh", "config");
      await writeFile(
        config,
        [
          "Host i-*",
          `  ProxyCommand ${bin} ssm ssh plain %r@%h:%p`,
          `  Port ${sshd.port}`,
          `  User ${sshd.user}`,
          `  IdentityFile ${key.path}`,
          "  IdentitiesOnly yes",
          "",
        ].join("\n"),
      );
      // ssh is found on the test's own PATH; the ProxyCommand it starts gets the PATH without node.
      const ssh = spawnSync("/bin/sh", ["-c", "command -v ssh"], { encoding: "utf8" }).stdout.trim();
      const sshEnv: NodeJS.ProcessEnv = { ...env, HOME: home };
      delete sshEnv.SSH_AUTH_SOCK;
      const r = await runProcess(
        ssh,
        [...NON_INTERACTIVE_SSH_OPTIONS, "-F", config, INSTANCE.web, "echo sea-ssh-ok"],
        {
          env: sshEnv,
        },
      );
      assert.equal(r.code, 0, `${r.stderr}\n${sshd.log()}`);
      assert.equal(r.stdout.toString(), "sea-ssh-ok\n");
    } finally {
      await cleanup.run();
    }
  });
});
