import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { Logger } from "@aws-runas/wire/log.js";
import { loadSharedConfigFiles } from "@smithy/shared-ini-file-loader";
import { ConfigError } from "./errors.js";
import { findIniProblem } from "./ini-check.js";
import type { Env } from "./profile-name.js";

/** One profile's keys (lower-case names as written in the files). */
export type Section = Readonly<Record<string, string>>;

/** Where the shared config and credentials files live. */
export interface ConfigPaths {
  readonly configFile: string;
  readonly credentialsFile: string;
}

/** Both files, parsed: profile sections by name with credentials-file values winning. */
export interface ProfileFiles extends ConfigPaths {
  readonly profiles: Readonly<Record<string, Section>>;
}

/** Section keys the SDK keeps next to profiles that are not profiles themselves. */
const NON_PROFILE_PREFIXES = ["sso-session.", "services."];

/** The home directory as the SDK sees it (`HOME` first), so `~` means the same to both. */
export function homeDirFrom(env: Env): string {
  return env["HOME"] || env["USERPROFILE"] || homedir();
}

/**
 * The file paths: `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`, defaulting to
 * `~/.aws/config` and `~/.aws/credentials`. `~/` is expanded and relative paths made absolute,
 * because the credential cache lives next to the config file. Pure apart from `cwd`.
 */
export function configPaths(env: Env, home = homeDirFrom(env), cwd = process.cwd()): ConfigPaths {
  const expand = (p: string) => {
    const full = p.startsWith("~/") ? join(home, p.slice(2)) : p;
    return isAbsolute(full) ? full : resolve(cwd, full);
  };
  return {
    configFile: expand(env["AWS_CONFIG_FILE"] || join(home, ".aws", "config")),
    credentialsFile: expand(env["AWS_SHARED_CREDENTIALS_FILE"] || join(home, ".aws", "credentials")),
  };
}

/**
 * Reads and parses both files with the SDK's own INI loader (so `[profile name]` in the config
 * file and `[name]` in the credentials file mean what they mean to the AWS CLI). A missing file
 * counts as empty; a file that exists but cannot be read is an error, because the SDK loader
 * would silently ignore it and the user would get a confusing "unknown profile". So is a file
 * with a line the loader would drop (see `ini-check.ts`): the error names the file and line.
 */
export async function loadProfileFiles(paths: ConfigPaths, logger: Logger): Promise<ProfileFiles> {
  await Promise.all([
    assertReadable(paths.configFile, "config", "AWS_CONFIG_FILE", logger),
    assertReadable(paths.credentialsFile, "credentials", "AWS_SHARED_CREDENTIALS_FILE", logger),
  ]);
  const parsed = await loadSharedConfigFiles({
    configFilepath: paths.configFile,
    filepath: paths.credentialsFile,
    // Tests and long sessions rewrite files; the loader's module-level cache would hide that.
    ignoreCache: true,
  });
  const profiles: Record<string, Record<string, string>> = Object.create(null);
  for (const file of [parsed.configFile, parsed.credentialsFile]) {
    for (const [name, values] of Object.entries(file)) {
      if (NON_PROFILE_PREFIXES.some((p) => name.startsWith(p))) continue;
      profiles[name] = { ...profiles[name], ...stringValues(values) };
    }
  }
  return { ...paths, profiles };
}

/** The names of all profiles, sorted (for hints). */
export function profileNames(files: ProfileFiles): string[] {
  return Object.keys(files.profiles).sort();
}

async function assertReadable(path: string, what: string, envName: string, logger: Logger): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, { encoding: "utf8", flag: "r" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      logger.debug(`${what} file ${path} does not exist; treating it as empty`);
      return;
    }
    throw new ConfigError("CONFIG_UNREADABLE", `cannot read the ${what} file ${path} (${code ?? "error"})`, {
      hint: `check the file's permissions, or point ${envName} at another file`,
      cause: error,
    });
  }
  // The SDK loader skips lines it cannot parse; a profile or setting would vanish silently.
  const problem = findIniProblem(text);
  if (problem) {
    throw new ConfigError("CONFIG_MALFORMED", `${path}:${problem.line}: ${problem.message}`, {
      hint: `fix that line of the ${what} file: settings are "key = value" lines under a [profile name] header`,
    });
  }
}

function stringValues(values: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (typeof v === "string") out[k] = v;
  return out;
}
