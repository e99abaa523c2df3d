/**
 * Start-up and interactive latency, measured on real processes: `ssm ssh` as a ProxyCommand
 * (exec → first byte of the remote server's banner), `ssm forward` (exec → "Port N opened"),
 * `ssm shell` (exec → first prompt byte) and keystroke echo in a shell (write a byte, wait for the
 * remote terminal to echo it). Credentials are warm: one untimed run fills the cache first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { type EmulatorProcess, REPO_ROOT } from "../../test/e2e/helpers/harness.js";
import { cellOf, runRepeated } from "../lib/runs.js";
import { StallError, startBannerServer } from "../lib/service.js";
import { percentile } from "../lib/stats.js";
import { type Cell, compareRows, missing, type Row } from "../lib/table.js";
import { ours, stopChild, type Tool } from "../lib/tools.js";

/** The installed command: package.json's `bin` entry for aws-runas. */
const BIN = join(REPO_ROOT, "packages/aws-runas/bin/aws-runas.cjs");

/** Run counts of the start-up suite. */
export interface StartupPlan {
  /** exec → first byte runs (issue #10: median of 7). */
  runs: number;
  /** Keystrokes per shell session for the echo latency, and sessions. */
  keystrokes: number;
  keystrokeRuns: number;
}

export interface StartupSuiteInput {
  emulator: EmulatorProcess;
  plan: StartupPlan;
  official: Tool | string;
  /** Describes the emulator's pacing in row names. */
  pacing: string;
  log: (line: string) => void;
}

/** The plugin's status line on stdout (ours prints it on stderr): not session data. */
const STATUS_LINE = /\r?\n?Starting session with SessionId: \S+\r?\n?/g;

/**
 * Milliseconds from `started` until `stream` yields its first byte of session data (status lines
 * are skipped); rejects on exit or after `timeoutMs`.
 */
function firstByte(child: ChildProcess, stream: NodeJS.ReadableStream, started: number, timeoutMs = 20_000) {
  let text = "";
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new StallError(`no output within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      text += d.toString("latin1");
      if (text.replace(STATUS_LINE, "") === "") return;
      cleanup();
      resolve(performance.now() - started);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`exited with ${code} before any output`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      stream.off("data", onData);
      child.off("exit", onExit);
    };
    stream.on("data", onData);
    child.once("exit", onExit);
  });
}

/** stderr of a child, kept for error messages. */
function collectStderr(child: ChildProcess): () => string {
  let text = "";
  child.stderr?.on("data", (d: Buffer) => {
    text += d.toString();
  });
  return () => text.trim().split("\n").slice(-1)[0] ?? "";
}

async function sshTimeToFirstByte(tool: Tool, emulator: EmulatorProcess, port: number): Promise<number> {
  const started = performance.now();
  const child = tool.ssh(emulator, port);
  const lastError = collectStderr(child);
  try {
    return await firstByte(child, child.stdout!, started);
  } catch (error) {
    throw withDetail(error, lastError());
  } finally {
    child.stdin?.end();
    await stopChild(child, "SIGTERM");
  }
}

async function forwardReady(tool: Tool, emulator: EmulatorProcess, port: number): Promise<number> {
  const running = await tool.forward(emulator, port);
  await stopChild(running.child, tool.name === "aws-runas" ? "SIGINT" : "SIGTERM");
  return running.readyMs;
}

async function shellFirstPrompt(tool: Tool, emulator: EmulatorProcess): Promise<number> {
  const started = performance.now();
  const child = tool.shell(emulator);
  const lastError = collectStderr(child);
  try {
    return await firstByte(child, child.stdout!, started);
  } catch (error) {
    throw withDetail(error, lastError());
  } finally {
    child.stdin?.end("exit\n");
    await stopChild(child, "SIGTERM");
  }
}

/** One shell session: waits for the prompt, then times `count` keystrokes until each is echoed. */
async function keystrokeEcho(tool: Tool, emulator: EmulatorProcess, count: number): Promise<number[]> {
  const child = tool.shell(emulator);
  const lastError = collectStderr(child);
  const stdout = child.stdout!;
  try {
    await firstByte(child, stdout, performance.now());
    // Let the prompt finish: wait until output has been quiet for a moment (start-up only).
    await quiet(stdout, 300);
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const key = String.fromCharCode(0x61 + (i % 26));
      const started = performance.now();
      const echoed = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          stdout.off("data", onData);
          reject(new StallError(`keystroke ${i + 1} was not echoed within 5 s`));
        }, 5000);
        const onData = (d: Buffer) => {
          if (!d.toString("latin1").includes(key)) return;
          clearTimeout(timer);
          stdout.off("data", onData);
          resolve();
        };
        stdout.on("data", onData);
      });
      child.stdin!.write(key);
      await echoed;
      times.push(performance.now() - started);
    }
    return times;
  } catch (error) {
    throw withDetail(error, lastError());
  } finally {
    // Ctrl-U drops the typed line, then the shell is asked to leave.
    child.stdin?.end("\x15exit\n");
    await stopChild(child, "SIGTERM");
  }
}

/** Resolves once `stream` has produced nothing for `ms` (bounded to 3 s). */
function quiet(stream: NodeJS.ReadableStream, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const deadline = setTimeout(finish, 3000);
    let timer = setTimeout(finish, ms);
    const onData = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, ms);
    };
    function finish() {
      clearTimeout(timer);
      clearTimeout(deadline);
      stream.off("data", onData);
      resolve();
    }
    stream.on("data", onData);
  });
}

/** exec → exit of an empty Node program: the floor under every start-up figure of a Node CLI. */
/** Milliseconds from exec to exit of `node ARGS` (stdout discarded). */
async function nodeRun(args: readonly string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: "ignore" });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`node ${args.join(" ")} exited with ${code}`);
  return performance.now() - started;
}

const nodeStartup = () => nodeRun(["-e", ""]);

function withDetail(error: unknown, detail: string): Error {
  if (!detail || !(error instanceof Error)) return error as Error;
  error.message = `${error.message} (${detail})`;
  return error;
}

export async function runStartupSuite(input: StartupSuiteInput): Promise<Row[]> {
  const { emulator, plan, log, pacing } = input;
  const banner = await startBannerServer();
  const tools: Array<Tool | string> = [ours, input.official];
  try {
    log("warming the credential cache");
    await sshTimeToFirstByte(ours, emulator, banner.port).catch(() => 0);

    const measureAll = async (once: (tool: Tool) => Promise<number>, runs: number): Promise<Cell[]> => {
      const cells: Cell[] = [];
      for (const tool of tools) {
        if (typeof tool === "string") {
          cells.push(missing(tool));
          continue;
        }
        cells.push(cellOf(await runRepeated({ runs }, () => once(tool)), "ms"));
      }
      return cells;
    };
    const rows: Row[] = [];
    log(`node start-up: ${plan.runs} runs`);
    const nodeFloor = {
      label: 'node start-up (exec → exit of node -e "")',
      cell: cellOf(await runRepeated({ runs: plan.runs }, nodeStartup), "ms"),
    };
    const theirs = (cell: Cell | undefined, floor = true) => [
      { label: "session-manager-plugin", cell: cell ?? missing("?") },
      ...(floor ? [nodeFloor] : []),
    ];

    // What an installed user runs: the package's bin script, not the bundle directly.
    const runs = plan.runs * 2;
    log(`aws-runas --version and --help: ${runs} runs each`);
    const version = cellOf(await runRepeated({ runs }, () => nodeRun([BIN, "--version"])), "ms");
    const versionMedian = version.kind === "measured" ? version.summary.median : undefined;
    rows.push(
      ...compareRows("aws-runas --version: exec → exit", version, [nodeFloor], {
        text: "≤ 60 ms",
        met: versionMedian !== undefined && versionMedian <= 60,
      }),
    );
    const help = cellOf(await runRepeated({ runs }, () => nodeRun([BIN, "ssm", "shell", "--help"])), "ms");
    rows.push(...compareRows("aws-runas ssm shell --help: exec → exit", help, [nodeFloor]));

    log(`ssm ssh time to first byte: ${plan.runs} runs`);
    const [sshOurs, sshTheirs] = await measureAll(
      (tool) => sshTimeToFirstByte(tool, emulator, banner.port),
      plan.runs,
    );
    const sshMedian = sshOurs?.kind === "measured" ? sshOurs.summary.median : undefined;
    rows.push(
      ...compareRows(
        "ssm ssh ProxyCommand: exec → first byte from the server (warm cache)",
        sshOurs!,
        theirs(sshTheirs),
        {
          text: "≤ 250 ms",
          met: sshMedian !== undefined && sshMedian <= 250,
        },
      ),
    );

    log(`ssm forward time to "Port opened": ${plan.runs} runs`);
    const [fwdOurs, fwdTheirs] = await measureAll(
      (tool) => forwardReady(tool, emulator, banner.port),
      plan.runs,
    );
    rows.push(
      ...compareRows('ssm forward: exec → "Port N opened" (warm cache)', fwdOurs!, theirs(fwdTheirs)),
    );

    log(`ssm shell first prompt: ${plan.runs} runs`);
    const [shellOurs, shellTheirs] = await measureAll((tool) => shellFirstPrompt(tool, emulator), plan.runs);
    rows.push(
      ...compareRows(
        `ssm shell: exec → first prompt byte, pacing ${pacing}`,
        shellOurs!,
        theirs(shellTheirs),
      ),
    );

    log(`shell keystroke echo: ${plan.keystrokeRuns} sessions × ${plan.keystrokes} keys`);
    const [keyOurs, keyTheirs] = await measureAll(
      async (tool) => percentile(await keystrokeEcho(tool, emulator, plan.keystrokes), 50),
      plan.keystrokeRuns,
    );
    rows.push(
      ...compareRows(
        `ssm shell: keystroke echo p50 (piped stdin), pacing ${pacing}`,
        keyOurs!,
        theirs(keyTheirs, false),
      ),
    );
    return rows;
  } finally {
    await banner.close();
  }
}
