/**
 * Real OpenSSH tools for tests: key generation with ssh-keygen and a private ssh-agent on a
 * socket in a temp dir. Everything started here is stopped by the caller's `after` hook.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Anything with node:test's `after` (a suite context or a test context). */
export interface After {
  after: (fn: () => unknown) => void;
}

/** A temp dir removed after the test/suite. */
export async function tempDir(t: After, prefix = "runas-ssh-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A temp dir for a whole `describe` block: call it in the suite body; removed by a suite-level
 * `after` hook.
 */
export function suiteTempDir(after: (fn: () => unknown) => void, prefix = "runas-ssh-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export type KeyType = "ed25519" | "ecdsa" | "rsa";

export interface KeyOptions {
  passphrase?: string;
  comment?: string;
  /** Private key file format: OpenSSH's own (default), legacy PEM or PKCS#8. */
  format?: "openssh" | "PEM" | "PKCS8";
  /** Delete the `.pub` ssh-keygen writes. */
  noPub?: boolean;
}

export interface GeneratedKey {
  path: string;
  /** The `.pub` text ssh-keygen wrote (`type base64 comment`). */
  publicLine: string;
  /** `type base64` without the comment. */
  publicKey: string;
}

/** Generates a key with ssh-keygen at `path` (+ `path.pub` unless `noPub`). */
export async function generateKey(
  path: string,
  type: KeyType,
  options: KeyOptions = {},
): Promise<GeneratedKey> {
  const args = [
    "-q",
    "-t",
    type,
    "-f",
    path,
    "-N",
    options.passphrase ?? "",
    "-C",
    options.comment ?? `test-${type}`,
  ];
  if (type === "rsa") args.push("-b", "2048");
  if (options.format && options.format !== "openssh") args.push("-m", options.format);
  await run("ssh-keygen", args);
  const publicLine = (await readFile(`${path}.pub`, "utf8")).trim();
  if (options.noPub) await rm(`${path}.pub`);
  return { path, publicLine, publicKey: publicLine.split(" ").slice(0, 2).join(" ") };
}

/** A running `ssh-agent -D` bound to a socket in a temp dir. */
export interface TestAgent {
  socket: string;
  /** `ssh-add <path>` against this agent (the key must have no passphrase). */
  add(path: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a private ssh-agent and waits until it prints its socket (it is listening then). */
export async function startAgent(t: After): Promise<TestAgent> {
  const dir = await tempDir(t, "runas-agent-");
  const socket = join(dir, "agent.sock");
  const child: ChildProcess = spawn("ssh-agent", ["-D", "-a", socket], { stdio: ["ignore", "pipe", "pipe"] });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    }
  };
  t.after(stop);
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`ssh-agent did not start: ${out}`)), 10_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("SSH_AUTH_SOCK=")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`ssh-agent exited with ${code}: ${out}`));
    });
  });
  return {
    socket,
    async add(path) {
      await run("ssh-add", ["-q", path], { env: { ...process.env, SSH_AUTH_SOCK: socket }, timeout: 10_000 });
    },
    stop,
  };
}

/**
 * A fake agent on a unix socket: `reply` runs on each connection's first bytes (the request).
 * Resolves with the socket path; closed by the `after` hook.
 */
export async function startFakeAgent(t: After, reply: (socket: Socket) => void): Promise<string> {
  const dir = await tempDir(t, "runas-fake-agent-");
  const path = join(dir, "agent.sock");
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.once("data", () => reply(socket));
  });
  server.listen(path);
  await once(server, "listening");
  t.after(async () => {
    for (const s of sockets) s.destroy();
    server.close();
    await once(server, "close");
  });
  return path;
}

/**
 * Cleanup hooks collected in a `before` hook and run by one suite-level `after` (node:test
 * hooks cannot register further hooks). Runs them in reverse order of registration.
 */
export class Cleanup implements After {
  readonly #fns: (() => unknown)[] = [];

  after(fn: () => unknown): void {
    this.#fns.push(fn);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.#fns.splice(0).reverse()) {
      try {
        await fn();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, "cleanup failed");
  }
}
