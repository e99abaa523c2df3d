/** Text for `-e` (expiry) and `-w` (whoami); both are written to stderr by the caller. Pure. */
import { formatDuration } from "../config/duration.js";
import type { CallerIdentity } from "./sts.js";

/** `Credentials will expire on 2024-05-01T12:00:00Z (in 59m30s)`. */
export function formatExpiration(expiration: Date | undefined, nowMs: number): string {
  if (expiration === undefined) return "Credentials do not expire (long-term keys)";
  const iso = expiration.toISOString().replace(/\.\d{3}Z$/, "Z");
  const left = Math.floor((expiration.getTime() - nowMs) / 1000);
  return left > 0
    ? `Credentials will expire on ${iso} (in ${formatDuration(left)})`
    : `Credentials expired on ${iso} (${formatDuration(-left)} ago)`;
}

/** The GetCallerIdentity answer, one field per line. */
export function formatIdentity(identity: CallerIdentity): string {
  return [`UserId: ${identity.userId}`, `Account: ${identity.account}`, `Arn: ${identity.arn}`].join("\n");
}
