/** `export NAME=value` lines for `eval "$(aws-runas-emulator ...)"`. Pure. */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes a value for POSIX shells only when it needs it. */
export function shellQuote(value: string): string {
  return SAFE.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** One `export NAME=value` line per variable, in insertion order. */
export function formatExports(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`)
    .join("");
}

/** Reads `export NAME=value` lines back (for tests and scripts); ignores other lines. */
export function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m?.[1]) continue;
    const raw = m[2] ?? "";
    env[m[1]] = raw.startsWith("'") ? raw.slice(1, -1).replace(/'\\''/g, "'") : raw;
  }
  return env;
}
