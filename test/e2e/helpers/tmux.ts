/**
 * A private tmux server per test, for driving the built CLI in a real terminal: each
 * {@link TmuxPane} runs on its own socket (`tmux -L <unique> -f /dev/null`), so tests never touch a
 * user's tmux and can run side by side. Screens are read with `capture-pane -p` and polled with a
 * deadline; nothing here sleeps to pace a test.
 */
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Why tmux tests cannot run here, or undefined when tmux is available. */
export function tmuxSkipReason(): string | undefined {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return undefined;
  } catch {
    return "tmux is not installed (apt-get install tmux)";
  }
}

/** Quotes a value for a POSIX shell script. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export interface ScriptOptions {
  /** Variables exported before the command runs; undefined ones are unset. */
  env: Record<string, string | undefined>;
  /** The command line, already quoted. */
  command: string;
  /** Files (in the script's directory) that record the terminal state and the exit status. */
  files: { sttyBefore: string; sttyAfter: string; status: string };
}

/**
 * Writes `run.sh` into `dir`: exports `env`, records `stty -a` before and after the command and the
 * command's exit status (`$?`), then keeps the pane open with an interactive-free `exec sleep`.
 */
export function writeSessionScript(dir: string, options: ScriptOptions): string {
  const exports = Object.entries(options.env)
    .filter(([name]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    .map(([name, value]) => (value === undefined ? `unset ${name}` : `export ${name}=${shellQuote(value)}`));
  const { sttyBefore, sttyAfter, status } = options.files;
  const script = [
    "#!/bin/sh",
    ...exports,
    `stty -a > ${shellQuote(join(dir, sttyBefore))}`,
    options.command,
    `echo $? > ${shellQuote(join(dir, status))}.tmp && mv ${shellQuote(join(dir, status))}.tmp ${shellQuote(join(dir, status))}`,
    `stty -a > ${shellQuote(join(dir, sttyAfter))}`,
    "echo pane-script-done",
    "exec sleep 3600",
    "",
  ].join("\n");
  const path = join(dir, "run.sh");
  writeFileSync(path, script, { mode: 0o700 });
  return path;
}

/** One detached tmux session with a single pane, on its own server socket. */
export class TmuxPane {
  readonly socket: string;
  readonly session = "e2e";
  /** The server's socket file; tmux leaves it behind after kill-server. */
  #socketPath: string | undefined;
  #killed = false;

  private constructor(socket: string) {
    this.socket = socket;
  }

  /** Starts a private server with one `cols`×`rows` window running `command` (argv, no shell). */
  static async start(command: readonly string[], cols = 120, rows = 40): Promise<TmuxPane> {
    const pane = new TmuxPane(`runas-e2e-${process.pid}-${randomBytes(4).toString("hex")}`);
    await pane.tmux(
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-s",
      pane.session,
      "-x",
      String(cols),
      "-y",
      String(rows),
      ...command,
    );
    pane.#socketPath = (await pane.tmux("display-message", "-p", "#{socket_path}")).trim() || undefined;
    return pane;
  }

  /** Runs one tmux command against this pane's server. */
  async tmux(...args: string[]): Promise<string> {
    const { stdout } = await run("tmux", ["-L", this.socket, ...args], { encoding: "utf8" });
    return stdout;
  }

  /** Types `text` literally (no key-name interpretation). */
  async type(text: string): Promise<void> {
    await this.tmux("send-keys", "-t", this.session, "-l", text);
  }

  /** Sends key names such as `Enter` or `C-c`. */
  async keys(...names: string[]): Promise<void> {
    await this.tmux("send-keys", "-t", this.session, ...names);
  }

  /** Types a line and presses Enter. */
  async typeLine(text: string): Promise<void> {
    await this.type(text);
    await this.keys("Enter");
  }

  /** The visible screen plus the scrollback, as plain text. */
  async capture(): Promise<string> {
    return this.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", this.session);
  }

  /** Resizes the window (and so the pane) to `cols`×`rows`. */
  async resize(cols: number, rows: number): Promise<void> {
    await this.tmux("resize-window", "-t", this.session, "-x", String(cols), "-y", String(rows));
  }

  /**
   * Polls the screen until `pattern` matches, returning the match; fails after `timeoutMs` with the
   * last screen in the message.
   */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    let screen = "";
    for (;;) {
      screen = await this.capture();
      const m = pattern.exec(screen);
      if (m) return m;
      if (Date.now() >= deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; screen:\n${screen}`);
      }
      await pollPause();
    }
  }

  /** Kills the private server and everything running in it. Idempotent. */
  async kill(): Promise<void> {
    if (this.#killed) return;
    this.#killed = true;
    await this.tmux("kill-server").catch(() => {});
    if (this.#socketPath) rmSync(this.#socketPath, { force: true });
  }
}

/** Between two polls: a short pause so polling does not hog the CPU (not a timing assertion). */
function pollPause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await pollPause();
  }
}
