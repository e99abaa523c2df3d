/**
 * End-to-end harness: the BUILT programs as real processes. `startEmulatorProcess()` spawns
 * `dist/aws-runas-emulator.js` and reads its `export` lines; `runCli()` runs `dist/aws-runas.js`
 * with that environment. Every process started here is killed in `close()` / on timeout.
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const CLI = `${REPO_ROOT}packages/aws-runas/dist/aws-runas.js`;
export const EMULATOR = `${REPO_ROOT}packages/emulator/dist/aws-runas-emulator.js`;
/** How the helpers start the client unless told otherwise: the built CLI under this Node. */
export const CLI_COMMAND: readonly string[] = [process.execPath, CLI];

export interface EmulatorProcess {
  /** The exported variables (AWS_ENDPOINT_URL, AWS_CONFIG_FILE, RUNAS_DNS_SERVERS, ...). */
  exports: Record<string, string>;
  /** `process.env` plus the exports, with HOME-independent AWS settings only from the emulator. */
  env: NodeJS.ProcessEnv;
  process: ChildProcess;
  /** Everything the emulator wrote to stderr so far. */
  stderr(): string;
  /** POST/GET an admin hook (`/_emulator/...`). */
  admin(path: string, body?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/** Variables a developer's shell may carry that would change what the CLI does. */
const SCRUBBED = [
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_DEFAULT_REGION",
  "MFA_CODE",
  "MFA_SERIAL",
  "EXTERNAL_ID",
  "SESSION_TOKEN_DURATION",
  "CREDENTIALS_DURATION",
];

export async function startEmulatorProcess(
  args: string[] = [],
  timeoutMs = 20_000,
  /** Node's own flags, e.g. `--cpu-prof` for the bench's profile. */
  nodeArgs: readonly string[] = [],
): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [...nodeArgs, EMULATOR, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exports: Record<string, string> = {};
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`emulator did not get ready in ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`emulator exited with ${code}: ${err}`));
    });
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      for (const line of out.split("\n")) {
        const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
        if (m) exports[m[1]!] = m[2]!.replace(/^'(.*)'$/, "$1");
      }
      if (exports.AWS_ENDPOINT_URL && exports.AWS_CONFIG_FILE && exports.RUNAS_DNS_SERVERS) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve();
      }
    });
  });
  const env: NodeJS.ProcessEnv = { ...process.env, ...exports, NO_COLOR: "1" };
  for (const name of SCRUBBED) delete env[name];
  return {
    exports,
    env,
    process: child,
    stderr: () => err,
    async admin(path, body) {
      const res = await fetch(`${exports.AWS_ENDPOINT_URL}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return res.json();
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await once(child, "exit");
      clearTimeout(timer);
    },
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The same output as bytes (for byte-exact checks; the strings are decoded per chunk). */
  stdoutBytes?: Buffer;
  stderrBytes?: Buffer;
}

export interface CliOptions {
  env: NodeJS.ProcessEnv;
  input?: string | Buffer;
  timeoutMs?: number;
  /** The program and its leading arguments (e.g. a single-file executable); {@link CLI_COMMAND} if not given. */
  command?: readonly string[];
}

/** Runs the built CLI to completion (killed after `timeoutMs`), capturing its output. */
export async function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  const [program, ...lead] = options.command ?? CLI_COMMAND;
  const child = spawn(program!, [...lead, ...args], {
    env: options.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    outChunks.push(d);
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    errChunks.push(d);
  });
  child.stdin.on("error", () => {});
  child.stdin.end(options.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  // "close" (not "exit"): it comes after stdout and stderr have been read to the end.
  const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return {
    code,
    signal,
    stdout,
    stderr,
    stdoutBytes: Buffer.concat(outChunks),
    stderrBytes: Buffer.concat(errChunks),
  };
}

/** Starts the built CLI without waiting for it (for long-running forwards); killed by the caller. */
export function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  command: readonly string[] = CLI_COMMAND,
): ChildProcess {
  const [program, ...lead] = command;
  return spawn(program!, [...lead, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
}

/** Resolves with the first match of `pattern` in a stream's accumulated text. */
export function waitForOutput(
  stream: NodeJS.ReadableStream,
  pattern: RegExp,
  timeoutMs = 20_000,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      stream.off("data", onData);
      reject(new Error(`timed out waiting for ${pattern}; got: ${text.slice(-500)}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      text += d.toString();
      const m = pattern.exec(text);
      if (m) {
        clearTimeout(timer);
        stream.off("data", onData);
        resolve(m);
      }
    };
    stream.on("data", onData);
  });
}

/** A port that was free a moment ago on 127.0.0.1 (for programs that cannot take port 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

export interface OneLineErrorExpectations {
  /** The hint line must be present and match. */
  hint?: RegExp;
  exitCode?: number;
}

/**
 * A user-facing failure: non-zero exit (no signal), nothing on stdout, no stack trace, and one
 * `aws-runas: ...` line matching `message`, optionally followed by one `hint: ...` line.
 */
export function assertOneLineError(
  r: CliResult,
  message: RegExp,
  expect: OneLineErrorExpectations = {},
): void {
  assert.notEqual(r.code, 0, `expected a failure; stderr: ${r.stderr}`);
  if (expect.exitCode !== undefined) assert.equal(r.code, expect.exitCode, r.stderr);
  assert.equal(r.signal, null);
  assert.equal(r.stdout, "", "nothing on stdout");
  assert.doesNotMatch(r.stderr, /^\s+at |Node\.js v\d+|triggerUncaughtException/m, "no stack trace");
  const lines = r.stderr.split("\n").filter((line) => line !== "");
  assert.ok(lines.length >= 1 && lines.length <= 2, `one line and an optional hint, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^aws-runas: \S/);
  assert.match(lines[0]!, message);
  if (lines[1] !== undefined) assert.match(lines[1], /^hint: \S/);
  if (expect.hint) assert.match(lines[1] ?? "", expect.hint);
}
