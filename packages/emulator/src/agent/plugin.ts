/**
 * The contract between an agent session and its session plugin (shell, command, port).
 */
import type { Logger } from "@aws-runas/wire/log.js";
import type { Pacing } from "../program/options.js";
import type { TimerClock } from "../world/clock.js";
import type { Delivery } from "./channel/channel.js";
import type { OutputGate } from "./flow.js";

/** What the session gives its plugin. */
export interface PluginHost {
  /** Open while the channel takes more data (client attached, endpoint not congested). */
  readonly gate: OutputGate;
  readonly pacing: Pacing;
  readonly logger: Logger;
  /** The agent's timers (smux keepalive). */
  readonly clock: TimerClock;
  /** Sends an Output (pt 1) payload of at most 1024 bytes, encrypted when the session is. */
  sendOutput(data: Buffer): void;
  /** Sends an Output, StdErr or ExitCode payload (pt 1, 11, 12), encrypted when the session is. */
  sendStream(payloadType: number, data: Buffer): void;
  /** Sends a Flag (pt 10) message, e.g. ConnectToPortError. */
  sendFlag(flag: number): void;
  /** The plugin answered "not-ready" before and can take input again: deliver what is held. */
  retryInput(): void;
  /** The plugin is done (shell exited, SSH target closed): flush, then channel_closed. */
  finish(output?: string): void;
  /** The plugin failed: channel_closed carrying the error's message. */
  fail(error: Error): void;
}

/** One running session plugin. */
export interface SessionPlugin {
  /** Output bytes from the client, already decrypted. "not-ready" withholds the ack. */
  input(data: Buffer): Delivery;
  /** A Size message (pt 3). */
  resize(cols: number, rows: number): void;
  /** A Flag message (pt 10) other than TerminateSession, which the session handles. */
  flag(flag: number): void;
  /** Kills processes and closes connections. Idempotent. */
  stop(): void;
}
