/**
 * `aws-runas ssm ssh --ec2ic` end to end: the CLI finds the user's public key (ssh-agent,
 * IdentityFile in ssh_config, a protected key's .pub), pushes it with SendSSHPublicKey to the
 * emulator, and a real sshd — whose AuthorizedKeysCommand is `aws-runas-emulator
 * authorized-keys` — lets the OpenSSH client in; 61 emulator seconds later it no longer does.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type After, Cleanup, generateKey, startAgent, tempDir } from "../ssh/openssh-tools.js";
import { CLI, EMULATOR, type EmulatorProcess, startEmulatorProcess } from "./helpers/harness.js";
import {
  NON_INTERACTIVE_SSH_OPTIONS,
  type ProcessResult,
  type RunningSshd,
  runProcess,
  sshdUnavailableReason,
  startSshd,
} from "./helpers/sshd.js";

const WEB = "i-0123456789abcdef0";
const skip = sshdUnavailableReason() ?? (existsSync(CLI) ? undefined : `${CLI} is missing (npm run build)`);

describe("ssm ssh --ec2ic against a real sshd", { skip }, () => {
  const cleanup = new Cleanup();
  let emulator: EmulatorProcess;
  let sshd: RunningSshd;
  let stateDir: string;

  before(async () => {
    emulator = await startEmulatorProcess();
    cleanup.after(() => emulator.close());
    stateDir = emulator.exports.RUNAS_EMULATOR_STATE_DIR ?? "";
    assert.ok(stateDir, "the emulator exports RUNAS_EMULATOR_STATE_DIR");
    sshd = await startSshd(cleanup, {
      authorizedKeys: [],
      authorizedKeysCommand: [process.execPath, EMULATOR, "authorized-keys", "--state-dir", stateDir],
    });
  });
  after(() => cleanup.run());

  /** A HOME with ~/.ssh/config for the instance; `ec2ic` false leaves --ec2ic out of the ProxyCommand. */
  async function homeWithConfig(t: After, extra: string[] = [], ec2ic = true) {
    const home = await tempDir(t, "runas-e2e-home-");
    await mkdir(join(home, ".ssh"), { mode: 0o700 });
    const config = join(home, ".ssh", "config");
    const write = (withEc2ic: boolean) =>
      [
        "Host i-*",
        `  ProxyCommand ${process.execPath} ${CLI} ssm ssh ${withEc2ic ? "--ec2ic " : ""}plain %r@%h:%p`,
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        ...extra.map((l) => `  ${l}`),
        "",
      ].join("\n");
    await writeFile(config, write(ec2ic));
    const plainConfig = join(home, "config-without-ec2ic");
    await writeFile(plainConfig, write(false));
    const env: NodeJS.ProcessEnv = { ...emulator.env, HOME: home };
    delete env.SSH_AUTH_SOCK;
    return { home, config, plainConfig, env };
  }

  const ssh = (config: string, env: NodeJS.ProcessEnv, extraArgs: string[] = []): Promise<ProcessResult> =>
    runProcess("ssh", [...extraArgs, ...NON_INTERACTIVE_SSH_OPTIONS, "-F", config, WEB, "echo ok"], {
      env,
      timeoutMs: 60_000,
    });

  const okOrExplain = (r: ProcessResult) =>
    assert.equal(r.code, 0, `ssh failed:\n${r.stderr}\nsshd:\n${sshd.log().slice(-2000)}`);

  /** The keys sshd would accept for the login user right now. */
  async function authorizedNow(): Promise<string> {
    const r = await runProcess(
      process.execPath,
      [EMULATOR, "authorized-keys", "--state-dir", stateDir, sshd.user],
      {
        env: emulator.env,
        timeoutMs: 20_000,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.toString();
  }

  test("a key held only by ssh-agent", async (t) => {
    const { home, config, env } = await homeWithConfig(t);
    const agent = await startAgent(t);
    const key = await generateKey(join(home, "agent-key"), "ed25519", { comment: "agent-only" });
    await agent.add(key.path);
    // Keep the key out of every place but the agent.
    await writeFile(key.path, "");
    const r = await ssh(config, { ...env, SSH_AUTH_SOCK: agent.socket });
    okOrExplain(r);
    assert.equal(r.stdout.toString(), "ok\n");
    assert.ok((await authorizedNow()).includes(key.publicKey), "the agent's key was pushed");
  });

  test("a key named by IdentityFile in ssh_config beats ~/.ssh/id_ed25519", async (t) => {
    const keysDir = await tempDir(t, "runas-e2e-keys-");
    const key = await generateKey(join(keysDir, "named"), "ecdsa");
    const { home, config, env } = await homeWithConfig(t, [`IdentityFile ${key.path}`, "IdentitiesOnly yes"]);
    const decoy = await generateKey(join(home, ".ssh", "id_ed25519"), "ed25519");
    const r = await ssh(config, env);
    okOrExplain(r);
    assert.equal(r.stdout.toString(), "ok\n");
    const keys = await authorizedNow();
    assert.ok(keys.includes(key.publicKey));
    assert.ok(!keys.includes(decoy.publicKey));
  });

  test("a passphrase-protected key with a .pub beside it", async (t) => {
    const keysDir = await tempDir(t, "runas-e2e-keys-");
    const passphrase = "correct horse battery";
    const key = await generateKey(join(keysDir, "protected"), "rsa", { passphrase, format: "PEM" });
    const { config, env } = await homeWithConfig(t, [`IdentityFile ${key.path}`, "IdentitiesOnly yes"]);
    // ssh itself needs the passphrase: give it an askpass program (never a terminal prompt).
    const askpass = join(keysDir, "askpass.sh");
    await writeFile(askpass, `#!/bin/sh\necho '${passphrase}'\n`);
    await chmod(askpass, 0o700);
    const r = await ssh(config, { ...env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force" }, [
      "-o",
      "BatchMode=no",
    ]);
    okOrExplain(r);
    assert.equal(r.stdout.toString(), "ok\n");
    assert.ok((await authorizedNow()).includes(key.publicKey));
  });

  test("the pushed key works for 60 s of emulator time and is refused after", async (t) => {
    const keysDir = await tempDir(t, "runas-e2e-keys-");
    const key = await generateKey(join(keysDir, "short-lived"), "ed25519");
    const { config, plainConfig, env } = await homeWithConfig(t, [
      `IdentityFile ${key.path}`,
      "IdentitiesOnly yes",
    ]);

    const beforePush = await ssh(plainConfig, env);
    assert.equal(beforePush.code, 255, "not authorized before the push");
    assert.match(beforePush.stderr, /Permission denied/);

    okOrExplain(await ssh(config, env));
    okOrExplain(await ssh(plainConfig, env));

    await emulator.admin("/_emulator/clock", { advanceSeconds: 61 });
    // The emulator rewrites its key file after the clock moves; wait until sshd's view agrees.
    for (let i = 0; (await authorizedNow()).includes(key.publicKey); i++) {
      assert.ok(i < 20, "the key is still listed after the clock advanced 61 s");
    }
    const expired = await ssh(plainConfig, env);
    assert.equal(expired.code, 255, expired.stderr);
    assert.match(expired.stderr, /Permission denied/);
  });

  test("no usable key: ssh fails and the proxy's one-line reason reaches the user", async (t) => {
    const { config, env } = await homeWithConfig(t);
    const r = await ssh(config, env);
    assert.equal(r.code, 255);
    assert.match(
      r.stderr,
      /no SSH public key to push with EC2 Instance Connect; tried ~\/\.ssh\/config \(no IdentityFile for Host "i-0123456789abcdef0"\), ssh-agent \(SSH_AUTH_SOCK not set\), ~\/\.ssh\/id_ed25519 \(not found\)/,
    );
  });

  /** The README's `Host web.prod` block: the ProxyCommand names the target itself (Name:web). */
  async function aliasHome(t: After, proxyFlags: string) {
    const keysDir = await tempDir(t, "runas-e2e-keys-");
    const key = await generateKey(join(keysDir, "web-prod"), "ed25519");
    const home = await tempDir(t, "runas-e2e-home-");
    await mkdir(join(home, ".ssh"), { mode: 0o700 });
    const config = join(home, ".ssh", "config");
    await writeFile(
      config,
      [
        "Host web.prod",
        `  ProxyCommand ${process.execPath} ${CLI} ssm ssh ${proxyFlags} plain %r@Name:web:%p`,
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ${key.path}`,
        "  IdentitiesOnly yes",
        "",
      ].join("\n"),
    );
    const env: NodeJS.ProcessEnv = { ...emulator.env, HOME: home };
    delete env.SSH_AUTH_SOCK;
    return { home, config, env, key };
  }
  const sshTo = (host: string, config: string, env: NodeJS.ProcessEnv) =>
    runProcess("ssh", [...NON_INTERACTIVE_SSH_OPTIONS, "-F", config, host, "echo ok"], {
      env,
      timeoutMs: 60_000,
    });

  test("README's Host web.prod block: --ssh-host %n finds the alias's IdentityFile", async (t) => {
    const { home, config, env, key } = await aliasHome(t, "--ec2ic --ssh-host %n");
    // A default key that would be pushed instead if the alias were not looked up.
    const decoy = await generateKey(join(home, ".ssh", "id_ed25519"), "ed25519");
    const r = await sshTo("web.prod", config, env);
    okOrExplain(r);
    assert.equal(r.stdout.toString(), "ok\n");
    const keys = await authorizedNow();
    assert.ok(keys.includes(key.publicKey), "web.prod's IdentityFile was pushed");
    assert.ok(!keys.includes(decoy.publicKey));
  });

  test("without --ssh-host the error says which Host was searched and names --ssh-host %n", async (t) => {
    const { config, env } = await aliasHome(t, "--ec2ic");
    const r = await sshTo("web.prod", config, env);
    assert.equal(r.code, 255);
    assert.match(r.stderr, /tried ~\/\.ssh\/config \(no IdentityFile for Host "Name:web"\)/);
    assert.match(
      r.stderr,
      /^hint: if your ssh Host alias is not the target, add --ssh-host %n to the ProxyCommand/m,
    );
  });
});
