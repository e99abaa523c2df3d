/**
 * ssh_config(5), the part `--ec2ic` needs: which `IdentityFile` entries (and `HostName`,
 * `IdentityAgent`, `IdentitiesOnly`) apply to a host. {@link parseSshConfigText} turns text into
 * directives, {@link evaluateSshConfig} walks a loaded file tree for one host. Both are pure;
 * reading files and `Include` live in `config-file.ts`.
 *
 * Rules followed (as OpenSSH applies them): keywords are case-insensitive and may be followed
 * by `=`; the first value obtained wins, except `IdentityFile`, which accumulates; `Host` lines
 * match the host as given; `Match` blocks are skipped (except `Match all`) with a note; an
 * `Include` inside a block that does not apply contributes nothing.
 */
import { hostLineMatches, isLiteralPattern } from "./host-pattern.js";

/** One `keyword args...` line. `keyword` is lower-cased. */
export interface ConfigDirective {
  readonly keyword: string;
  readonly args: readonly string[];
  /** 1-based line number in its file. */
  readonly line: number;
}

/** A parsed config file; `Include` directives carry the files they named, already loaded. */
export interface ConfigFile {
  readonly path: string;
  readonly directives: readonly ConfigDirective[];
  /** Files loaded for each `Include` directive, by its line number. */
  readonly includes: ReadonlyMap<number, readonly ConfigFile[]>;
  /** Problems found while parsing or loading (bad quoting, unreadable includes...). */
  readonly notes: readonly string[];
}

/** What the config says for one host (values unexpanded, as written). */
export interface HostSettings {
  /** Every `IdentityFile` that applies, in file order. */
  readonly identityFiles: readonly string[];
  readonly hostName: string | undefined;
  readonly identityAgent: string | undefined;
  readonly identitiesOnly: boolean | undefined;
  /** Things skipped or not understood (for `-v` output). */
  readonly notes: readonly string[];
}

/** Splits one line into words: whitespace-separated, `"`/`'` quoting, `\` escapes, `#` comments. */
export function splitConfigLine(text: string): { words: string[]; error?: string } {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length || text[i] === "#") break;
    let word = "";
    let quote: string | undefined;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (quote) {
        if (c === quote) quote = undefined;
        else if (c === "\\" && (text[i + 1] === quote || text[i + 1] === "\\")) word += text[++i];
        else word += c;
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (c === "\\" && i + 1 < text.length && /[\s"'\\]/.test(text[i + 1]!)) {
        word += text[++i];
      } else if (/\s/.test(c)) {
        break;
      } else {
        word += c;
      }
    }
    if (quote) return { words, error: "unterminated quote" };
    words.push(word);
  }
  return { words };
}

/** Parses config text into directives; lines it cannot read are reported in `notes` and skipped. */
export function parseSshConfigText(
  text: string,
  path = "ssh_config",
): { directives: ConfigDirective[]; notes: string[] } {
  const directives: ConfigDirective[] = [];
  const notes: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    // `Keyword=value` and `Keyword = value` are the same as `Keyword value`.
    const m = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+|$)(.*)$/.exec(lines[n]!);
    const trimmed = lines[n]!.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    if (!m) {
      notes.push(`${path}:${n + 1}: cannot parse line`);
      continue;
    }
    const { words, error } = splitConfigLine(m[2]!);
    if (error) {
      notes.push(`${path}:${n + 1}: ${error}`);
      continue;
    }
    directives.push({ keyword: m[1]!.toLowerCase(), args: words, line: n + 1 });
  }
  return { directives, notes };
}

interface Collected {
  identityFiles: string[];
  hostName?: string;
  identityAgent?: string;
  identitiesOnly?: boolean;
  notes: string[];
}

/** Walks one file; `active` is whether the directives before its first Host/Match apply. */
function walk(
  file: ConfigFile,
  host: string,
  active: boolean,
  neverMatch: boolean,
  out: Collected,
  depth: number,
) {
  if (depth > 16) {
    out.notes.push(`${file.path}: Include nested too deeply; ignored`);
    return;
  }
  for (const d of file.directives) {
    const at = `${file.path}:${d.line}`;
    switch (d.keyword) {
      case "host":
        active = !neverMatch && hostLineMatches(d.args, host);
        continue;
      case "match":
        if (d.args.length === 1 && d.args[0]!.toLowerCase() === "all") {
          active = !neverMatch;
        } else {
          active = false;
          out.notes.push(`${at}: Match ${d.args.join(" ")} not evaluated; its block is skipped`);
        }
        continue;
      case "include":
        for (const included of file.includes.get(d.line) ?? []) {
          walk(included, host, active, neverMatch || !active, out, depth + 1);
        }
        continue;
    }
    if (!active) continue;
    const value = d.args[0];
    if (value === undefined) continue;
    switch (d.keyword) {
      case "identityfile":
        out.identityFiles.push(value);
        break;
      case "hostname":
        out.hostName ??= value;
        break;
      case "identityagent":
        out.identityAgent ??= value;
        break;
      case "identitiesonly":
        out.identitiesOnly ??= value.toLowerCase() === "yes";
        break;
    }
  }
}

/** Every file in the tree, for notes and alias lookups. */
function* allFiles(file: ConfigFile, depth = 0): Generator<ConfigFile> {
  yield file;
  if (depth > 16) return;
  for (const list of file.includes.values()) for (const f of list) yield* allFiles(f, depth + 1);
}

/** The settings that apply to `host` under OpenSSH's rules (see the module comment). */
export function evaluateSshConfig(config: ConfigFile, host: string): HostSettings {
  const out: Collected = { identityFiles: [], notes: [] };
  walk(config, host, true, false, out, 0);
  const notes = [...new Set([...[...allFiles(config)].flatMap((f) => f.notes), ...out.notes])];
  return {
    identityFiles: out.identityFiles,
    hostName: out.hostName,
    identityAgent: out.identityAgent,
    identitiesOnly: out.identitiesOnly,
    notes,
  };
}

/**
 * Literal `Host` aliases whose `HostName` is `host`. A ProxyCommand only learns the `HostName`
 * (`%h`), not the alias the user typed, so for `Host web` + `HostName i-0abc` we look back from
 * `i-0abc` to `web` to find the IdentityFile the user meant.
 */
export function aliasesForHostName(config: ConfigFile, host: string): string[] {
  const aliases: string[] = [];
  for (const file of allFiles(config)) {
    for (const d of file.directives) {
      if (d.keyword !== "host") continue;
      for (const alias of d.args) {
        if (alias === host || !isLiteralPattern(alias) || aliases.includes(alias)) continue;
        const name = evaluateSshConfig(config, alias).hostName;
        // HostName may itself use %h (the alias) and %% (ssh_config(5)).
        if (
          name?.replace(/%(.)/g, (_, c: string) => (c === "h" ? alias : c === "%" ? "%" : `%${c}`)) === host
        ) {
          aliases.push(alias);
        }
      }
    }
  }
  return aliases;
}
