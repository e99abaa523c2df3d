/**
 * Why this exists: when the last process on a pty exits, Linux may report EIO on the master before
 * everything the process wrote has been read, and node-pty then loses the tail of the output. So
 * the emulated shell prints a marker after the real program has finished and waits for one line
 * of input; seeing the marker proves every byte before it was read, and only then does the agent
 * answer and let the pty close. The marker is cut out of the data stream. Pure.
 */

/** An OSC sequence no program prints by accident; terminals would ignore it anyway. */
export const DRAIN_MARKER = "\x1b]1337;aws-runas-emulator-drained\x07";

/** The byte the agent writes once it has seen the marker (ASCII ACK): nothing a user types. */
export const DRAIN_RELEASE = "\x06";

/**
 * Shell code run after the program: keep its status, print the marker, then wait for
 * {@link DRAIN_RELEASE}. The terminal is put in raw mode and read byte by byte, so input typed
 * ahead (a Ctrl-D at the end of piped input, stray keys) cannot end the wait early; a closed
 * terminal (empty read) ends it too. POSIX sh, in case the shell is not bash.
 */
export const DRAIN_WAIT_SCRIPT =
  "__rc=$?; stty raw -echo 2>/dev/null; printf '\\033]1337;aws-runas-emulator-drained\\007'; " +
  "while :; do __x=$(dd bs=1 count=1 2>/dev/null | od -An -tx1 | tr -d ' \\n'); " +
  '[ -z "$__x" ] && break; [ "$__x" = 06 ] && break; done; exit $__rc';

export interface ScanResult {
  /** Bytes to forward (the marker removed, a possible partial marker at the end held back). */
  data: Buffer;
  /** The marker was seen in this chunk. */
  found: boolean;
}

/** Finds {@link DRAIN_MARKER} in a byte stream that may split it across chunks. */
export class DrainMarkerScanner {
  readonly #marker: Buffer;
  #held: Buffer = Buffer.alloc(0);
  #found = false;

  constructor(marker: string = DRAIN_MARKER) {
    this.#marker = Buffer.from(marker, "latin1");
  }

  get found(): boolean {
    return this.#found;
  }

  /** Scans one chunk. After the marker was found, data passes through unchanged. */
  push(chunk: Buffer): ScanResult {
    if (this.#found) return { data: chunk, found: false };
    const data = this.#held.length > 0 ? Buffer.concat([this.#held, chunk]) : chunk;
    this.#held = Buffer.alloc(0);
    const at = data.indexOf(this.#marker);
    if (at >= 0) {
      this.#found = true;
      return {
        data: Buffer.concat([data.subarray(0, at), data.subarray(at + this.#marker.length)]),
        found: true,
      };
    }
    // Hold back the longest tail that could be the start of the marker.
    const keep = this.#partialTail(data);
    this.#held = Buffer.from(data.subarray(data.length - keep));
    return { data: data.subarray(0, data.length - keep), found: false };
  }

  /** Whatever is held back (the stream ended without completing the marker). */
  flush(): Buffer {
    const held = this.#held;
    this.#held = Buffer.alloc(0);
    return held;
  }

  #partialTail(data: Buffer): number {
    const max = Math.min(this.#marker.length - 1, data.length);
    // Fast path: a partial marker must start with its first byte (ESC) near the end.
    if (data.indexOf(this.#marker[0]!, data.length - max) < 0) return 0;
    for (let n = max; n > 0; n--) {
      if (data.subarray(data.length - n).equals(this.#marker.subarray(0, n))) return n;
    }
    return 0;
  }
}
