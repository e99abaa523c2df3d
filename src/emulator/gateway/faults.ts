/**
 * Fault injection on the frames the gateway sends to the client (`--fault`, design.md "The
 * emulator contract"), for the data channel's reliability tests:
 *
 * ```
 *  agent frame ─► corrupt-digest ─► duplicate ─► reorder ─► delay ─► websocket ─► drop after N
 *                 (every Nth new     (P%: twice)  (P%: held   (MS, order  (per connection: the
 *                  output seq)                     behind the  kept)       socket is killed
 *                                                  next frame)             after N frames)
 * ```
 * Decisions come from a seeded generator per session, so runs are reproducible. Frames are never
 * mutated in place: the endpoint keeps them for retransmission, so a corrupted frame is a copy.
 */
import type { Clock, TimerHandle } from "../../datachannel/clock.js";
import { Layout, MessageType } from "../../protocol/index.js";
import type { FaultConfig } from "../options.js";
import { chance, type Random, seededRandom } from "./random.js";

/** How long a frame held for reordering waits for a successor before it goes out anyway. */
export const REORDER_HOLD_MS = 50;

const OUTPUT_TYPE = Buffer.alloc(Layout.messageTypeLength, 0x20);
OUTPUT_TYPE.write(MessageType.outputStreamData, 0, "latin1");

/** Sequence number of an output_stream_data frame, or undefined for anything else. */
export function outputSequence(frame: Buffer): number | undefined {
  if (frame.length < Layout.fixedSize) return undefined;
  const type = frame.subarray(Layout.messageTypeOffset, Layout.messageTypeOffset + Layout.messageTypeLength);
  if (!type.equals(OUTPUT_TYPE)) return undefined;
  return Number(frame.readBigInt64BE(Layout.sequenceNumberOffset));
}

/** A copy of `frame` with one PayloadDigest byte flipped. */
export function withCorruptDigest(frame: Buffer): Buffer {
  const copy = Buffer.from(frame);
  copy[Layout.payloadDigestOffset] = (copy[Layout.payloadDigestOffset] ?? 0) ^ 0xff;
  return copy;
}

/** True when the configuration disturbs frames toward the client at all. */
export function hasChannelFaults(config: FaultConfig): boolean {
  return (
    config.dropWebsocketAfter !== undefined ||
    config.duplicatePercent > 0 ||
    config.reorderPercent > 0 ||
    config.delayMs > 0 ||
    config.corruptDigest !== undefined
  );
}

/** Fault state that lives as long as the session, across reconnects. */
export class SessionFaults {
  readonly config: FaultConfig;
  readonly random: Random;
  /** Highest output seq seen: lower ones are retransmissions, never corrupted again. */
  highestOutputSeq = -1;
  /** New output frames seen, for corrupt-digest's "every Nth". */
  newOutputFrames = 0;

  constructor(config: FaultConfig, seed: number) {
    this.config = config;
    this.random = seededRandom(seed);
  }
}

/** Where shaped frames go: the client's websocket. */
export interface FaultOutlet {
  /** Sends one frame; `done` runs once it was handed to the socket. */
  write(frame: Buffer, done?: () => void): void;
  /** Kills the connection abruptly (no close frame). */
  drop(): void;
}

/** What happened on one connection, for logs and tests. */
export interface FaultStats {
  written: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  dropped: boolean;
}

interface Delayed {
  frame: Buffer;
  due: number;
  done: (() => void) | undefined;
}

/** Applies the faults to one client connection. */
export class FaultShaper {
  readonly #session: SessionFaults;
  readonly #outlet: FaultOutlet;
  readonly #clock: Clock;
  readonly #delayed: Delayed[] = [];
  #delayTimer: TimerHandle | null = null;
  #held: Buffer | null = null;
  #holdTimer: TimerHandle | null = null;
  #closed = false;
  readonly #stats: FaultStats = { written: 0, duplicated: 0, reordered: 0, corrupted: 0, dropped: false };

  constructor(session: SessionFaults, outlet: FaultOutlet, clock: Clock) {
    this.#session = session;
    this.#outlet = outlet;
    this.#clock = clock;
  }

  stats(): FaultStats {
    return { ...this.#stats };
  }

  /** A stream message or ack from the agent. */
  send(frame: Buffer): void {
    if (this.#closed) return;
    const config = this.#session.config;
    let out = frame;
    const seq = outputSequence(frame);
    if (seq !== undefined && seq > this.#session.highestOutputSeq) {
      this.#session.highestOutputSeq = seq;
      this.#session.newOutputFrames++;
      const every = config.corruptDigest;
      if (every !== undefined && this.#session.newOutputFrames % every === 0) {
        out = withCorruptDigest(frame);
        this.#stats.corrupted++;
      }
    }
    const twice = chance(this.#session.random, config.duplicatePercent);
    this.#reorderStage(out);
    if (twice) {
      this.#stats.duplicated++;
      this.#reorderStage(out);
    }
  }

  /** A gateway message (channel_closed): not disturbed, but kept behind everything sent before it. */
  sendControl(frame: Buffer, done?: () => void): void {
    if (this.#closed) return;
    this.#releaseHeld();
    this.#delayStage(frame, done);
  }

  /** Stops timers and forgets queued frames (the connection is gone). Idempotent. */
  close(): void {
    this.#closed = true;
    this.#delayTimer?.cancel();
    this.#holdTimer?.cancel();
    this.#delayed.length = 0;
    this.#held = null;
  }

  #reorderStage(frame: Buffer): void {
    if (this.#held) {
      const held = this.#held;
      this.#held = null;
      this.#holdTimer?.cancel();
      this.#delayStage(frame);
      this.#delayStage(held);
      return;
    }
    if (chance(this.#session.random, this.#session.config.reorderPercent)) {
      this.#stats.reordered++;
      this.#held = frame;
      this.#holdTimer = this.#clock.after(REORDER_HOLD_MS, () => this.#releaseHeld());
      return;
    }
    this.#delayStage(frame);
  }

  #releaseHeld(): void {
    const held = this.#held;
    this.#held = null;
    this.#holdTimer?.cancel();
    if (held && !this.#closed) this.#delayStage(held);
  }

  #delayStage(frame: Buffer, done?: () => void): void {
    const delay = this.#session.config.delayMs;
    if (delay <= 0) {
      this.#write(frame, done);
      return;
    }
    this.#delayed.push({ frame, due: this.#clock.now() + delay, done });
    this.#scheduleDelayed();
  }

  #scheduleDelayed(): void {
    if (this.#delayTimer || this.#closed) return;
    const head = this.#delayed[0];
    if (!head) return;
    this.#delayTimer = this.#clock.after(Math.max(0, head.due - this.#clock.now()), () => {
      this.#delayTimer = null;
      const now = this.#clock.now();
      while (!this.#closed && this.#delayed.length > 0 && this.#delayed[0]!.due <= now) {
        const next = this.#delayed.shift()!;
        this.#write(next.frame, next.done);
      }
      this.#scheduleDelayed();
    });
  }

  #write(frame: Buffer, done?: () => void): void {
    if (this.#closed || this.#stats.dropped) return;
    this.#stats.written++;
    const limit = this.#session.config.dropWebsocketAfter;
    if (limit !== undefined && this.#stats.written >= limit) {
      // The Nth frame goes out, then the socket dies; the client has to resume.
      this.#stats.dropped = true;
      this.#outlet.write(frame, () => {
        done?.();
        this.#outlet.drop();
      });
      return;
    }
    this.#outlet.write(frame, done);
  }
}
