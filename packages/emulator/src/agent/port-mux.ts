/**
 * Mux port forwarding (ssm-protocol.md §7.3): the Output payloads in both directions form one byte
 * stream carrying smux v1, with the agent as the smux server. Every stream the client opens gets
 * its own connection to the target; a failed dial answers Flag ConnectToPortError and closes the
 * stream.
 *
 * ```
 *  client Output payloads ──► SmuxServer (the agent's own, ./smux) ──"stream"──► dial target
 *  client ◄── Output ≤1024 ◄── SourcePump ◄── smux frames ◄── stream ◄── target bytes
 * ```
 */
import { connect, type Socket } from "node:net";
import { FlagValue } from "@aws-runas/wire/protocol/index.js";
import type { Delivery } from "./channel/channel.js";
import { SourcePump } from "./flow.js";
import type { PluginHost, SessionPlugin } from "./plugin.js";
import { dialErrorMessage, type PortTarget } from "./port-target.js";
import { SmuxServer } from "./smux/server.js";
import type { SmuxServerStream } from "./smux/stream.js";

export class MuxPortPlugin implements SessionPlugin {
  readonly #host: PluginHost;
  readonly #target: PortTarget;
  readonly #pump: SourcePump;
  readonly #mux: SmuxServer;
  readonly #sockets = new Set<Socket>();
  #stopped = false;

  private constructor(host: PluginHost, target: PortTarget, keepAlive: boolean) {
    this.#host = host;
    this.#target = target;
    const pump = new SourcePump({
      gate: host.gate,
      pacing: host.pacing,
      send: (chunk) => host.sendOutput(chunk),
      clock: host.clock,
    });
    this.#pump = pump;
    // smux frames are one byte stream toward the client, cut into 1 KiB Output payloads by the pump.
    this.#mux = new SmuxServer(
      {
        write: (bytes) => {
          pump.push(bytes);
          return pump.idle;
        },
        whenReady: () => pump.whenIdle(),
      },
      { keepAlive, clock: host.clock },
    );
    this.#mux.onTokens = () => host.retryInput();
    this.#mux.on("stream", (stream) => this.#onStream(stream));
    this.#mux.on("close", (error) => {
      if (error) host.logger.debug(`smux session failed: ${error.message}`);
      // smux ended (keepalive timeout, protocol error): the agent's plugin ends with it.
      if (!this.#stopped) host.finish();
    });
  }

  /** Starts the smux server; keepalive follows the agent's client-version rule (§7.3). */
  static start(host: PluginHost, target: PortTarget, keepAlive: boolean): MuxPortPlugin {
    return new MuxPortPlugin(host, target, keepAlive);
  }

  input(data: Buffer): Delivery {
    if (this.#stopped) return "ok";
    return this.#mux.receive(data);
  }

  resize(): void {
    // Size messages mean nothing to a port session.
  }

  flag(): void {
    // DisconnectToPort is ignored in mux mode; TerminateSession is the session's business.
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    this.#mux.close();
    this.#pump.close();
  }

  #onStream(stream: SmuxServerStream): void {
    const unreachable = this.#target.unreachable;
    if (unreachable !== undefined) {
      // As the agent: the flag first, then the stream's FIN (both in the order they were sent).
      this.#host.logger.debug(`smux stream ${stream.id}: ${unreachable}`);
      if (!this.#stopped) this.#host.sendFlag(FlagValue.connectToPortError);
      stream.on("error", () => {});
      stream.destroy();
      return;
    }
    const socket = connect({ host: this.#target.host, port: this.#target.port });
    this.#sockets.add(socket);
    let connected = false;
    stream.on("error", () => socket.destroy());
    socket.on("connect", () => {
      connected = true;
      // Both directions with Node's back-pressure; each side's end becomes the other's FIN / EOF.
      stream.pipe(socket);
      socket.pipe(stream);
    });
    socket.on("error", (error: Error & { code?: string }) => {
      if (connected) {
        stream.destroy();
        return;
      }
      this.#host.logger.debug(`smux stream ${stream.id}: ${dialErrorMessage(this.#target, error)}`);
      if (!this.#stopped) this.#host.sendFlag(FlagValue.connectToPortError);
      stream.destroy();
    });
    socket.on("close", () => {
      this.#sockets.delete(socket);
      if (!stream.destroyed && !stream.writableEnded) stream.end();
    });
    stream.on("close", () => {
      if (!socket.destroyed) socket.end();
    });
  }
}
