/** Choosing the AssumeRole `RoleSessionName` the way aws-runas does. */
import { userInfo } from "node:os";
import type { Env } from "../config/profile-name.js";

/** AWS limits: 2..64 characters from `[\w+=,.@-]`. */
const MAX_LENGTH = 64;
const MIN_LENGTH = 2;

/**
 * Makes any text a valid RoleSessionName: characters outside `[\w+=,.@-]` become `-`, the
 * result is cut to 64 characters, and a too-short result is padded. Pure.
 */
export function sanitizeSessionName(text: string): string {
  let name = text.replace(/[^\w+=,.@-]/g, "-").slice(0, MAX_LENGTH);
  if (name.length < MIN_LENGTH) name = `${name}-aws-runas`.replace(/^-/, "");
  return name;
}

/** The IAM user name in a GetCallerIdentity ARN (`arn:aws:iam::1:user/path/alice` → `alice`). Pure. */
export function userNameFromArn(arn: string): string | undefined {
  const m = /^arn:[^:]+:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m?.[1];
}

/** The local user's name: the passwd entry, else `USER` / `LOGNAME` / `USERNAME`. */
export function osUserName(env: Env): string {
  try {
    const name = userInfo().username;
    if (name) return name;
  } catch {
    // No passwd entry (some containers): fall back to the environment.
  }
  return env["USER"] || env["LOGNAME"] || env["USERNAME"] || "aws-runas";
}

/** Inputs of {@link chooseSessionName}, in priority order. */
export interface SessionNameSources {
  readonly roleSessionName?: string | undefined;
  /** Looks up the caller's ARN; called only when `roleSessionName` is not set. */
  readonly callerArn: () => Promise<string | undefined>;
  readonly osUser: () => string;
}

/**
 * `role_session_name` if set, else the caller's IAM user name (GetCallerIdentity, only when
 * needed), else the OS user name; always sanitised.
 */
export async function chooseSessionName(sources: SessionNameSources): Promise<string> {
  if (sources.roleSessionName) return sanitizeSessionName(sources.roleSessionName);
  const arn = await sources.callerArn();
  const user = arn === undefined ? undefined : userNameFromArn(arn);
  return sanitizeSessionName(user ?? sources.osUser());
}
