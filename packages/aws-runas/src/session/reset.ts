/**
 * Ending a local TCP connection with RST, so that its peer does not take a connection whose
 * remainder may be lost for a complete one.
 */
import type { Socket } from "node:net";

/**
 * Resets `socket` (RST), or closes it when its own end is already under way.
 *
 * Node's `resetAndDestroy()` fails with EINVAL while a shutdown is pending (after `end()`, until
 * the FIN is out) and then leaks the handle: it is never closed, no "close" event comes, and at
 * exit Node's teardown waits for it forever at 100 % CPU. A socket that ended its side has
 * already told the peer its data is complete, so a plain close says nothing false.
 */
export function reset(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writableEnded && !socket.writableFinished) {
    socket.destroy();
    return;
  }
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy(); // not a TCP handle
  }
}
