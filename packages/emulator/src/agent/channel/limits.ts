/**
 * The bounds of the simulated agent's data channel: the agent's own values from ssm-protocol.md
 * §5.2 (AGT `agent/session/config/config.go`), plus the emulator's back-pressure marks. Pure.
 */

export interface AgentChannelLimits {
  /** Resend scheduler tick (agent: 100 ms). */
  resendTickMs: number;
  /** RTO before the first RTT sample (agent: 200 ms). */
  initialRtoMs: number;
  /** RTO cap (agent: 1 s). */
  maxRtoMs: number;
  /** The clock-granularity floor term of the RTO (agent: 10 ms). */
  rtoFloorMs: number;
  /** Unacked messages kept for resending (agent: 100 000); past it a message is sent once, unbuffered. */
  outgoingCapacity: number;
  /** Out-of-order client messages kept (agent: 100 000); past it they are dropped unacked. */
  incomingCapacity: number;
  /**
   * Emulator back-pressure: unacked bytes / messages above which the plugins stop reading their
   * sources (the real agent has no such mark; its pumps only stop while paused).
   */
  outgoingHighWaterBytes: number;
  outgoingHighWaterMessages: number;
  /** Emulator: unacked messages put on a fresh connection at once after a reconnect; one more per ack. */
  reconnectWindow: number;
}

export const AGENT_CHANNEL_LIMITS: AgentChannelLimits = {
  resendTickMs: 100,
  initialRtoMs: 200,
  maxRtoMs: 1000,
  rtoFloorMs: 10,
  outgoingCapacity: 100_000,
  incomingCapacity: 100_000,
  outgoingHighWaterBytes: 4 * 1024 * 1024,
  outgoingHighWaterMessages: 8192,
  reconnectWindow: 128,
};

/** Overrides on top of the agent's values; throws RangeError naming a bound that makes no sense. */
export function agentChannelLimits(overrides: Partial<AgentChannelLimits> = {}): AgentChannelLimits {
  const limits = { ...AGENT_CHANNEL_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value < 1) throw new RangeError(`agent channel: ${name} must be >= 1`);
  }
  if (limits.maxRtoMs < limits.initialRtoMs)
    throw new RangeError("agent channel: maxRtoMs must be >= initialRtoMs");
  return limits;
}
