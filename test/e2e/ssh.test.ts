/**
 * `aws-runas ssm ssh` as a real ssh ProxyCommand: the OpenSSH client → built CLI → emulator
 * gateway and agent → a real sshd on 127.0.0.1. Skipped (with the reason) when sshd is missing.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Cleanup, generateKey, tempDir } from "../ssh/openssh-tools.js";
import { CLI, type EmulatorProcess, startEmulatorProcess, waitForOutput } from "./helpers/harness.js";
import {
  NON_INTERACTIVE_SSH_OPTIONS,
  type RunningSshd,
  runProcess,
  sshdUnavailableReason,
  startSshd,
} from "./helpers/sshd.js";

const WEB = "i-0123456789abcdef0";
const skip = sshdUnavailableReason() ?? (existsSync(CLI) ? undefined : `${CLI} is missing (npm run build)`);

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("ssm ssh through the OpenSSH client and a real sshd", { skip }, () => {
  const cleanup = new Cleanup();
  let emulator: EmulatorProcess;
  let sshd: RunningSshd;
  let home: string;
  let config: string;
  let env: NodeJS.ProcessEnv;
  const ssh = (args: string[], options: { input?: string; timeoutMs?: number } = {}) =>
    runProcess("ssh", [...NON_INTERACTIVE_SSH_OPTIONS, "-F", config, ...args], { env, ...options });

  before(async () => {
    emulator = await startEmulatorProcess();
    cleanup.after(() => emulator.close());
    home = await tempDir(cleanup, "runas-e2e-home-");
    await mkdir(join(home, ".ssh"), { mode: 0o700 });
    const key = await generateKey(join(home, ".ssh", "id_e2e"), "ed25519");
    sshd = await startSshd(cleanup, { authorizedKeys: [key.publicLine] });
    config = join(home, ".ssh", "config");
    await writeFile(
      config,
      [
        `Host i-* mi-* Name:* *.emu.internal`,
        `  ProxyCommand ${process.execPath} ${CLI} ssm ssh plain %r@%h:%p`,
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ${key.path}`,
        "  IdentitiesOnly yes",
        // IPv6 hosts: the README's form, and the unbracketed one that is refused as ambiguous.
        "Host 2001:db8::10",
        `  ProxyCommand ${process.execPath} ${CLI} ssm ssh plain %r@[%h]:%p`,
        // A port of at most 4 digits is also a valid IPv6 group: that is what makes it ambiguous.
        "Host 2001:db8::50",
        `  ProxyCommand ${process.execPath} ${CLI} ssm ssh plain %r@%h:%p`,
        "  Port 2222",
        "Host 2001:db8::*",
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ${key.path}`,
        "  IdentitiesOnly yes",
        "",
      ].join("\n"),
    );
    env = { ...emulator.env, HOME: home };
    delete env.SSH_AUTH_SOCK;
  });
  after(() => cleanup.run());

  test("ssh runs a command on the instance by id", async () => {
    const r = await ssh([WEB, "echo ok"]);
    assert.equal(r.code, 0, `${r.stderr}\n${sshd.log()}`);
    assert.equal(r.stdout.toString(), "ok\n");
  });

  test("a tag target in the Host line (Name:web)", async () => {
    const r = await ssh(["Name:web", "echo tag-ok"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), "tag-ok\n");
  });

  test("a DNS name in the Host line (web.emu.internal via RUNAS_DNS_SERVERS)", async () => {
    const r = await ssh(["web.emu.internal", "echo dns-ok"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), "dns-ok\n");
  });

  test("an IPv6 address in the Host line with ProxyCommand %r@[%h]:%p (README)", async () => {
    const r = await ssh(["2001:db8::10", "echo v6-ok"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), "v6-ok\n");
  });

  test("an IPv6 address with %r@%h:%p is refused as ambiguous, naming the bracketed form", async () => {
    const r = await ssh(["2001:db8::50", "true"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ambiguous IPv6 address/);
    assert.match(r.stderr, /write \[2001:db8::50\]:2222 for port 2222/);
  });

  test("scp copies 20 MiB there and back with the same sha256", async (t) => {
    const dir = await tempDir(t, "runas-e2e-scp-");
    const original = randomBytes(20 * 1024 * 1024);
    await writeFile(join(dir, "up.bin"), original);
    const scp = (args: string[]) =>
      runProcess("scp", [...NON_INTERACTIVE_SSH_OPTIONS, "-F", config, "-q", ...args], {
        env,
        timeoutMs: 120_000,
      });
    const up = await scp([join(dir, "up.bin"), `${WEB}:${join(dir, "remote.bin")}`]);
    assert.equal(up.code, 0, up.stderr);
    const down = await scp([`${WEB}:${join(dir, "remote.bin")}`, join(dir, "down.bin")]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(sha256(await readFile(join(dir, "remote.bin"))), sha256(original));
    assert.equal(sha256(await readFile(join(dir, "down.bin"))), sha256(original));
  });

  test("ssh -L forwards a local port through the session", async (t) => {
    const echo: Server = createServer((socket) => socket.pipe(socket));
    echo.listen(0, "127.0.0.1");
    await once(echo, "listening");
    t.after(() => new Promise<void>((resolve) => echo.close(() => resolve())));
    const echoPort = (echo.address() as { port: number }).port;
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const localPort = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const { spawn } = await import("node:child_process");
    const child = spawn(
      "ssh",
      [
        ...NON_INTERACTIVE_SSH_OPTIONS,
        "-F",
        config,
        "-o",
        "ExitOnForwardFailure=yes",
        "-L",
        `127.0.0.1:${localPort}:127.0.0.1:${echoPort}`,
        WEB,
        "echo ready; cat",
      ],
      { env, stdio: ["pipe", "pipe", "pipe"] },
    );
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    // Local forwards are listening before the remote command runs, so "ready" means usable.
    await waitForOutput(child.stdout, /ready\n/, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${stderr}`);
    });
    const socket = connect(localPort, "127.0.0.1");
    const payload = randomBytes(256 * 1024);
    const received: Buffer[] = [];
    let length = 0;
    const done = new Promise<void>((resolve, reject) => {
      socket.on("data", (d: Buffer) => {
        received.push(d);
        length += d.length;
        if (length >= payload.length) resolve();
      });
      socket.on("error", reject);
    });
    socket.write(payload);
    await done;
    socket.destroy();
    assert.equal(sha256(Buffer.concat(received)), sha256(payload));
    const exited = once(child, "exit");
    child.stdin.end();
    const [code] = await exited;
    assert.equal(code, 0, stderr);
  });

  test("only SSH bytes on stdout: the proxy's first output is sshd's banner, logs go to stderr", async (t) => {
    const { spawn } = await import("node:child_process");
    const child = spawn(
      process.execPath,
      [CLI, "-v", "ssm", "ssh", "plain", `${sshd.user}@${WEB}:${sshd.port}`],
      {
        env,
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const out: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stdin.write("SSH-2.0-runas_e2e\r\n");
    await waitForOutput(child.stdout, /\r\n/, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${stderr}`);
    });
    const exited = once(child, "exit");
    child.stdin.end();
    const [code] = await exited;
    assert.match(Buffer.concat(out).subarray(0, 64).toString("latin1"), /^SSH-2\.0-OpenSSH_[^\r\n]*\r\n/);
    assert.match(stderr, /^debug: /m);
    assert.equal(code, 0, stderr);
  });
});
