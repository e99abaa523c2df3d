/**
 * Deciding how to get credentials for a profile, from its keys alone (pure). The flows in
 * `flows.ts` then carry the plan out.
 *
 *   no role, long-term keys      → GetSessionToken (MFA if configured), cached per profile
 *   role, long-term base, ≤ 1h   → GetSessionToken (MFA) cached per source profile,
 *                                  then AssumeRole with it (no MFA), cached per profile
 *   role, any other base or > 1h → AssumeRole with the base credentials (MFA), cached per profile
 *   SSO, credential_process, web identity, credential_source, env keys, default chain
 *                                → the SDK's providers / the keys as they are
 */

import { ConfigError } from "../config/errors.js";
import type { Section } from "../config/files.js";
import type { ResolvedProfile } from "../config/profile.js";
import { DEFAULT_PROFILE, type Env } from "../config/profile-name.js";
import type { RoleArn } from "../config/role-arn.js";
import { arnCacheName } from "./cache.js";
import type { SdkProviderSpec } from "./sdk-providers.js";

/** An access key pair with an optional session token. */
export interface StaticKeys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiration?: Date | undefined;
}

/** The credentials a flow starts from. */
export type BaseCredentials =
  /** An IAM user's keys from a profile: may call GetSessionToken, whose result is cached under `profile`. */
  | { readonly kind: "long-term"; readonly profile: string; readonly keys: StaticKeys }
  /** Keys used as they are: temporary keys in a profile, or `AWS_ACCESS_KEY_ID`... in the environment. */
  | { readonly kind: "static"; readonly origin: string; readonly keys: StaticKeys }
  | { readonly kind: "sdk"; readonly spec: SdkProviderSpec };

export type CredentialPlan =
  | { readonly kind: "session-token"; readonly base: LongTermBase }
  | { readonly kind: "base"; readonly base: BaseCredentials }
  | {
      readonly kind: "assume-role";
      readonly base: BaseCredentials;
      readonly roleArn: RoleArn;
      /** GetSessionToken first (carrying the MFA), then AssumeRole without MFA. */
      readonly viaSessionToken: boolean;
      /** Name in `.aws_assume_role_<name>`. */
      readonly roleCacheName: string;
    };

export type LongTermBase = Extract<BaseCredentials, { kind: "long-term" }>;

/** Longest role lifetime reachable through session-token credentials (role chaining limit). */
export const SESSION_TOKEN_ROLE_LIMIT = 3600;

/** Keys in the environment, if both halves are set. Pure. */
export function envKeys(env: Env): StaticKeys | undefined {
  const accessKeyId = env["AWS_ACCESS_KEY_ID"]?.trim();
  const secretAccessKey = env["AWS_SECRET_ACCESS_KEY"]?.trim();
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env["AWS_SESSION_TOKEN"]?.trim() || undefined;
  const exp = env["AWS_CREDENTIAL_EXPIRATION"] ? Date.parse(env["AWS_CREDENTIAL_EXPIRATION"]) : Number.NaN;
  return {
    accessKeyId,
    secretAccessKey,
    sessionToken,
    expiration: Number.isNaN(exp) ? undefined : new Date(exp),
  };
}

/**
 * What a profile section provides as credentials, judged by its keys; `undefined` when it has
 * none. Pure.
 */
export function credentialsOfSection(
  profile: string,
  section: Section | undefined,
): BaseCredentials | undefined {
  if (!section) return undefined;
  if (section["role_arn"] || section["web_identity_token_file"])
    return { kind: "sdk", spec: { kind: "ini", profile } };
  if (section["sso_session"] || section["sso_start_url"])
    return { kind: "sdk", spec: { kind: "sso", profile } };
  if (section["credential_process"]) return { kind: "sdk", spec: { kind: "process", profile } };
  return keysOfSection(profile, section);
}

/** The access keys written in a section, whatever else it holds. Pure. */
function keysOfSection(profile: string, section: Section | undefined): BaseCredentials | undefined {
  const accessKeyId = section?.["aws_access_key_id"];
  const secretAccessKey = section?.["aws_secret_access_key"];
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = section["aws_session_token"];
  if (sessionToken) {
    return {
      kind: "static",
      origin: `profile "${profile}"`,
      keys: { accessKeyId, secretAccessKey, sessionToken },
    };
  }
  return { kind: "long-term", profile, keys: { accessKeyId, secretAccessKey } };
}

/** Decides the flow for a resolved profile. Pure; throws when the profile has no credentials. */
export function planCredentials(profile: ResolvedProfile, env: Env): CredentialPlan {
  const { selection, section, name } = profile;

  if (selection.kind === "role-arn") {
    const base = defaultChainBase(selection.baseProfile, profile.sourceSection, env);
    return rolePlan(profile, base, selection.roleArn, arnCacheName(selection.roleArn));
  }

  // The SDK does web identity and credential_source (env / instance / container) roles itself.
  if (section?.["web_identity_token_file"] || (profile.roleArn && section?.["credential_source"])) {
    return { kind: "base", base: { kind: "sdk", spec: { kind: "ini", profile: name } } };
  }

  if (profile.roleArn) {
    let base: BaseCredentials;
    if (profile.sourceProfile !== undefined) {
      // source_profile naming the profile itself: its own keys assume the role (AWS CLI rule).
      const fromSource =
        profile.sourceProfile === name
          ? keysOfSection(name, section)
          : credentialsOfSection(profile.sourceProfile, profile.sourceSection);
      if (!fromSource) throw noCredentials(profile.sourceProfile, ` (source_profile of "${name}")`);
      base = fromSource;
    } else {
      base = defaultChainBase(DEFAULT_PROFILE, profile.files.profiles[DEFAULT_PROFILE], env, name);
    }
    return rolePlan(profile, base, profile.roleArn, name);
  }

  // Like the SDK's chain: keys in the environment win unless a profile was asked for.
  const fromEnv = selection.origin === "default" ? envKeys(env) : undefined;
  if (fromEnv) return { kind: "base", base: { kind: "static", origin: "the environment", keys: fromEnv } };

  const own = credentialsOfSection(name, section);
  if (own?.kind === "long-term") return { kind: "session-token", base: own };
  if (own) return { kind: "base", base: own };
  if (name === DEFAULT_PROFILE)
    return { kind: "base", base: { kind: "sdk", spec: { kind: "chain", profile: name } } };
  throw noCredentials(name, "");
}

function rolePlan(
  profile: ResolvedProfile,
  base: BaseCredentials,
  roleArn: RoleArn,
  roleCacheName: string,
): CredentialPlan {
  return {
    kind: "assume-role",
    base,
    roleArn,
    viaSessionToken: base.kind === "long-term" && profile.roleDuration <= SESSION_TOKEN_ROLE_LIMIT,
    roleCacheName,
  };
}

/** Base credentials from the default chain: env keys, then the base profile, then the SDK chain. */
function defaultChainBase(
  baseProfile: string,
  baseSection: Section | undefined,
  env: Env,
  self?: string,
): BaseCredentials {
  const fromEnv = envKeys(env);
  if (fromEnv) return { kind: "static", origin: "the environment", keys: fromEnv };
  // A role profile without source_profile must not use itself as its base.
  const fromProfile = baseProfile === self ? undefined : credentialsOfSection(baseProfile, baseSection);
  return fromProfile ?? { kind: "sdk", spec: { kind: "chain", profile: baseProfile } };
}

function noCredentials(profile: string, context: string): ConfigError {
  return new ConfigError("CONFIG_NO_CREDENTIALS", `profile "${profile}"${context} has no credentials`, {
    hint: "give it aws_access_key_id/aws_secret_access_key, role_arn with source_profile, sso_session or credential_process",
  });
}
