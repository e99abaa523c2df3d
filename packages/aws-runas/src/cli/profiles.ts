/**
 * Profile names for Tab completion, read from the shared config and credentials files
 * (`AWS_CONFIG_FILE` or ~/.aws/config: `[profile x]` / `[default]`; `AWS_SHARED_CREDENTIALS_FILE`
 * or ~/.aws/credentials: `[x]`).
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Env } from "./inputs.js";

const SECTION = /^\s*\[\s*([^\]]+?)\s*\]\s*(?:[#;].*)?$/;

/**
 * Profile names defined by one file's text (pure). In the config file `[profile x]` is profile
 * `x` and other two-word sections (`[sso-session x]`, `[services x]`) are not profiles.
 */
export function listProfileNames(text: string, kind: "config" | "credentials"): string[] {
  const names: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const section = SECTION.exec(line)?.[1];
    if (section === undefined) continue;
    const profile = kind === "config" ? /^profile\s+(.+)$/.exec(section)?.[1] : undefined;
    const name = profile?.trim() ?? section;
    if (!/\s/.test(name)) names.push(name);
  }
  return names;
}

/** Sorted, de-duplicated profile names from both files; unreadable files count as empty. */
export function readProfileNames(env: Env): string[] {
  const home = env["HOME"] || homedir();
  const config = env["AWS_CONFIG_FILE"] || join(home, ".aws", "config");
  const credentials = env["AWS_SHARED_CREDENTIALS_FILE"] || join(home, ".aws", "credentials");
  const names = new Set([
    ...listProfileNames(readOrEmpty(config), "config"),
    ...listProfileNames(readOrEmpty(credentials), "credentials"),
  ]);
  return [...names].sort();
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    // A missing file simply has no profiles; completion must never print errors.
    return "";
  }
}
