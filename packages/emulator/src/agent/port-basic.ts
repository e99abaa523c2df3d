/**
 * Basic port forwarding (ssm-protocol.md §7.2): one TCP connection to the target, dialled at
 * session start; Output payloads are written to it and its bytes come back as Output messages.
 *
 * Like the agent it reads the target 1 KiB at a time (one read, one Output) and sends every read
 * it made, also the last one before a DisconnectToPort closes the connection.
 *
 * ```
 *  connected ──Flag DisconnectToPort──► disconnected ──next Output──► (re-dial) connected
 *      │  target EOF: LocalPortForwarding → disconnected (re-dial on next Output)
 *      └─────────────  other types (SSH)  → the session finishes
 * ```
 */
import { connect, type Socket } from "node:net";
import { FlagValue } from "@aws-runas/wire/protocol/index.js";
import type { Delivery } from "./channel/channel.js";
import { AGENT_CHUNK_SIZE } from "./chunks.js";
import { AgentError } from "./errors.js";
import { SourcePump } from "./flow.js";
import type { PluginHost, SessionPlugin } from "./plugin.js";
import { dialErrorMessage, type PortTarget } from "./port-target.js";

/** Bytes queued toward the target above which client input is answered "not-ready" (it resends). */
const TARGET_WRITE_HIGH_WATER = 1024 * 1024;

interface Connection {
  socket: Socket;
  pump: SourcePump;
  connected: boolean;
}

export class BasicPortPlugin implements SessionPlugin {
  readonly #host: PluginHost;
  readonly #target: PortTarget;
  /** `type: LocalPortForwarding`: a target EOF only drops the connection; else it ends the session. */
  readonly #localForwarding: boolean;
  #conn: Connection | null = null;
  #stopped = false;
  #finishing = false;

  private constructor(host: PluginHost, target: PortTarget, localForwarding: boolean) {
    this.#host = host;
    this.#target = target;
    this.#localForwarding = localForwarding;
  }

  /** Dials the target right away, as the agent does when the session starts. */
  static start(host: PluginHost, target: PortTarget, localForwarding: boolean): BasicPortPlugin {
    if (target.unreachable !== undefined) {
      // The agent's start-time dial failed: the session ends with its message.
      throw new AgentError("AGENT_PORT", `Unable to connect to specified port: ${target.unreachable}`);
    }
    const plugin = new BasicPortPlugin(host, target, localForwarding);
    plugin.#dial();
    return plugin;
  }

  input(data: Buffer): Delivery {
    if (this.#stopped || this.#finishing) return "ok";
    const conn = this.#conn ?? this.#dial();
    if (conn.socket.writableLength >= TARGET_WRITE_HIGH_WATER) return "not-ready";
    conn.socket.write(Buffer.from(data));
    return "ok";
  }

  resize(): void {
    // Size messages mean nothing to a port session.
  }

  flag(flag: number): void {
    if (flag !== FlagValue.disconnectToPort) return;
    // The client's local connection ended: drop ours; the next Output dials again.
    const conn = this.#conn;
    this.#conn = null;
    if (conn) {
      conn.pump.flush();
      this.#discard(conn);
    }
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const conn = this.#conn;
    this.#conn = null;
    if (conn) this.#discard(conn);
  }

  #dial(): Connection {
    const pump = new SourcePump({
      gate: this.#host.gate,
      pacing: this.#host.pacing,
      send: (chunk) => this.#host.sendOutput(chunk),
      clock: this.#host.clock,
    });
    const socket = connect({
      host: this.#target.host,
      port: this.#target.port,
      // The agent's read loop: 1 KiB reads into one buffer (copied: the pump may queue a read).
      onread: {
        buffer: Buffer.alloc(AGENT_CHUNK_SIZE),
        callback: (length, buffer) => {
          pump.push(Buffer.from(buffer.subarray(0, length)));
          return true;
        },
      },
    });
    const conn: Connection = { socket, pump, connected: false };
    this.#conn = conn;
    pump.bind(socket);
    socket.on("connect", () => {
      conn.connected = true;
      this.#host.logger.debug(`port session connected to ${this.#target.requested}`);
    });
    socket.on("error", (error: Error & { code?: string }) => {
      if (conn.connected) {
        this.#host.logger.debug(`port target connection failed: ${error.message}`);
        return;
      }
      if (this.#conn !== conn || this.#stopped) return;
      this.#host.fail(
        new AgentError("AGENT_PORT", `Unable to start port, ${dialErrorMessage(this.#target, error)}`),
      );
    });
    socket.on("close", () => this.#onTargetClosed(conn));
    return conn;
  }

  #onTargetClosed(conn: Connection): void {
    if (this.#conn !== conn || this.#stopped || !conn.connected) return;
    this.#conn = null;
    // Whatever was read before EOF still goes to the client.
    void conn.pump.whenIdle().then(() => {
      conn.pump.close();
      if (this.#localForwarding || this.#stopped) return;
      this.#finishing = true;
      this.#host.finish(); // SSH-style sessions end when the target closes (§7.2)
    });
  }

  #discard(conn: Connection): void {
    conn.pump.close();
    conn.socket.on("error", () => {});
    conn.socket.destroy();
  }
}
