/**
 * The programs under test, started the way a user starts them: ours (the built `aws-runas`) and,
 * when installed, the official pair (`aws ssm start-session` + `session-manager-plugin`), both
 * against the same emulator process. Every child started here is stopped by {@link stopChild}.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { CLI, type EmulatorProcess, freePort, waitForOutput } from "../../test/e2e/helpers/harness.js";

/** The emulator instance with a modern agent (smux port forwarding). */
export const MUX_INSTANCE = "i-0123456789abcdef0";
/** The profile with long-term keys in the emulator's generated config. */
export const PROFILE = "plain";

/** A started forwarder: the child and the local port it listens on. */
export interface RunningForward {
  child: ChildProcess;
  localPort: number;
  /** Milliseconds from spawn to the "Port N opened" line. */
  readyMs: number;
}

export interface Tool {
  /** Short name for the table ("aws-runas", "session-manager-plugin"). */
  name: string;
  /** Starts `forward` to 127.0.0.1:`remotePort` on the instance and waits until it listens. */
  forward(
    emulator: EmulatorProcess,
    remotePort: number,
    nodeArgs?: readonly string[],
  ): Promise<RunningForward>;
  /** Spawns an SSH ProxyCommand session to `remotePort` (stdin/stdout carry the stream). */
  ssh(emulator: EmulatorProcess, remotePort: number): ChildProcess;
  /** Spawns a shell session with piped stdin. */
  shell(emulator: EmulatorProcess): ChildProcess;
}

/** True when `name` is an executable file in one of PATH's directories. */
export function onPath(name: string, path = process.env.PATH ?? ""): boolean {
  return path.split(delimiter).some((dir) => dir !== "" && existsSync(join(dir, name)));
}

/** Why the official tools cannot be measured here, or undefined when they can. */
export function officialToolsMissing(path = process.env.PATH ?? ""): string | undefined {
  if (!onPath("session-manager-plugin", path)) return "not installed";
  if (!onPath("aws", path)) return "not installed (no aws CLI to start it)";
  return undefined;
}

function spawnNode(args: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, args, { env, stdio: ["pipe", "pipe", "pipe"] });
}

async function untilPortOpened(
  child: ChildProcess,
  stream: NodeJS.ReadableStream,
  started: number,
): Promise<{ localPort: number; readyMs: number }> {
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`forwarder exited with ${code} before listening`);
  });
  const m = await Promise.race([waitForOutput(stream, /Port (\d+) opened/, 30_000), exited]);
  exited.catch(() => {});
  return { localPort: Number(m[1]), readyMs: performance.now() - started };
}

/** Ours: the built CLI, as `node dist/aws-runas.js ssm ...` (node flags such as --cpu-prof go first). */
export const ours: Tool = {
  name: "aws-runas",
  async forward(emulator, remotePort, nodeArgs = []) {
    const started = performance.now();
    const child = spawnNode(
      [...nodeArgs, CLI, "ssm", "forward", PROFILE, `${MUX_INSTANCE}:${remotePort}`],
      emulator.env,
    );
    try {
      return { child, ...(await untilPortOpened(child, child.stderr!, started)) };
    } catch (error) {
      await stopChild(child);
      throw error;
    }
  },
  ssh(emulator, remotePort) {
    return spawnNode([CLI, "ssm", "ssh", PROFILE, `ec2-user@${MUX_INSTANCE}:${remotePort}`], emulator.env);
  },
  shell(emulator) {
    return spawnNode([CLI, "ssm", "shell", PROFILE, MUX_INSTANCE], emulator.env);
  },
};

function startSessionArgs(emulator: EmulatorProcess, document?: string, parameters?: object): string[] {
  const args = [
    "ssm",
    "start-session",
    "--profile",
    PROFILE,
    "--region",
    emulator.exports.AWS_REGION ?? "us-east-1",
    "--endpoint-url",
    emulator.exports.AWS_ENDPOINT_URL ?? "",
    "--target",
    MUX_INSTANCE,
  ];
  if (document) args.push("--document-name", document);
  if (parameters) args.push("--parameters", JSON.stringify(parameters));
  return args;
}

/** Theirs: `aws ssm start-session`, which runs `session-manager-plugin` for the data channel. */
export const official: Tool = {
  name: "session-manager-plugin",
  async forward(emulator, remotePort) {
    const localPort = await freePort();
    const started = performance.now();
    const child = spawn(
      "aws",
      startSessionArgs(emulator, "AWS-StartPortForwardingSession", {
        portNumber: [String(remotePort)],
        localPortNumber: [String(localPort)],
      }),
      { env: emulator.env, stdio: ["pipe", "pipe", "pipe"] },
    );
    try {
      // The plugin prints its status lines on stdout.
      return { child, ...(await untilPortOpened(child, child.stdout!, started)) };
    } catch (error) {
      await stopChild(child);
      throw error;
    }
  },
  ssh(emulator, remotePort) {
    return spawn(
      "aws",
      startSessionArgs(emulator, "AWS-StartSSHSession", { portNumber: [String(remotePort)] }),
      { env: emulator.env, stdio: ["pipe", "pipe", "pipe"] },
    );
  },
  shell(emulator) {
    return spawn("aws", startSessionArgs(emulator), { env: emulator.env, stdio: ["pipe", "pipe", "pipe"] });
  },
};

/**
 * Stops a child: `signal` first (SIGINT lets ours end its session and write a --cpu-prof
 * profile), SIGKILL if it is still there after `graceMs`. Resolves once it has exited.
 */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGINT", graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
