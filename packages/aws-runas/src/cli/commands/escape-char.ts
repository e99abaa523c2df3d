/**
 * The `--escape-char` / `RUNAS_ESCAPE_CHAR` value as the escape filter (`session/escape.ts`)
 * takes it. Pure, and kept out of the session layer so parsing argv stays light.
 */

/** The escape character: one byte, or null when escapes are off. */
export type EscapeChar = number | null;

export const DEFAULT_ESCAPE_CHAR = "~";
export const ESCAPE_ENV = "RUNAS_ESCAPE_CHAR";

/**
 * `~`, any other single ASCII character, `^X` for a control character, or `none`; undefined for
 * anything else.
 */
export function parseEscapeChar(text: string): EscapeChar | undefined {
  if (text === "none") return null;
  if (/^\^[@-_a-z?]$/.test(text)) {
    const c = text.toUpperCase().charCodeAt(1);
    return c === 0x3f ? 0x7f : c & 0x1f;
  }
  if (text.length === 1 && text.charCodeAt(0) < 0x80) return text.charCodeAt(0);
  return undefined;
}
