/**
 * Cutting source bytes into stream-message payloads (ssm-protocol.md §5.2, §6.1). Pure.
 */

/** The agent's read size: every payload it sends is at most this long. */
export const AGENT_CHUNK_SIZE = 1024;

/**
 * Splits `data` into views of at most `max` bytes. With `utf8` a cut is moved back to the start
 * of a multi-byte character (at most 3 bytes), so terminal output never splits a character
 * between two messages — what the agent's shell plugin does. Views share `data`'s memory.
 */
export function splitPayloads(data: Buffer, max = AGENT_CHUNK_SIZE, utf8 = false): Buffer[] {
  if (max < 1) throw new RangeError("max must be at least 1");
  const out: Buffer[] = [];
  let start = 0;
  while (data.length - start > max) {
    let end = start + max;
    if (utf8) {
      let back = end;
      // Continuation bytes look like 10xxxxxx; step back to the lead byte of their character.
      while (back > start && end - back < 3 && ((data[back] ?? 0) & 0xc0) === 0x80) back--;
      if (back > start && ((data[back] ?? 0) & 0xc0) !== 0x80) end = back;
    }
    out.push(data.subarray(start, end));
    start = end;
  }
  if (start < data.length) out.push(data.subarray(start));
  return out;
}
