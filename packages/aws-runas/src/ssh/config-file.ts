/**
 * Reads an ssh_config file and, recursively, the files its `Include` directives name (with
 * `~`, `${ENV}` and `*`/`?` globs; relative paths are under `~/.ssh`, as for a user config).
 * A missing file is an empty config; unreadable ones become notes, never errors.
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { type ConfigFile, parseSshConfigText } from "./config.js";
import { matchPattern } from "./host-pattern.js";

/** Same bound as OpenSSH (READCONF_MAX_DEPTH): stops include loops. */
const MAX_INCLUDE_DEPTH = 16;

export interface LoadSshConfigOptions {
  /** Home directory for `~` and relative `Include` paths. */
  readonly home: string;
  /** For `${VAR}` in `Include` paths. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Loads `path` and its includes. Resolves to an empty config when `path` does not exist. */
export function loadSshConfig(path: string, options: LoadSshConfigOptions): Promise<ConfigFile> {
  return loadFile(path, options, 0);
}

async function loadFile(path: string, options: LoadSshConfigOptions, depth: number): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const notes = code === "ENOENT" ? [] : [`${path}: cannot read (${code ?? String(error)})`];
    return { path, directives: [], includes: new Map(), notes };
  }
  const { directives, notes } = parseSshConfigText(text, path);
  const includes = new Map<number, ConfigFile[]>();
  for (const d of directives) {
    if (d.keyword !== "include") continue;
    if (depth >= MAX_INCLUDE_DEPTH) {
      notes.push(`${path}:${d.line}: Include nested deeper than ${MAX_INCLUDE_DEPTH}; ignored`);
      continue;
    }
    const files: ConfigFile[] = [];
    for (const arg of d.args) {
      const pattern = includePath(arg, options);
      if (pattern === undefined) {
        notes.push(`${path}:${d.line}: cannot expand Include ${arg}; ignored`);
        continue;
      }
      for (const match of await expandGlob(pattern)) files.push(await loadFile(match, options, depth + 1));
    }
    includes.set(d.line, files);
  }
  return { path, directives, includes, notes };
}

function includePath(arg: string, { home, env }: LoadSshConfigOptions): string | undefined {
  let path = arg;
  if (path === "~" || path.startsWith("~/")) path = home + path.slice(1);
  else if (path.startsWith("~")) return undefined;
  let missing = false;
  path = path.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = env[name];
    if (value === undefined) missing = true;
    return value ?? "";
  });
  if (missing) return undefined;
  return isAbsolute(path) ? path : join(home, ".ssh", path);
}

/** Files matching an absolute path whose components may hold `*` / `?`, sorted (like glob(3)). */
async function expandGlob(pattern: string): Promise<string[]> {
  if (!/[*?]/.test(pattern)) return [pattern];
  const parts = pattern.split("/").filter((p) => p !== "");
  let bases = ["/"];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of bases) {
      if (!/[*?]/.test(part)) {
        next.push(join(base, part));
        continue;
      }
      let names: string[];
      try {
        names = await readdir(base);
      } catch {
        continue;
      }
      // Like the shell, wildcards do not match hidden files.
      for (const name of names.sort()) {
        if (!name.startsWith(".") && matchPattern(name, part)) next.push(join(base, name));
      }
    }
    bases = next;
  }
  return bases.filter((p) => dirname(p) !== p);
}
