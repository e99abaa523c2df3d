/**
 * Target candidates for Tab (instance ids and `Name:value`), from a short-lived cache so that
 * repeated Tabs stay fast: `.aws_runas_targets_<hash>` next to the config file, mode 0600, fresh
 * for 60 s, one per profile, region and endpoint. On a miss the instances are listed with the
 * profile's credentials — never prompting (no MFA code, no terminal): whatever fails or takes
 * too long simply yields no candidates.
 */
import { createHash } from "node:crypto";
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { endpointFromEnv } from "../aws/endpoint.js";
import type { Env } from "./inputs.js";

/** How long a cached list is used without asking AWS again. */
export const TARGET_CACHE_TTL_MS = 60_000;
/** A Tab never waits longer than this for AWS. */
const FETCH_TIMEOUT_MS = 5_000;

/** The cache file for a profile in this environment. */
export function targetCachePath(env: Env, profile: string | undefined): string {
  const configFile = env.AWS_CONFIG_FILE || join(env.HOME || homedir(), ".aws", "config");
  const key = JSON.stringify([
    profile ?? env.AWS_PROFILE ?? env.AWS_DEFAULT_PROFILE ?? "default",
    env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "",
    endpointFromEnv("ssm", env) ?? "",
  ]);
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 16);
  return join(dirname(configFile), `.aws_runas_targets_${hash}`);
}

/** Candidates for the target position; [] on any failure. */
export async function loadTargetCandidates(
  env: Env,
  profile: string | undefined,
  now: () => number = Date.now,
): Promise<string[]> {
  const path = targetCachePath(env, profile);
  try {
    const info = await stat(path);
    if (now() - info.mtimeMs < TARGET_CACHE_TTL_MS) {
      const cached = JSON.parse(await readFile(path, "utf8")) as unknown;
      if (Array.isArray(cached) && cached.every((c) => typeof c === "string")) return cached;
    }
  } catch {
    // No cache yet, or unreadable: ask AWS.
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    // The SDK and the credentials code load only on a cache miss.
    const { fetchCandidates } = await import("./completion-fetch.js");
    const candidates = await Promise.race([
      fetchCandidates(env, profile),
      new Promise<string[]>((resolve) => {
        timer = setTimeout(() => resolve([]), FETCH_TIMEOUT_MS);
      }),
    ]);
    if (candidates.length > 0) {
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(candidates), { mode: 0o600 });
      await rename(tmp, path);
    }
    return candidates;
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}
