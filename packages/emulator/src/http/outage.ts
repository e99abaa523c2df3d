/**
 * A simulated network outage (`--fault outage=AFTER:SECONDS`, `POST /_emulator/outage`): while
 * it lasts, the API server and the gateway accept TCP connections and drop them at once — what
 * a client sees on a dead network, a sleeping laptop's first seconds back, or a VPN reconnect —
 * and the client's websockets are cut when it starts. The agent side is not touched: sessions
 * and their unacknowledged data wait for the client to come back.
 */
import type { Server, Socket } from "node:net";
import type { Outage } from "../program/options.js";
import { systemTimerClock, type TimerHandle } from "../world/clock.js";

export class NetworkOutage {
  #until = 0;
  readonly #timers: TimerHandle[] = [];
  readonly #sockets = new Set<Socket>();
  /** Outages so far (for tests and logs). */
  count = 0;

  /** True while an outage lasts. */
  get active(): boolean {
    return Date.now() < this.#until;
  }

  /** Drops new connections to `server` during outages and cuts the open ones when one starts. */
  guard(server: Server): void {
    server.prependListener("connection", (socket: Socket) => {
      if (this.active) {
        socket.destroy();
        return;
      }
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
  }

  /**
   * Starts an outage now, for `seconds` (extending one that is on). Every open connection is cut,
   * the client's data-channel websockets included (upgraded sockets are connections too), except
   * `spare` (the admin request that asked for it, which closes after its answer).
   */
  start(seconds: number, spare?: Socket): void {
    this.count++;
    this.#until = Math.max(this.#until, Date.now() + seconds * 1000);
    for (const socket of this.#sockets) if (socket !== spare) socket.destroy();
    this.#sockets.clear();
  }

  /** Seconds until the current outage ends (0 when none). */
  get remainingSeconds(): number {
    return Math.max(0, (this.#until - Date.now()) / 1000);
  }

  /** Schedules the `--fault` outages, relative to now. */
  schedule(outages: readonly Outage[]): void {
    for (const o of outages)
      this.#timers.push(systemTimerClock.after(o.afterSeconds * 1000, () => this.start(o.seconds)));
  }

  /** Cancels scheduled outages and ends the current one. */
  close(): void {
    for (const t of this.#timers.splice(0)) t.cancel();
    this.#until = 0;
  }
}
