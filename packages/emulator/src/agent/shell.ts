/**
 * The Standard_Stream and InteractiveCommands plugins (ssm-protocol.md §6.1): a shell, or one
 * command, in a real pty. Client Output bytes go to the pty; pty output goes back as Output
 * messages cut at ≤1024 bytes on UTF-8 boundaries; Size messages resize the pty. When the process
 * exits the session finishes (the host flushes and sends channel_closed).
 */
import { homedir } from "node:os";
import type { IPty } from "node-pty";
import type { Delivery } from "./channel/channel.js";
import { DRAIN_RELEASE, DrainMarkerScanner } from "./drain-marker.js";
import { AgentError } from "./errors.js";
import { SourcePump } from "./flow.js";
import type { PluginHost, SessionPlugin } from "./plugin.js";
import type { ShellLaunch } from "./shell-command.js";

/** Loaded on first use so the emulator's other parts work where the native module is missing. */
type NodePty = typeof import("node-pty");
let nodePty: Promise<NodePty> | undefined;
function loadNodePty(): Promise<NodePty> {
  nodePty ??= import("node-pty");
  return nodePty;
}

/** The pty's size until the client's first Size message. */
const DEFAULT_COLS = 80;
const DEFAULT_ROWS = 24;

export class ShellPlugin implements SessionPlugin {
  readonly #host: PluginHost;
  readonly #pump: SourcePump;
  #pty: IPty | null = null;
  #pendingSize: { cols: number; rows: number } | null = null;
  #stopped = false;

  private constructor(host: PluginHost) {
    this.#host = host;
    this.#pump = new SourcePump({
      gate: host.gate,
      pacing: host.pacing,
      send: (chunk) => host.sendOutput(chunk),
      utf8: true,
      clock: host.clock,
    });
  }

  /** Starts the process in a pty; input before it runs is answered "not-ready". */
  static start(host: PluginHost, launch: ShellLaunch): ShellPlugin {
    const plugin = new ShellPlugin(host);
    loadNodePty().then(
      (pty) => plugin.#spawn(pty, launch),
      (error: unknown) =>
        host.fail(new AgentError("AGENT_SHELL", "the emulated instance cannot start a terminal", error)),
    );
    return plugin;
  }

  input(data: Buffer): Delivery {
    if (this.#stopped) return "ok";
    if (!this.#pty) return "not-ready"; // the agent answers ErrHandlerNotReady until the pty exists
    this.#pty.write(Buffer.from(data));
    return "ok";
  }

  resize(cols: number, rows: number): void {
    if (cols < 1 || rows < 1 || this.#stopped) return;
    if (!this.#pty) {
      this.#pendingSize = { cols, rows };
      return;
    }
    try {
      this.#pty.resize(cols, rows);
    } catch (error) {
      this.#host.logger.debug(`pty resize failed: ${(error as Error).message}`);
    }
  }

  flag(): void {
    // Shell plugins ignore Flag messages (§4.6).
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#pump.close();
    const pty = this.#pty;
    this.#pty = null;
    if (!pty) return;
    try {
      // Closing the master hangs up the whole terminal (the shell, its jobs); kill() alone would
      // reach only the wrapper process. `destroy` exists on Unix but is missing from the typings.
      const closable = pty as IPty & { destroy?: () => void };
      if (closable.destroy) closable.destroy();
      else pty.kill();
    } catch {
      // Already gone.
    }
  }

  #spawn(nodePty: NodePty, launch: ShellLaunch): void {
    if (this.#stopped) return;
    let pty: IPty;
    try {
      pty = nodePty.spawn(launch.file, launch.args, {
        name: "xterm-256color",
        cols: this.#pendingSize?.cols ?? DEFAULT_COLS,
        rows: this.#pendingSize?.rows ?? DEFAULT_ROWS,
        cwd: homedir(),
        env: launch.env,
        // Raw bytes: the pump cuts at UTF-8 boundaries itself.
        encoding: null,
      });
    } catch (error) {
      this.#host.fail(new AgentError("AGENT_SHELL", `cannot start ${launch.file}`, error));
      return;
    }
    this.#pty = pty;
    this.#pump.bind(pty);
    const scanner = new DrainMarkerScanner();
    // With `encoding: null` node-pty hands out Buffers despite its string typing.
    pty.onData((raw: string | Buffer) => {
      const { data, found } = scanner.push(typeof raw === "string" ? Buffer.from(raw) : raw);
      this.#pump.push(data);
      // Every byte before the marker has been read: let the wrapper exit (see drain-marker.ts).
      if (found && !this.#stopped) pty.write(DRAIN_RELEASE);
    });
    pty.onExit(({ exitCode }) => {
      this.#host.logger.debug(`pty process exited with code ${exitCode}`);
      if (this.#stopped) return;
      this.#pump.push(scanner.flush());
      void this.#pump.whenIdle().then(() => {
        if (!this.#stopped) this.#host.finish();
      });
    });
  }
}
