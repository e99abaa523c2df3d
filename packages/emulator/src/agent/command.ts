/**
 * The NonInteractiveCommands plugin (ssm-protocol.md §2.1, §4.6, §6.1): one command without a
 * pty and without stdin.
 *
 * - Separated streams (document `separateOutputStream: true` on agents from 3.1.1511.0): stdout
 *   goes out as Output (pt 1) and stderr as StdErr (pt 11) while the command runs; once both
 *   pipes are drained and the process has exited comes one ExitCode (pt 12) `EXIT_CODE: <n>`
 *   (AGT `shell.go` `processCommandsWithOutputStreamSeparate`, `sendExitCode`).
 * - Otherwise stdout and stderr share one output file that the agent sends as Output only after
 *   the command has ended, and no exit code is sent at all (AGT `processCommandsWithExec`).
 *
 * Client input is not a stdin: Output bytes 0x03 and 0x1C become SIGINT and SIGQUIT, everything
 * else is dropped; Size messages are ignored (AGT `shell_unix.go` `InputStreamMessageHandler`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { homedir } from "node:os";
import { PayloadType } from "@aws-runas/wire/protocol/index.js";
import type { Delivery } from "./channel/channel.js";
import { AgentError } from "./errors.js";
import { SourcePump } from "./flow.js";
import type { PluginHost, SessionPlugin } from "./plugin.js";
import type { ShellLaunch } from "./shell-command.js";

/** First agent version with separate StdErr / ExitCode messages (agent release notes). */
export const SEPARATE_OUTPUT_MIN_AGENT_VERSION = "3.1.1511.0";
/** First agent version with the NonInteractiveCommands plugin (agent release notes). */
export const NON_INTERACTIVE_MIN_AGENT_VERSION = "3.0.1124.0";

/** Control bytes the agent turns into signals for the command (AGT `ByteControlSignalsLinux`). */
const CONTROL_SIGNALS: ReadonlyMap<number, NodeJS.Signals> = new Map([
  [0x03, "SIGINT"],
  [0x1c, "SIGQUIT"],
]);

/** Go's `ExitError.ExitCode()` for a process ended by a signal. */
const SIGNALLED_EXIT_CODE = -1;

export class CommandPlugin implements SessionPlugin {
  readonly #host: PluginHost;
  readonly #separate: boolean;
  readonly #stdout: SourcePump;
  readonly #stderr: SourcePump;
  #child: ChildProcess | null = null;
  #stopped = false;

  private constructor(host: PluginHost, separate: boolean) {
    this.#host = host;
    this.#separate = separate;
    this.#stdout = new SourcePump({
      gate: host.gate,
      pacing: host.pacing,
      send: (chunk) => host.sendStream(PayloadType.output, chunk),
      utf8: true,
    });
    this.#stderr = new SourcePump({
      gate: host.gate,
      pacing: host.pacing,
      send: (chunk) => host.sendStream(PayloadType.stdErr, chunk),
      utf8: true,
    });
  }

  /** Starts the command; with `separate` false the launch must merge stderr into stdout. */
  static start(host: PluginHost, launch: ShellLaunch, separate: boolean): CommandPlugin {
    const plugin = new CommandPlugin(host, separate);
    plugin.#spawn(launch);
    return plugin;
  }

  input(data: Buffer): Delivery {
    const child = this.#child;
    if (this.#stopped || !child?.pid) return "ok";
    for (const byte of data) {
      const signal = CONTROL_SIGNALS.get(byte);
      if (signal === undefined) continue;
      // The whole process group: the user's shell may run the command as its own child.
      try {
        process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
      break;
    }
    return "ok";
  }

  resize(): void {
    // No pty: the agent ignores Size messages in this plugin.
  }

  flag(): void {
    // Shell plugins ignore Flag messages (§4.6).
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stdout.close();
    this.#stderr.close();
    const child = this.#child;
    this.#child = null;
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }

  #spawn(launch: ShellLaunch): void {
    let child: ChildProcess;
    try {
      child = spawn(launch.file, launch.args, {
        cwd: homedir(),
        env: launch.env,
        stdio: ["ignore", "pipe", "pipe"],
        // Its own process group, so signals and the final kill reach everything it started.
        detached: true,
      });
    } catch (error) {
      this.#host.fail(new AgentError("AGENT_SHELL", `cannot start ${launch.file}`, error));
      return;
    }
    this.#child = child;
    const stdout = child.stdout!;
    const stderr = child.stderr!;
    const held: Buffer[] = [];
    if (this.#separate) {
      this.#stdout.bind(stdout);
      this.#stderr.bind(stderr);
      stdout.on("data", (chunk: Buffer) => this.#stdout.push(chunk));
      stderr.on("data", (chunk: Buffer) => this.#stderr.push(chunk));
    } else {
      // Collected like the agent's output file, sent once the command is over.
      stdout.on("data", (chunk: Buffer) => held.push(chunk));
      stderr.on("data", (chunk: Buffer) => held.push(chunk));
    }
    child.once("error", (error) => {
      if (!this.#stopped)
        this.#host.fail(new AgentError("AGENT_SHELL", `cannot start ${launch.file}`, error));
    });
    // "close": the process has exited and both pipes have been read to the end.
    child.once("close", (code: number | null) => {
      this.#host.logger.debug(`command exited with code ${code ?? "(signal)"}`);
      if (this.#stopped) return;
      const exitCode = code ?? SIGNALLED_EXIT_CODE;
      if (!this.#separate) this.#stdout.push(Buffer.concat(held));
      void Promise.all([this.#stdout.whenIdle(), this.#stderr.whenIdle()]).then(() => {
        if (this.#stopped) return;
        if (this.#separate)
          this.#host.sendStream(PayloadType.exitCode, Buffer.from(`EXIT_CODE: ${exitCode}`));
        this.#host.finish();
      });
    });
  }
}
