/**
 * Finds lines of a shared config / credentials file that the AWS SDK's INI loader would drop
 * without a word — an unterminated `[profile x` header, a stray line, a setting before any
 * header — so the user is told where the file is broken instead of getting "profile not found"
 * or a missing setting. It reads lines as that loader does: a comment starts at `#` or `;` at
 * the start of a line or after a blank; a header is `[...]`; anything else must be
 * `key = value` (indented `key = value` lines under `key =` are sub-settings). Pure.
 */

/** The first malformed line of a file, 1-based. */
export interface IniProblem {
  readonly line: number;
  readonly message: string;
}

/** The first line the SDK loader would silently ignore, if any. */
export function findIniProblem(text: string): IniProblem | undefined {
  let inSection = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i]!.split(/(?:^|\s)[;#]/)[0] ?? "").replace(/^\uFEFF/, "").trim();
    if (line === "") continue;
    const at = (message: string): IniProblem => ({ line: i + 1, message });
    if (line.startsWith("[")) {
      if (!line.endsWith("]")) {
        return at(
          line.includes("]")
            ? "unexpected text after the section header"
            : 'section header without a closing "]"',
        );
      }
      if (line.slice(1, -1).trim() === "") return at("empty section name");
      inSection = true;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) return at('not a "key = value" setting, a [section] header or a comment');
    if (eq === 0) return at('a setting without a name before "="');
    if (!inSection) return at("a setting before any [section] header");
  }
  return undefined;
}
