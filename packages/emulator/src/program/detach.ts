/**
 * Background mode: `eval "$(aws-runas-emulator --detach)"` and `aws-runas-emulator --stop`.
 *
 * Command substitution waits until every writer of its pipe is gone, so a backgrounded emulator
 * that still holds stdout never lets `$(…)` return. `--detach` therefore starts the emulator as
 * a new session leader whose stdout and stderr go to a log file (or nowhere), waits on a private
 * pipe (fd 3) for the child's exports or its start error, prints the exports plus
 * `RUNAS_EMULATOR_PID`, and exits. `--stop` sends that pid SIGTERM (after checking it is an
 * emulator), waits until it is gone, and prints `unset` for the variables it had set.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import type { Readable } from "node:stream";
import { RunasError, UsageError } from "@aws-runas/wire/errors.js";
import { formatExports } from "./exports.js";

/** The fd on which a detached child reports readiness to its parent. */
export const READY_FD = 3;

/** Every variable a (detached) emulator exports; `--stop` unsets them. */
export const EMULATOR_VARIABLES = [
  "AWS_ENDPOINT_URL",
  "RUNAS_DNS_SERVERS",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_REGION",
  "RUNAS_EMULATOR_STATE_DIR",
  "RUNAS_EMULATOR_PID",
] as const;

/** The one line a detached child writes on {@link READY_FD}. */
export type ReadyMessage =
  | { ok: true; env: Record<string, string> }
  | { ok: false; message: string; hint?: string; exitCode: number };

/** In the child: tells the waiting parent the outcome, then closes the pipe. */
export function reportToParent(fd: number, message: ReadyMessage): void {
  try {
    writeSync(fd, `${JSON.stringify(message)}\n`);
    closeSync(fd);
  } catch {
    // The parent is gone (killed while waiting): nothing left to tell.
  }
}

export interface DetachOptions {
  /** The program to run: node's path, its exec arguments and the emulator script. */
  command: string;
  args: readonly string[];
  /** Where the child's stdout/stderr go; undefined discards them. */
  logFile: string | undefined;
  /** How long to wait for the child to be ready. */
  timeoutMs?: number;
}

export interface Detached {
  pid: number;
  env: Record<string, string>;
}

/** Starts the emulator in the background and resolves once it is ready (or rejects with its error). */
export async function startDetached(options: DetachOptions): Promise<Detached> {
  let logFd: number | undefined;
  try {
    if (options.logFile !== undefined) logFd = openSync(options.logFile, "a", 0o600);
  } catch (error) {
    throw new UsageError(`cannot open --log ${options.logFile}: ${(error as Error).message}`);
  }
  const output = logFd ?? "ignore";
  // Interrupted while waiting: the child is in a session of its own, so the terminal's signal
  // does not reach it; stop it rather than leave an emulator nobody knows the pid of. The
  // handlers go in before the spawn, so a signal during the spawn itself is not lost either.
  let interruptedBy: NodeJS.Signals | undefined;
  let started: ReturnType<typeof spawn> | undefined;
  const interrupted = (signal: NodeJS.Signals) => {
    interruptedBy = signal;
    started?.kill("SIGTERM");
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  process.once("SIGHUP", interrupted);
  const child = spawn(options.command, [...options.args], {
    detached: true,
    stdio: ["ignore", output, output, "pipe"],
  });
  if (logFd !== undefined) closeSync(logFd);
  const pipe = child.stdio[READY_FD] as Readable | null | undefined;
  if (!pipe || child.pid === undefined) {
    stopListening(interrupted);
    throw new RunasError("EMULATOR_DETACH", "cannot start the emulator in the background");
  }
  const pid = child.pid;
  started = child;
  if (interruptedBy) child.kill("SIGTERM");
  try {
    const message = await new Promise<ReadyMessage>((resolve, reject) => {
      let text = "";
      const timer = setTimeout(
        () => reject(new RunasError("EMULATOR_DETACH", "the emulator did not become ready in time")),
        options.timeoutMs ?? 60_000,
      );
      const settle = () => clearTimeout(timer);
      pipe.setEncoding("utf8");
      pipe.on("data", (chunk: string) => {
        text += chunk;
        const end = text.indexOf("\n");
        if (end < 0) return;
        settle();
        try {
          resolve(JSON.parse(text.slice(0, end)) as ReadyMessage);
        } catch {
          reject(new RunasError("EMULATOR_DETACH", "the emulator sent an unreadable ready message"));
        }
      });
      pipe.on("error", () => {});
      child.once("error", (error) => {
        settle();
        reject(new RunasError("EMULATOR_DETACH", `cannot start the emulator: ${error.message}`));
      });
      // "close", not "exit": a start error written just before exiting must be read first.
      child.once("close", (code, signal) => {
        settle();
        if (interruptedBy) {
          const exitCode = interruptedBy === "SIGINT" ? 130 : interruptedBy === "SIGHUP" ? 129 : 143;
          reject(
            new RunasError("EMULATOR_DETACH", `interrupted by ${interruptedBy}; the emulator was stopped`, {
              exitCode,
            }),
          );
          return;
        }
        reject(
          new RunasError(
            "EMULATOR_DETACH",
            `the emulator exited before it was ready (${signal ?? `exit code ${code}`})`,
            { hint: options.logFile ? `see ${options.logFile}` : "run it with --log FILE to see why" },
          ),
        );
      });
    });
    if (!message.ok) {
      throw new RunasError("EMULATOR_START", message.message, {
        hint: message.hint,
        exitCode: message.exitCode,
      });
    }
    child.unref();
    pipe.destroy();
    return { pid, env: message.env };
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    pipe.destroy();
    throw error;
  } finally {
    stopListening(interrupted);
  }
}

function stopListening(handler: (signal: NodeJS.Signals) => void): void {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(signal, handler);
}

/** What `--detach` prints on stdout: the emulator's exports and its pid. */
export function detachedExports(detached: Detached): string {
  return formatExports({ ...detached.env, RUNAS_EMULATOR_PID: String(detached.pid) });
}

/** The `unset` line `--stop` prints, for `eval "$(aws-runas-emulator --stop)"`. */
export function unsetLine(): string {
  return `unset ${EMULATOR_VARIABLES.join(" ")}\n`;
}

export interface StopDeps {
  kill: (pid: number, signal: NodeJS.Signals | 0) => void;
  /** The process's command line and whether it is a zombie; undefined when it does not exist. */
  inspect: (pid: number) => { cmdline: string; zombie: boolean } | undefined;
  sleep: (ms: number) => Promise<void>;
}

/** Linux /proc: enough to tell an emulator from a recycled pid, and a zombie from a live process. */
export const procDeps: StopDeps = {
  kill: (pid, signal) => process.kill(pid, signal),
  inspect: (pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // The state letter follows the parenthesised command name, which may itself hold ") ".
      const zombie = stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
      return { cmdline, zombie };
    } catch {
      return undefined;
    }
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Stops the emulator `RUNAS_EMULATOR_PID` names: SIGTERM, then waits until it has exited (a
 * zombie counts: its parent, not us, reaps it). Already gone is fine; a pid that is not an
 * emulator is refused, so a stale variable never kills an unrelated process.
 * Returns a note for stderr when there was nothing to stop.
 */
export async function stopDetached(
  pidText: string | undefined,
  deps: StopDeps = procDeps,
  timeoutMs = 10_000,
): Promise<string | undefined> {
  if (pidText === undefined || pidText === "") {
    throw new UsageError(
      "--stop needs RUNAS_EMULATOR_PID",
      'it is set by eval "$(aws-runas-emulator --detach)" in the same shell',
    );
  }
  if (!/^[1-9]\d*$/.test(pidText)) throw new UsageError(`invalid RUNAS_EMULATOR_PID "${pidText}"`);
  const pid = Number(pidText);
  const found = deps.inspect(pid);
  if (!found || found.zombie) return `no emulator with pid ${pid} is running (already stopped)`;
  if (!found.cmdline.includes("aws-runas-emulator")) {
    throw new RunasError("EMULATOR_STOP", `pid ${pid} is not an aws-runas-emulator process`, {
      hint: "RUNAS_EMULATOR_PID is stale; the emulator is already gone",
    });
  }
  deps.kill(pid, "SIGTERM");
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    const now = deps.inspect(pid);
    if (!now || now.zombie) return undefined;
    await deps.sleep(50);
  }
  throw new RunasError(
    "EMULATOR_STOP",
    `the emulator (pid ${pid}) did not stop within ${timeoutMs / 1000} s`,
    {
      hint: `kill -KILL ${pid}`,
    },
  );
}
