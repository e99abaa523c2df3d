/**
 * Finds lines of a shared config / credentials file that the AWS SDK's INI loader would drop
 * without a word — an unterminated `[profile x` header, a stray line — so the user is told
 * where the file is broken instead of getting "profile not found" or a missing setting. The
 * accepted shapes are the AWS CLI's: `[section]` headers, `key = value` settings, indented
 * continuation lines under a setting (`s3 =` sub-settings), `#` / `;` comments, blank lines.
 * Pure.
 */

/** The first malformed line of a file, 1-based. */
export interface IniProblem {
  readonly line: number;
  readonly message: string;
}

/** The first line the SDK loader would silently ignore or misread, if any. */
export function findIniProblem(text: string): IniProblem | undefined {
  let inSection = false;
  let afterSetting = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const at = (message: string): IniProblem => ({ line: i + 1, message });
    // An indented line continues the setting above it (sub-settings such as `s3 =`).
    if (/^\s/.test(raw) && afterSetting) continue;
    if (line.startsWith("[")) {
      const header = /^\[([^\]]*)\]\s*(?:[#;].*)?$/.exec(line);
      if (!header) {
        return at(
          line.includes("]")
            ? "unexpected text after the section header"
            : 'section header without a closing "]"',
        );
      }
      if (header[1]!.trim() === "") return at("empty section name");
      inSection = true;
      afterSetting = false;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) return at('not a "key = value" setting, a [section] header or a comment');
    if (line.slice(0, eq).trim() === "") return at('a setting without a name before "="');
    if (!inSection) return at("a setting before any [section] header");
    afterSetting = true;
  }
  return undefined;
}
