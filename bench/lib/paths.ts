/**
 * The ways bytes can reach the bench service, each behind the same {@link Connector}: through a
 * tool's forwarder (ours, or the official plugin), through the in-process ceiling client, or
 * straight over loopback. A path that wedges can be restarted with `recover()`.
 */
import type { EmulatorProcess } from "../../test/e2e/helpers/harness.js";
import { startCeilingSession } from "./ceiling.js";
import { findDescendant } from "./procstat.js";
import { type Connector, tcp } from "./service.js";
import { type RunningForward, stopChild, type Tool } from "./tools.js";

export interface DataPath {
  /** For the table: "aws-runas", "direct loopback", ... */
  label: string;
  connector: Connector;
  /** Restarts the path after a stall (a wedged session never recovers by itself). */
  recover(): Promise<void>;
  /** The process whose resources are measured (the forwarder), when there is one. */
  pid(): number | undefined;
  close(): Promise<void>;
}

/** Straight to the service: the limit of this machine's loopback between the same endpoints. */
export function loopbackPath(servicePort: number): DataPath {
  return {
    label: "direct loopback",
    connector: tcp(servicePort),
    recover: async () => {},
    pid: () => undefined,
    close: async () => {},
  };
}

/** A tool's `forward` to the service port; node flags (e.g. --cpu-prof) go to ours only. */
export async function forwardPath(
  tool: Tool,
  emulator: EmulatorProcess,
  servicePort: number,
  nodeArgs: readonly string[] = [],
): Promise<DataPath & { forward(): RunningForward }> {
  let running = await tool.forward(emulator, servicePort, nodeArgs);
  const stop = () => stopChild(running.child, tool.name === "aws-runas" ? "SIGINT" : "SIGTERM");
  return {
    label: tool.name,
    connector: () => tcp(running.localPort)(),
    async recover() {
      await stop();
      running = await tool.forward(emulator, servicePort, nodeArgs);
    },
    pid() {
      const pid = running.child.pid;
      if (pid === undefined || tool.name === "aws-runas") return pid;
      // `aws` runs the plugin as a child: measure the plugin, which carries the data.
      return findDescendant(pid, "session-manager-plugin");
    },
    forward: () => running,
    close: stop,
  };
}

/** The emulator's ceiling: our data channel and smux driven in-process, no CLI, no local socket. */
export async function ceilingPath(emulator: EmulatorProcess, servicePort: number): Promise<DataPath> {
  let session = await startCeilingSession(emulator, servicePort);
  return {
    label: "emulator ceiling (in-process client)",
    connector: () => session.connector(),
    async recover() {
      session.close();
      session = await startCeilingSession(emulator, servicePort);
    },
    pid: () => undefined,
    close: async () => session.close(),
  };
}
