/**
 * The credential cache, file-compatible with aws-runas so existing caches keep working: next to
 * the config file, `.aws_session_token_<profile>` and `.aws_assume_role_<profile>`, each one
 * JSON line `{"AccessKeyId","Expiration","SecretAccessKey","SessionToken"}`, mode 0600.
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { AwsCredentialIdentity } from "@smithy/types";
import type { RoleArn } from "../config/role-arn.js";

/** Which flow a cache file belongs to. */
export type CacheKind = "session_token" | "assume_role";

/** Temporary credentials as cached: every field present. */
export interface CachedCredentials extends AwsCredentialIdentity {
  readonly sessionToken: string;
  readonly expiration: Date;
}

/**
 * Cached credentials are treated as expired this long before their real expiry, so a call
 * never starts with credentials about to lapse (it matches the SDK's own refresh window).
 */
export const EXPIRY_MARGIN_MS = 5 * 60 * 1000;

/** The cache name of a role ARN used in place of a profile: `<account>-<role name>`. */
export function arnCacheName(roleArn: RoleArn): string {
  return `${roleArn.accountId}-${roleArn.roleName}`;
}

/**
 * `<dir of config file>/.aws_<kind>_<name>`. Path separators in the name (profile names may
 * contain `/`) are replaced so the file always lands in that directory.
 */
export function cacheFilePath(configFile: string, kind: CacheKind, name: string): string {
  return join(dirname(configFile), `.aws_${kind}_${name.replace(/[/\\]/g, "_")}`);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses one cache file's text; `undefined` for anything incomplete or malformed. Pure. */
export function parseCacheText(text: string): CachedCredentials | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as Record<string, unknown>;
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = d;
  if (typeof AccessKeyId !== "string" || AccessKeyId === "") return undefined;
  if (typeof SecretAccessKey !== "string" || SecretAccessKey === "") return undefined;
  if (typeof SessionToken !== "string" || SessionToken === "") return undefined;
  if (typeof Expiration !== "string" || !RFC3339.test(Expiration)) return undefined;
  const ms = Date.parse(Expiration);
  if (Number.isNaN(ms)) return undefined;
  return {
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    sessionToken: SessionToken,
    expiration: new Date(ms),
  };
}

/** The one-line JSON aws-runas writes (field order and RFC 3339 time included). Pure. */
export function formatCacheText(credentials: CachedCredentials): string {
  return JSON.stringify({
    AccessKeyId: credentials.accessKeyId,
    Expiration: credentials.expiration.toISOString().replace(/\.\d{3}Z$/, "Z"),
    SecretAccessKey: credentials.secretAccessKey,
    SessionToken: credentials.sessionToken,
  });
}

/** True while `credentials` can still be used at `nowMs` (with {@link EXPIRY_MARGIN_MS} to spare). */
export function isFresh(credentials: { expiration?: Date | undefined }, nowMs: number): boolean {
  return credentials.expiration === undefined || credentials.expiration.getTime() - EXPIRY_MARGIN_MS > nowMs;
}

/** Reads a cache file; a missing, unreadable or malformed file reads as `undefined`. */
export async function readCacheFile(path: string): Promise<CachedCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  return parseCacheText(text.trim());
}

/**
 * Writes a cache file atomically: a private (0600) temporary file in the same directory,
 * then `rename`, so a reader never sees a half-written file and the secrets are never
 * readable by others, not even briefly.
 */
export async function writeCacheFile(path: string, credentials: CachedCredentials): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(tmp, "wx", 0o600);
  try {
    await handle.writeFile(`${formatCacheText(credentials)}\n`);
    // The mode given to open() is masked by the umask; 0600 is what we promise.
    await handle.chmod(0o600);
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** Removes a cache file (`-r`); a missing file is fine. */
export async function deleteCacheFile(path: string): Promise<void> {
  await rm(path, { force: true });
}
