/**
 * Every bound of the data channel in one place (ssm-protocol.md §5.2), with a checker whose
 * messages name the bound.
 */
import { RunasError } from "@aws-runas/wire/errors.js";

export interface ChannelLimits {
  /** Largest payload we put in one stream message (the service's reads are 1024 bytes). */
  maxPayload: number;
  /** Unacked outgoing bytes above which writers are held (back-pressure, never eviction). */
  outgoingHighWaterBytes: number;
  /** Unacked outgoing messages above which writers are held. */
  outgoingHighWaterMessages: number;
  /** Out-of-order messages kept for later delivery; more are dropped unacked (the peer resends). */
  reorderBufferEntries: number;
  /** Retransmissions of one message before the channel gives up (plugin: 3000 ≈ 5 min). */
  maxRetransmissions: number;
  /** A message unacknowledged this long ends the channel (the plugin's 3000 × 100 ms). */
  giveUpAfterMs: number;
  /** Timed-out messages resent per scheduler tick at most. */
  maxResendsPerTick: number;
  /** Messages resent at once after a reconnect; one more goes out per ack. */
  resumeWindow: number;
  /** Retransmission scheduler tick (§5.2). */
  resendTickMs: number;
  initialRtoMs: number;
  maxRtoMs: number;
  /** Websocket ping interval; the plugin uses 5 minutes. */
  pingIntervalMs: number;
}

export const DEFAULT_LIMITS: ChannelLimits = {
  maxPayload: 1024,
  outgoingHighWaterBytes: 4 * 1024 * 1024,
  outgoingHighWaterMessages: 8192,
  reorderBufferEntries: 10_000,
  maxRetransmissions: 3000,
  giveUpAfterMs: 5 * 60 * 1000,
  maxResendsPerTick: 16,
  resumeWindow: 128,
  resendTickMs: 100,
  initialRtoMs: 200,
  maxRtoMs: 1000,
  pingIntervalMs: 5 * 60 * 1000,
};

/** Merges overrides onto the defaults and rejects values outside their bounds. */
export function verifyLimits(overrides: Partial<ChannelLimits> = {}): ChannelLimits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  const check = (ok: boolean, message: string) => {
    if (!ok) throw new RunasError("CHANNEL_BAD_OPTION", message);
  };
  check(
    limits.maxPayload >= 1 && limits.maxPayload <= 1024 * 1024,
    "maxPayload must be between 1 B and 1 MiB",
  );
  check(limits.outgoingHighWaterBytes >= limits.maxPayload, "outgoingHighWaterBytes must be >= maxPayload");
  check(limits.outgoingHighWaterMessages >= 1, "outgoingHighWaterMessages must be >= 1");
  check(limits.reorderBufferEntries >= 1, "reorderBufferEntries must be >= 1");
  check(limits.maxRetransmissions >= 1, "maxRetransmissions must be >= 1");
  check(limits.giveUpAfterMs >= 1000, "giveUpAfterMs must be >= 1 s");
  check(limits.maxResendsPerTick >= 1, "maxResendsPerTick must be >= 1");
  check(limits.resumeWindow >= 1, "resumeWindow must be >= 1");
  check(limits.resendTickMs >= 1, "resendTickMs must be >= 1 ms");
  check(
    limits.initialRtoMs >= 1 && limits.maxRtoMs >= limits.initialRtoMs,
    "RTO bounds must be 1 <= initial <= max",
  );
  return limits;
}
