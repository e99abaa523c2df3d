/**
 * Retransmission timeout estimator of ssm-protocol.md §5.2 (both official peers):
 * RTTVAR ← ¾·RTTVAR + ¼·|RTT − sample|; RTT ← ⅞·RTT + ⅛·sample; RTO ← min(max, RTT + max(10 ms, 4·RTTVAR)).
 */
export class RtoEstimator {
  #rtt = 100;
  #rttVar = 0;
  #rto: number;
  readonly #maxRto: number;

  constructor(initialRtoMs: number, maxRtoMs: number) {
    this.#rto = initialRtoMs;
    this.#maxRto = maxRtoMs;
  }

  get rto(): number {
    return this.#rto;
  }

  /** Feeds one round-trip sample in milliseconds. */
  sample(ms: number): void {
    this.#rttVar = 0.75 * this.#rttVar + 0.25 * Math.abs(this.#rtt - ms);
    this.#rtt = 0.875 * this.#rtt + 0.125 * ms;
    this.#rto = Math.min(this.#maxRto, this.#rtt + Math.max(10, 4 * this.#rttVar));
  }
}
