/**
 * OpenSSH-style escape sequences for interactive shells: the escape character (`~` unless
 * changed) typed right after a newline, or as the first key of the session, starts a command —
 * `~.` ends the session, `~?` lists the escapes, `~~` sends one `~`; any other key after it sends
 * both. A pure input filter: keystrokes in, bytes to send and actions out.
 */

/** What the filter found in the input, in order. */
export type EscapeEvent =
  | { readonly kind: "data"; readonly data: Buffer }
  | { readonly kind: "terminate" }
  | { readonly kind: "help" };

/** The escape character: one byte, or null when escapes are off. */
export type EscapeChar = number | null;

/** The `~?` text (terminal lines: raw mode needs `\r\n`). */
export function escapeHelp(char: number): string {
  const c = char < 0x20 ? `^${String.fromCharCode(char + 0x40)}` : String.fromCharCode(char);
  return [
    "Supported escape sequences:",
    ` ${c}.   - terminate the session`,
    ` ${c}?   - this message`,
    ` ${c}${c}   - send the escape character by typing it twice`,
    "(Note that escapes are only recognized immediately after newline.)",
    "",
  ].join("\r\n");
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const QUESTION = 0x3f;

export class EscapeFilter {
  readonly #char: EscapeChar;
  /** At the start of a line (or of the session): an escape character here starts a command. */
  #lineStart = true;
  /** The escape character was the last byte seen, at a line start; it has not been sent. */
  #pending = false;

  constructor(char: EscapeChar) {
    this.#char = char;
  }

  /** Filters one chunk of keyboard input. */
  push(chunk: Buffer): EscapeEvent[] {
    const char = this.#char;
    if (char === null) return chunk.length > 0 ? [{ kind: "data", data: chunk }] : [];
    const events: EscapeEvent[] = [];
    let out: number[] = [];
    const flush = () => {
      if (out.length > 0) events.push({ kind: "data", data: Buffer.from(out) });
      out = [];
    };
    for (const byte of chunk) {
      if (this.#pending) {
        this.#pending = false;
        if (byte === DOT) {
          flush();
          events.push({ kind: "terminate" });
          continue;
        }
        if (byte === QUESTION) {
          flush();
          events.push({ kind: "help" });
          this.#lineStart = true;
          continue;
        }
        if (byte === char) {
          out.push(char);
          this.#lineStart = false;
          continue;
        }
        // Not a command: the held escape character goes out, then this byte as usual.
        out.push(char);
      } else if (byte === char && this.#lineStart) {
        this.#pending = true;
        continue;
      }
      out.push(byte);
      this.#lineStart = byte === CR || byte === LF;
    }
    flush();
    return events;
  }
}
