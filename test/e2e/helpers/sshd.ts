/**
 * A real OpenSSH server for e2e tests: `/usr/sbin/sshd -D -e -f <temp config>` on 127.0.0.1 and
 * a free port, running as the current user (root in CI), with its own host key, an
 * `authorized_keys` file and optionally an `AuthorizedKeysCommand` (e.g. the emulator's
 * `authorized-keys` subcommand for EC2 Instance Connect). Also the ssh client command line
 * that never prompts. Everything is stopped and removed by the caller's `after` hook.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { After } from "../../ssh/openssh-tools.js";
import { freePort } from "./harness.js";

const run = promisify(execFile);

export const SSHD = "/usr/sbin/sshd";
/** sshd's privilege separation directory (Debian's default). */
const PRIVSEP_DIR = "/run/sshd";

/** Why the sshd e2e tests cannot run here, or `undefined` when they can. */
export function sshdUnavailableReason(): string | undefined {
  try {
    accessSync(SSHD, constants.X_OK);
  } catch {
    return `${SSHD} is not installed (apt-get install openssh-server)`;
  }
  for (const tool of ["ssh", "scp", "ssh-keygen", "ssh-agent", "ssh-add"]) {
    const found = (process.env.PATH ?? "")
      .split(":")
      .some((dir) => dir !== "" && existsSync(join(dir, tool)));
    if (!found) return `${tool} is not on PATH (apt-get install openssh-client)`;
  }
  try {
    if (!existsSync(PRIVSEP_DIR)) mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  } catch (error) {
    return `cannot create sshd's privilege separation directory ${PRIVSEP_DIR}: ${(error as Error).message}`;
  }
  return undefined;
}

export interface SshdOptions {
  /** Lines of the `authorized_keys` file (may be empty). */
  authorizedKeys?: readonly string[];
  /**
   * argv of an `AuthorizedKeysCommand`; sshd appends the user name. Run through `/bin/sh` and a
   * wrapper script, because sshd insists that the command's own path be root-owned and not
   * group/world-writable all the way up (a temp dir under /tmp is not).
   */
  authorizedKeysCommand?: readonly string[];
  /** Environment for the command (sshd starts it with an empty environment). */
  authorizedKeysCommandEnv?: Readonly<Record<string, string>>;
}

export interface RunningSshd {
  port: number;
  /** The temp dir holding config, host key and authorized_keys. */
  dir: string;
  /** The login user (whoever runs the tests). */
  user: string;
  /** Replaces the `authorized_keys` file. */
  setAuthorizedKeys(lines: readonly string[]): Promise<void>;
  /** Everything sshd logged so far (`-e`: to stderr). */
  log(): string;
  stop(): Promise<void>;
}

/** sshd processes still running; killed if the test process exits without its `after` hooks. */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Starts sshd and waits until it logs that it is listening. */
export async function startSshd(t: After, options: SshdOptions = {}): Promise<RunningSshd> {
  const dir = await mkdtemp(join(tmpdir(), "runas-sshd-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const user = userInfo().username;
  await run("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    "runas-test-host",
    "-f",
    join(dir, "host_ed25519"),
  ]);
  const authorizedKeysPath = join(dir, "authorized_keys");
  const setAuthorizedKeys = async (lines: readonly string[]) => {
    await writeFile(authorizedKeysPath, lines.map((l) => `${l}\n`).join(""), { mode: 0o600 });
  };
  await setAuthorizedKeys(options.authorizedKeys ?? []);

  const commandLines: string[] = [];
  if (options.authorizedKeysCommand) {
    const wrapper = join(dir, "authorized-keys-command.sh");
    const exports = Object.entries(options.authorizedKeysCommandEnv ?? {}).map(
      ([k, v]) => `export ${k}=${shellQuote(v)}\n`,
    );
    await writeFile(
      wrapper,
      `#!/bin/sh\n${exports.join("")}exec ${options.authorizedKeysCommand.map(shellQuote).join(" ")} "$1"\n`,
    );
    await chmod(wrapper, 0o755);
    commandLines.push(`AuthorizedKeysCommand /bin/sh ${wrapper} %u`, `AuthorizedKeysCommandUser ${user}`);
  }

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const configPath = join(dir, "sshd_config");
    await writeFile(
      configPath,
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${join(dir, "host_ed25519")}`,
        "PidFile none",
        "UsePAM no",
        "StrictModes no",
        "PermitRootLogin yes",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        `AuthorizedKeysFile ${authorizedKeysPath}`,
        ...commandLines,
        "AllowTcpForwarding yes",
        "X11Forwarding no",
        "PrintMotd no",
        "PrintLastLog no",
        "UseDNS no",
        // scp uses the SFTP protocol since OpenSSH 9.0.
        "Subsystem sftp internal-sftp",
        "LogLevel VERBOSE",
        "",
      ].join("\n"),
    );
    const child: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", configPath], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    live.add(child);
    child.once("exit", () => live.delete(child));
    let log = "";
    child.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
    });
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    };
    t.after(stop);
    const ready = await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`sshd did not start listening within 15 s:\n${log}`));
      }, 15_000);
      const onData = () => {
        if (log.includes(`Server listening on 127.0.0.1 port ${port}`)) {
          clearTimeout(timer);
          child.stderr!.off("data", onData);
          child.off("exit", onExit);
          resolve(true);
        }
      };
      const onExit = () => {
        clearTimeout(timer);
        // Someone took the port between freePort() and sshd's bind: try another one.
        if (/Address already in use/.test(log) && attempt < 3) resolve(false);
        else reject(new Error(`sshd exited before listening:\n${log}`));
      };
      child.stderr!.on("data", onData);
      child.on("exit", onExit);
    });
    if (!ready) continue;
    return { port, dir, user, setAuthorizedKeys, log: () => log, stop };
  }
}

/** ssh options that make the client never prompt nor remember hosts. */
export const NON_INTERACTIVE_SSH_OPTIONS: readonly string[] = [
  "-o",
  "BatchMode=yes",
  "-o",
  "StrictHostKeyChecking=no",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "LogLevel=ERROR",
  "-o",
  "ConnectTimeout=30",
];

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a program to completion, killed after `timeoutMs`; stdout kept as bytes. */
export async function runProcess(
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number; cwd?: string },
): Promise<ProcessResult> {
  const child = spawn(command, [...args], {
    env: options.env,
    cwd: options.cwd,
    stdio: ["pipe", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => out.push(d));
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin.on("error", () => {});
  child.stdin.end(options.input ?? "");
  // Listen for "close" before anything is awaited: it can follow "exit" in the same tick.
  const closed = once(child, "close") as Promise<[number | null, NodeJS.Signals | null]>;
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  // Output may still be in flight after exit, but a grandchild holding the pipes must not hang us.
  let drainTimer: NodeJS.Timeout | undefined;
  child.once("exit", () => {
    drainTimer = setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
    }, 5000);
  });
  const [code, signal] = await closed;
  clearTimeout(timer);
  clearTimeout(drainTimer);
  return { code, signal, stdout: Buffer.concat(out), stderr };
}
