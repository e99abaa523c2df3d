/**
 * The agent's retransmission timeout (ssm-protocol.md §5.2, AGT `calculateRetransmissionTimeout`):
 * RTT starts at 100 ms and RTTVAR at 0; every ack gives a sample (no Karn's rule), RTTVAR is
 * updated from the *old* RTT, and RTO = min(cap, RTT + max(floor, 4·RTTVAR)). Pure.
 */
export class AgentRto {
  #rtt = 100;
  #variation = 0;
  #rto: number;
  readonly #cap: number;
  readonly #floor: number;

  constructor(initialMs: number, capMs: number, floorMs: number) {
    this.#rto = initialMs;
    this.#cap = capMs;
    this.#floor = floorMs;
  }

  /** The current timeout in milliseconds. */
  get ms(): number {
    return this.#rto;
  }

  /** One round trip: from the (last) send of a message to its ack. */
  sample(ms: number): void {
    const deviation = Math.abs(this.#rtt - ms);
    this.#variation = this.#variation * 0.75 + deviation * 0.25;
    this.#rtt = this.#rtt * 0.875 + ms * 0.125;
    this.#rto = Math.min(this.#cap, this.#rtt + Math.max(this.#floor, 4 * this.#variation));
  }
}
