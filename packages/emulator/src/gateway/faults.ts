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

import { Layout, MessageType } from "@aws-runas/wire/protocol/index.js";
import type { FaultConfig } from "../program/options.js";
import type { TimerClock, TimerHandle } from "../world/clock.js";
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

const INPUT_TYPE = Buffer.alloc(Layout.messageTypeLength, 0x20);
INPUT_TYPE.write(MessageType.inputStreamData, 0, "latin1");

/** Sequence number of an input_stream_data frame (client data), or undefined for anything else. */
export function inputSequence(frame: Buffer): number | undefined {
  if (frame.length < Layout.fixedSize) return undefined;
  const type = frame.subarray(Layout.messageTypeOffset, Layout.messageTypeOffset + Layout.messageTypeLength);
  if (!type.equals(INPUT_TYPE)) return undefined;
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
    config.corruptDigest !== undefined ||
    config.recycleWebsocketEverySeconds !== undefined
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
  /** Frames handed to the websocket. */
  written: number;
  /** Of those, frames that count toward drop-websocket-after (all but retransmitted output). */
  counted: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  dropped: boolean;
}

/** One frame on its way through the stages. */
interface Outgoing {
  frame: Buffer;
  /** Counts toward drop-websocket-after: retransmissions do not, or resending everything on each
   * reconnect could use up every connection's budget and no ack would ever get through. */
  counts: boolean;
  done?: () => void;
}

interface Delayed extends Outgoing {
  due: number;
}

/** Applies the faults to one client connection. */
export class FaultShaper {
  readonly #session: SessionFaults;
  readonly #outlet: FaultOutlet;
  readonly #clock: TimerClock;
  readonly #delayed: Delayed[] = [];
  #delayTimer: TimerHandle | null = null;
  #held: Outgoing | null = null;
  #holdTimer: TimerHandle | null = null;
  #closed = false;
  readonly #stats: FaultStats = {
    written: 0,
    counted: 0,
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    dropped: false,
  };

  constructor(session: SessionFaults, outlet: FaultOutlet, clock: TimerClock) {
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
    const fresh = seq === undefined || seq > this.#session.highestOutputSeq;
    if (seq !== undefined && fresh) {
      this.#session.highestOutputSeq = seq;
      this.#session.newOutputFrames++;
      const every = config.corruptDigest;
      if (every !== undefined && this.#session.newOutputFrames % every === 0) {
        out = withCorruptDigest(frame);
        this.#stats.corrupted++;
      }
    }
    const twice = chance(this.#session.random, config.duplicatePercent);
    this.#reorderStage({ frame: out, counts: fresh });
    if (twice) {
      this.#stats.duplicated++;
      this.#reorderStage({ frame: out, counts: false });
    }
  }

  /** A gateway message (channel_closed): not disturbed, but kept behind everything sent before it. */
  sendControl(frame: Buffer, done?: () => void): void {
    if (this.#closed) return;
    this.#releaseHeld();
    this.#delayStage({ frame, counts: false, done });
  }

  /** Stops timers and forgets queued frames (the connection is gone). Idempotent. */
  close(): void {
    this.#closed = true;
    this.#delayTimer?.cancel();
    this.#holdTimer?.cancel();
    this.#delayed.length = 0;
    this.#held = null;
  }

  #reorderStage(item: Outgoing): void {
    if (this.#held) {
      const held = this.#held;
      this.#held = null;
      this.#holdTimer?.cancel();
      this.#delayStage(item);
      this.#delayStage(held);
      return;
    }
    if (chance(this.#session.random, this.#session.config.reorderPercent)) {
      this.#stats.reordered++;
      this.#held = item;
      this.#holdTimer = this.#clock.after(REORDER_HOLD_MS, () => this.#releaseHeld());
      return;
    }
    this.#delayStage(item);
  }

  #releaseHeld(): void {
    const held = this.#held;
    this.#held = null;
    this.#holdTimer?.cancel();
    if (held && !this.#closed) this.#delayStage(held);
  }

  #delayStage(item: Outgoing): void {
    const delay = this.#session.config.delayMs;
    if (delay <= 0) {
      this.#write(item);
      return;
    }
    this.#delayed.push({ ...item, due: this.#clock.now() + delay });
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
        this.#write(this.#delayed.shift()!);
      }
      this.#scheduleDelayed();
    });
  }

  #write(item: Outgoing): void {
    if (this.#closed || this.#stats.dropped) return;
    this.#stats.written++;
    if (item.counts) this.#stats.counted++;
    const limit = this.#session.config.dropWebsocketAfter;
    if (limit !== undefined && item.counts && this.#stats.counted >= limit) {
      // The Nth frame goes out, then the socket dies; the client has to resume.
      this.#stats.dropped = true;
      this.#outlet.write(item.frame, () => {
        item.done?.();
        this.#outlet.drop();
      });
      return;
    }
    this.#outlet.write(item.frame, item.done);
  }
}
