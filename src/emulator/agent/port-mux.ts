/**
 * Mux port forwarding (ssm-protocol.md §7.3): the Output payloads in both directions form one byte
 * stream carrying smux v1, with the agent as the smux server. Every stream the client opens gets
 * its own connection to the target; a failed dial answers Flag ConnectToPortError and closes the
 * stream.
 *
 * ```
 *  client Output payloads ──► ChannelTransport (Duplex) ──► MuxSession (server) ──"stream"──► dial target
 *  client ◄── Output ≤1024 ◄── SourcePump ◄── transport writes ◄── smux frames ◄── stream ◄── target bytes
 * ```
 */
import { connect, type Socket } from "node:net";
import { Duplex } from "node:stream";
import type { Delivery } from "../../datachannel/endpoint.js";
import { MuxSession } from "../../mux/session.js";
import type { MuxStream } from "../../mux/stream.js";
import { FlagValue } from "../../protocol/index.js";
import { SourcePump } from "./flow.js";
import type { PluginHost, SessionPlugin } from "./plugin.js";
import { dialErrorMessage, type PortTarget } from "./port-target.js";

/** Unread client bytes above which input is answered "not-ready" (the client resends later). */
const TRANSPORT_READ_HIGH_WATER = 1024 * 1024;

/**
 * The smux session's transport: writes become Output messages through a pump (so the agent's
 * 1 KiB / pacing / gate rules apply), and client payloads are pushed as readable data.
 */
class ChannelTransport extends Duplex {
  readonly #pump: SourcePump;

  constructor(pump: SourcePump) {
    super({ allowHalfOpen: true, readableHighWaterMark: 256 * 1024, writableHighWaterMark: 64 * 1024 });
    this.#pump = pump;
  }

  /** A client Output payload; "not-ready" while the smux side has too much unread. */
  deliver(data: Buffer): Delivery {
    if (this.destroyed || this.readableEnded) return "ok";
    if (this.readableLength >= TRANSPORT_READ_HIGH_WATER) return "not-ready";
    this.push(Buffer.from(data));
    return "ok";
  }

  override _read(): void {
    // Data is pushed as messages arrive; deliver() applies the limit.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#pump.push(chunk);
    // Hold the writer (smux) while the channel cannot take more: that is the back-pressure.
    if (this.#pump.idle) callback();
    else void this.#pump.whenIdle().then(() => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#pump.close();
    callback(error);
  }
}

export class MuxPortPlugin implements SessionPlugin {
  readonly #host: PluginHost;
  readonly #target: PortTarget;
  readonly #transport: ChannelTransport;
  readonly #mux: MuxSession;
  readonly #sockets = new Set<Socket>();
  #stopped = false;

  private constructor(host: PluginHost, target: PortTarget, keepAlive: boolean) {
    this.#host = host;
    this.#target = target;
    const pump = new SourcePump({
      gate: host.gate,
      pacing: host.pacing,
      send: (chunk) => host.sendOutput(chunk),
    });
    this.#transport = new ChannelTransport(pump);
    this.#mux = new MuxSession(this.#transport, { client: false, keepAlive, logger: host.logger });
    this.#mux.on("stream", (stream) => this.#onStream(stream));
    this.#mux.on("error", (error) => host.logger.debug(`smux session failed: ${error.message}`));
    this.#mux.on("close", () => {
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
    return this.#transport.deliver(data);
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
    this.#transport.destroy();
  }

  #onStream(stream: MuxStream): void {
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
