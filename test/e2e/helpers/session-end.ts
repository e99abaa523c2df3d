/**
 * Helpers of the session-end table (test/e2e/session-ends.test.ts): the README's exit-code table
 * of end paths, the processes an emulated session left on this machine, and a CLI child whose
 * output is watched as it comes.
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, spawnCli } from "./harness.js";

export type SessionCommand = "shell" | "forward" | "ssh";

/** One cell of the README table: an exit code, or the table's words for "not an end path". */
export type ExitCell = number | string;

/**
 * The "Exit codes of each end path" table of README.md: end path (the first cell's `code`
 * name) → command → cell. The test compares every exit code with it, so the two cannot drift.
 */
export function readmeEndPaths(): Map<string, Record<SessionCommand, ExitCell>> {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const start = readme.indexOf("| end path |");
  if (start < 0) throw new Error("README.md has no end-path exit code table (| end path | ...)");
  const lines = readme.slice(start).split("\n");
  const header = splitRow(lines[0]!);
  const column = (name: SessionCommand) => {
    const i = header.findIndex((h) => h.replaceAll("`", "") === name);
    if (i < 0) throw new Error(`the README end-path table has no ${name} column`);
    return i;
  };
  const columns = { shell: column("shell"), forward: column("forward"), ssh: column("ssh") };
  const table = new Map<string, Record<SessionCommand, ExitCell>>();
  for (const line of lines.slice(2)) {
    if (!line.startsWith("|")) break;
    const cells = splitRow(line);
    const key = /`([^`]+)`/.exec(cells[0] ?? "")?.[1];
    if (!key) throw new Error(`README end-path row without a \`name\`: ${line}`);
    const cell = (i: number): ExitCell => {
      const text = (cells[i] ?? "").trim();
      return /^\d+$/.test(text) ? Number(text) : text;
    };
    table.set(key, { shell: cell(columns.shell), forward: cell(columns.forward), ssh: cell(columns.ssh) });
  }
  return table;
}

function splitRow(line: string): string[] {
  // `\|` inside a cell is an escaped pipe, not a column border.
  return line
    .replace(/^\|/, "")
    .replace(/\|\s*$/, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/**
 * Live processes started for an emulated session: the emulator's agent gives every process of a
 * session `RUNAS_EMULATOR_SESSION_ID` (children inherit it), so this finds them all, whatever
 * their parent or process group — also ones that outlived the pty.
 */
export function sessionProcesses(sessionId: string): Array<{ pid: number; command: string }> {
  const marker = `RUNAS_EMULATOR_SESSION_ID=${sessionId}\0`;
  const found: Array<{ pid: number; command: string }> = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, "latin1").includes(marker)) continue;
      // A zombie has no environment left; this one still runs (or is about to be reaped).
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (/^\S+ \(.*\) Z/.test(stat)) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
      found.push({ pid: Number(entry), command });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/** A CLI child whose stdout and stderr are collected and can be waited on. */
export interface CliChild {
  child: ChildProcess;
  stdout(): string;
  stdoutBytes(): number;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stderr (past or future). */
  waitStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves with the first match of `pattern` in stdout (past or future). */
  waitStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves once stdout has delivered `bytes` bytes. */
  waitStdoutBytes(bytes: number, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit status; SIGKILL (and a failure) after `timeoutMs`. */
  exit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `aws-runas ...args` (the built CLI) with pipes on all three streams. */
export function startCli(args: string[], env: NodeJS.ProcessEnv): CliChild {
  const child = spawnCli(args, env);
  let out = "";
  let outBytes = 0;
  let err = "";
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout!.on("data", (d: Buffer) => {
    outBytes += d.length;
    // Only the start and the end of a large output matter for matching.
    out = (out + d.toString("latin1")).slice(-64 * 1024);
    wake();
  });
  child.stdout!.on("error", () => {});
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
    wake();
  });
  child.stdin!.on("error", () => {});
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  let exitedYet = false;
  void exited.then(() => {
    exitedYet = true;
    wake();
  });
  const wait = <T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const done = (fn: () => void) => {
        waiters.delete(poll);
        clearTimeout(timer);
        fn();
      };
      const poll = () => {
        const value = check();
        if (value !== undefined) return done(() => resolve(value));
        if (exitedYet) done(() => reject(new Error(`the CLI exited before ${what}; stderr:\n${err}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`timed out waiting for ${what}; stderr:\n${err}`))),
        timeoutMs,
      );
      waiters.add(poll);
      poll();
    });
  return {
    child,
    stdout: () => out,
    stdoutBytes: () => outBytes,
    stderr: () => err,
    waitStderr: (pattern, timeoutMs = 20_000) =>
      wait(String(pattern), () => pattern.exec(err) ?? undefined, timeoutMs),
    waitStdout: (pattern, timeoutMs = 20_000) =>
      wait(String(pattern), () => pattern.exec(out) ?? undefined, timeoutMs),
    waitStdoutBytes: (bytes, timeoutMs = 20_000) =>
      wait(`${bytes} bytes on stdout`, () => (outBytes >= bytes ? true : undefined), timeoutMs).then(
        () => {},
      ),
    async exit(timeoutMs = 20_000) {
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const [code, signal] = await exited;
      clearTimeout(timer);
      return { code, signal };
    },
  };
}
