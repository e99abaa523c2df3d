/**
 * Profiles: which profile to run as, the shared config/credentials files, the aws-runas merge
 * order, region and credential lifetimes. Only reading and deciding; no AWS calls.
 */
import type { Logger } from "@aws-runas/wire/log.js";
import { configPaths, loadProfileFiles } from "./files.js";
import { type ProfileOverrides, type ResolvedProfile, resolveProfile } from "./profile.js";
import { type Env, selectProfile } from "./profile-name.js";

export {
  clampDuration,
  type DurationLimits,
  formatDuration,
  parseGoDuration,
  ROLE_LIMITS,
  SESSION_TOKEN_LIMITS,
} from "./duration.js";
export { ConfigError, type ConfigErrorCode } from "./errors.js";
export {
  type ConfigPaths,
  configPaths,
  homeDirFrom,
  loadProfileFiles,
  type ProfileFiles,
  profileNames,
  type Section,
} from "./files.js";
export { type ProfileOverrides, type ResolvedProfile, resolveProfile } from "./profile.js";
export {
  DEFAULT_PROFILE,
  type Env,
  type ProfileOrigin,
  type ProfileSelection,
  selectProfile,
} from "./profile-name.js";
export { looksLikeArn, parseRoleArn, type RoleArn, tryParseRoleArn } from "./role-arn.js";

/** Inputs of {@link loadProfile}. */
export interface LoadProfileInput {
  /** Profile name or role ARN from the command line; undefined to use `AWS_PROFILE` etc. */
  readonly profile?: string | undefined;
  readonly env: Env;
  readonly overrides?: ProfileOverrides;
  readonly logger: Logger;
}

/** Selects, reads and resolves the profile in one call (the files are read each time). */
export async function loadProfile(input: LoadProfileInput): Promise<ResolvedProfile> {
  const selection = selectProfile(input.profile, input.env);
  const files = await loadProfileFiles(configPaths(input.env), input.logger);
  return resolveProfile(files, selection, input.env, input.overrides ?? {}, input.logger);
}
