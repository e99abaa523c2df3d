/**
 * Shared pieces of the reliability and security tests (issue #11): deterministic byte sources,
 * TCP source/echo servers on 127.0.0.1, a running `ssm forward`, a progress watchdog that turns a
 * silent hang into a failure, and `/proc` readers for leftover processes and listeners.
 * Everything started here is stopped by the caller (`t.after` / `after`).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createCipheriv, createHash, type Hash } from "node:crypto";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { CLI, EMULATOR, type EmulatorProcess, REPO_ROOT, waitForOutput } from "../e2e/helpers/harness.js";

/** Builds `dist/` when the programs are missing (`npm test` builds first; this is for single files). */
export function ensureBuilt(): void {
  if (existsSync(CLI) && existsSync(EMULATOR)) return;
  const build = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: REPO_ROOT, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stderr}`);
}

/**
 * An endless, seeded pseudo-random byte stream (AES-128-CTR over zeros): cheap enough for
 * hundreds of MiB, and the same seed always yields the same bytes.
 */
export class DeterministicBytes {
  readonly #cipher;
  readonly #zeros: Buffer;

  constructor(seed: number, chunkSize = 64 * 1024) {
    const key = createHash("sha256").update(`runas-reliability-${seed}`).digest().subarray(0, 16);
    this.#cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
    this.#zeros = Buffer.alloc(chunkSize);
  }

  /** The next `chunkSize` bytes (a fresh buffer each time). */
  next(): Buffer {
    return this.#cipher.update(this.#zeros);
  }
}

/** Writes `total` deterministic bytes to `socket` honouring back-pressure; returns their sha256. */
export async function writeDeterministic(
  socket: NodeJS.WritableStream,
  total: number,
  seed: number,
  onChunk?: (written: number) => void,
): Promise<string> {
  const source = new DeterministicBytes(seed);
  const hash = createHash("sha256");
  let written = 0;
  while (written < total) {
    let chunk = source.next();
    if (chunk.length > total - written) chunk = chunk.subarray(0, total - written);
    hash.update(chunk);
    written += chunk.length;
    onChunk?.(written);
    if (!socket.write(chunk)) await once(socket, "drain");
  }
  return hash.digest("hex");
}

/** Hashes everything a socket delivers; `bytes()` tells the progress. */
export function hashIncoming(socket: Socket): { hash: Hash; bytes(): number } {
  const hash = createHash("sha256");
  let bytes = 0;
  socket.on("data", (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  return { hash, bytes: () => bytes };
}

export interface TestServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<TestServer> {
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    server,
    port: (server.address() as { port: number }).port,
    async close() {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP server that echoes every byte back. */
export function startEchoServer(): Promise<TestServer> {
  return listen(createServer((s) => s.pipe(s)));
}

/**
 * A TCP server that sends `total` deterministic bytes to each connection and then ends it.
 * `digests` collects the sha256 of what each connection was sent.
 */
export async function startSourceServer(
  total: number,
  seed: number,
): Promise<TestServer & { digests: Promise<string>[] }> {
  const digests: Promise<string>[] = [];
  const server = createServer((s) => {
    const digest = writeDeterministic(s, total, seed).then((d) => {
      s.end();
      return d;
    });
    digest.catch(() => {});
    digests.push(digest);
  });
  return Object.assign(await listen(server), { digests });
}

/** A running `aws-runas ssm forward` child. */
export interface RunningForward {
  child: ChildProcess;
  /** The local port it printed. */
  port: number;
  stderr(): string;
  /** SIGINT (Ctrl-C), then waits for the exit; SIGKILL after 10 s. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `aws-runas [global...] ssm forward profile target` and waits for "Port N opened". */
export async function startForward(
  env: NodeJS.ProcessEnv,
  profile: string,
  target: string,
  extraArgs: string[] = [],
  forwardArgs: string[] = [],
): Promise<RunningForward> {
  const child = spawn(
    process.execPath,
    [CLI, ...extraArgs, "ssm", "forward", ...forwardArgs, profile, target],
    {
      env,
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin!.on("error", () => {});
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  let match: RegExpExecArray;
  try {
    match = await Promise.race([
      waitForOutput(child.stderr!, /Port (\d+) opened/, 30_000),
      exited.then(([code]) => {
        throw new Error(`forward exited (${code}) before listening: ${stderr}`);
      }),
    ]);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  let result: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  return {
    child,
    port: Number(match[1]),
    stderr: () => stderr,
    async stop() {
      if (result) return result;
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const [code, signal] = await exited;
      clearTimeout(timer);
      result = { code, signal };
      return result;
    },
  };
}

/**
 * Rejects when `progress()` stops growing for `stallMs` — a hang becomes a failure with a
 * description instead of a test-runner timeout. `stop()` ends the watch.
 */
export function watchProgress(
  progress: () => number,
  stallMs: number,
  describe: () => string,
): { stalled: Promise<never>; stop(): void } {
  let last = -1;
  let since = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setInterval(
      () => {
        const now = progress();
        if (now !== last) {
          last = now;
          since = Date.now();
        } else if (Date.now() - since >= stallMs) {
          clearInterval(timer);
          reject(new Error(`no progress for ${stallMs} ms: ${describe()}`));
        }
      },
      Math.min(1000, stallMs / 4),
    );
  });
  stalled.catch(() => {});
  return { stalled, stop: () => clearInterval(timer) };
}

/** How many calls of `operation` the emulator's request log holds. */
export async function countRequests(emulator: EmulatorProcess, operation: string): Promise<number> {
  const entries = (await emulator.admin("/_emulator/requests")) as Array<{ operation: string }>;
  return entries.filter((e) => e.operation === operation).length;
}

/** Ids of the live child processes of `pid` (from `/proc/<pid>/task/<tid>/children`). */
export function childPids(pid = process.pid): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
      for (const id of text.split(/\s+/)) if (id !== "") out.push(Number(id));
    } catch {
      // The thread ended meanwhile.
    }
  }
  // Zombies already reaped by node may linger for a moment; only running children count. tsx's
  // own esbuild service (it compiles the tests) is the test runner's helper, not a leftover.
  return out.filter((id) => {
    try {
      if (/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${id}/stat`, "utf8"))) return false;
      return !/esbuild\S* --service=/.test(commandLine(id));
    } catch {
      return false;
    }
  });
}

/** The command line of a process, for messages. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "(gone)";
  }
}

/** Local TCP ports in LISTEN state on this machine (IPv4 and IPv6), with their bound address. */
export function listeningSockets(): Array<{ address: string; port: number }> {
  const out: Array<{ address: string; port: number }> = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4 || fields[3] !== "0A") continue; // 0A = TCP_LISTEN
      const [hexAddress = "", hexPort = "0"] = (fields[1] ?? "").split(":");
      out.push({ address: hexAddress, port: Number.parseInt(hexPort, 16) });
    }
  }
  return out;
}

/** Whether anything on this machine listens on TCP `port`. */
export function isListening(port: number): boolean {
  return listeningSockets().some((s) => s.port === port);
}

/** The directory holding the emulator's generated files (its state dir). */
export function emulatorStateDir(emulator: EmulatorProcess): string {
  const config = emulator.exports.AWS_CONFIG_FILE;
  if (!config) throw new Error("the emulator exported no AWS_CONFIG_FILE");
  return join(config, "..");
}

/**
 * Fails when this test process still has child processes (a CLI, an emulator, a pty shell...):
 * meant for a file-level `after` hook, once every suite closed what it started. Waits a little
 * for children that are already exiting.
 */
export async function assertNoChildProcesses(): Promise<void> {
  const deadline = Date.now() + 5000;
  let left = childPids();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = childPids();
  }
  if (left.length > 0) {
    throw new Error(`child processes left behind: ${left.map((p) => `${p} ${commandLine(p)}`).join("; ")}`);
  }
}
