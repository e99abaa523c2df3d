/** Carrying out a {@link CredentialPlan}: STS calls, MFA codes and the aws-runas cache. */

import { AwsError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import type { AwsCredentialIdentity } from "@smithy/types";
import { classifyAwsError } from "../aws/errors.js";
import { formatDuration } from "../config/duration.js";
import type { ResolvedProfile } from "../config/profile.js";
import {
  type CachedCredentials,
  type CacheKind,
  cacheFilePath,
  deleteCacheFile,
  isFresh,
  readCacheFile,
  writeCacheFile,
} from "./cache.js";
import type { MfaCodeSource } from "./mfa.js";
import type { BaseCredentials, CredentialPlan, LongTermBase } from "./plan.js";
import type { SdkProviderFactory } from "./sdk-providers.js";
import { chooseSessionName } from "./session-name.js";
import type { StsFactory } from "./sts.js";

/** What the flows need from the outside world. */
export interface FlowContext {
  readonly profile: ResolvedProfile;
  readonly sts: StsFactory;
  readonly sdkProviders: SdkProviderFactory;
  readonly mfa: MfaCodeSource;
  readonly logger: Logger;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly osUser: () => string;
}

/**
 * Runs the plan once and returns credentials. With `refresh`, the profile's own cache file
 * (the role cache for a role, else the session-token cache) is deleted first.
 */
export async function runPlan(
  plan: CredentialPlan,
  ctx: FlowContext,
  options: { readonly refresh?: boolean } = {},
): Promise<AwsCredentialIdentity> {
  return (await runPlanWithOrigin(plan, ctx, options)).credentials;
}

/** What {@link runPlanWithOrigin} obtained, and whether it came from an aws-runas cache file. */
export interface PlanResult {
  readonly credentials: AwsCredentialIdentity;
  /** Read from `.aws_session_token_*` / `.aws_assume_role_*` rather than fetched from STS now. */
  readonly fromCache: boolean;
}

/** {@link runPlan}, also saying whether the credentials came from the cache. */
export async function runPlanWithOrigin(
  plan: CredentialPlan,
  ctx: FlowContext,
  options: { readonly refresh?: boolean } = {},
): Promise<PlanResult> {
  switch (plan.kind) {
    case "base":
      return { credentials: await baseCredentials(plan.base, ctx), fromCache: false };
    case "session-token":
      return sessionTokenWithOrigin(plan.base, ctx, options.refresh ?? false);
    case "assume-role":
      return assumeRole(plan, ctx, options.refresh ?? false);
  }
}

async function baseCredentials(base: BaseCredentials, ctx: FlowContext): Promise<AwsCredentialIdentity> {
  switch (base.kind) {
    case "long-term":
    case "static":
      remember(base.keys, ctx.logger);
      return base.keys;
    case "sdk": {
      ctx.logger.debug(
        `credentials: using the AWS SDK ${base.spec.kind} provider for profile "${base.spec.profile}"`,
      );
      const provider = ctx.sdkProviders(base.spec, {
        paths: ctx.profile.files,
        region: ctx.profile.region,
        mfaCodeProvider: ctx.mfa,
      });
      try {
        return remember(await provider(), ctx.logger);
      } catch (error) {
        // The SDK's providers make their own calls, outside our client factory: classify here.
        const translated = classifyAwsError(error, `profile "${base.spec.profile}"`);
        const ssoSignIn =
          translated instanceof AwsError &&
          (translated.kind === "config" || translated.kind === "credentials");
        if (base.spec.kind === "sso" && ssoSignIn) {
          throw new AwsError(translated.awsCode, translated.message, {
            kind: translated.kind,
            hint: `sign in with: aws sso login --profile ${base.spec.profile}`,
            cause: error,
          });
        }
        throw translated;
      }
    }
  }
}

/** GetSessionToken with the long-term keys (and MFA), through `.aws_session_token_<profile>`. */
async function sessionTokenWithOrigin(
  base: LongTermBase,
  ctx: FlowContext,
  refresh: boolean,
): Promise<CacheResult> {
  remember(base.keys, ctx.logger);
  return cached(ctx, "session_token", base.profile, refresh, async () => {
    const { mfaSerial, sessionTokenDuration, region } = ctx.profile;
    const tokenCode = mfaSerial === undefined ? undefined : await ctx.mfa(mfaSerial);
    ctx.logger.debug(
      `credentials: GetSessionToken for profile "${base.profile}" (${formatDuration(sessionTokenDuration)}${mfaSerial ? ", MFA" : ""})`,
    );
    return withMfaHint(
      ctx.sts(base.keys, region).getSessionToken({
        durationSeconds: sessionTokenDuration,
        serialNumber: mfaSerial,
        tokenCode,
      }),
      mfaSerial,
      tokenCode,
    );
  });
}

async function assumeRole(
  plan: Extract<CredentialPlan, { kind: "assume-role" }>,
  ctx: FlowContext,
  refresh: boolean,
): Promise<CacheResult> {
  return cached(ctx, "assume_role", plan.roleCacheName, refresh, async () => {
    if (!(plan.base.kind === "long-term" && plan.viaSessionToken)) {
      return assumeRoleWith(plan, ctx, await baseCredentials(plan.base, ctx));
    }
    const session = await sessionTokenWithOrigin(plan.base, ctx, false);
    try {
      return await assumeRoleWith(plan, ctx, session.credentials);
    } catch (error) {
      // A cached session token AWS no longer takes (it expired by AWS's clock, or was revoked)
      // is replaced rather than reported: -r on the role profile would not drop it.
      // The session-token cache is also shared by every profile with this source profile, and
      // may come from one without MFA; a role that needs MFA then refuses it. Get a fresh one, once.
      const retry =
        session.fromCache &&
        (isRejectedCredentials(error) || (ctx.profile.mfaSerial !== undefined && isAccessDenied(error)));
      if (!retry) throw error;
      ctx.logger.debug("credentials: AssumeRole refused the cached session token; getting a new one");
      const fresh = await sessionTokenWithOrigin(plan.base, ctx, true);
      return assumeRoleWith(plan, ctx, fresh.credentials);
    }
  });
}

/** One AssumeRole signed with `signing`, choosing the session name first. */
async function assumeRoleWith(
  plan: Extract<CredentialPlan, { kind: "assume-role" }>,
  ctx: FlowContext,
  signing: AwsCredentialIdentity,
): Promise<CachedCredentials> {
  const { mfaSerial, roleDuration, externalId, region, roleSessionName } = ctx.profile;
  const sts = ctx.sts(signing, region);
  const sessionName = await chooseSessionName({
    roleSessionName,
    callerArn: async () => {
      try {
        return (await sts.getCallerIdentity()).arn;
      } catch (error) {
        // AssumeRole will report a real credentials problem; only the name is lost here.
        ctx.logger.debug(
          `credentials: GetCallerIdentity failed (${(error as Error).message}); using the OS user name`,
        );
        return undefined;
      }
    },
    osUser: ctx.osUser,
  });
  // With session-token credentials the MFA was given to GetSessionToken already.
  const serialNumber = plan.viaSessionToken ? undefined : mfaSerial;
  const tokenCode = serialNumber === undefined ? undefined : await ctx.mfa(serialNumber);
  ctx.logger.debug(
    `credentials: AssumeRole ${plan.roleArn.arn} as "${sessionName}" (${formatDuration(roleDuration)}${serialNumber ? ", MFA" : ""}${externalId ? ", external id" : ""})`,
  );
  return withMfaHint(
    sts.assumeRole({
      roleArn: plan.roleArn.arn,
      roleSessionName: sessionName,
      durationSeconds: roleDuration,
      externalId,
      serialNumber,
      tokenCode,
    }),
    serialNumber,
    tokenCode,
  );
}

function isAccessDenied(error: unknown): boolean {
  return error instanceof AwsError && error.kind === "denied";
}

/** AWS refused the credentials themselves (expired, unknown token), as classified at the boundary. */
function isRejectedCredentials(error: unknown): boolean {
  return error instanceof AwsError && error.kind === "credentials";
}

/**
 * A call that carried an MFA code and was denied: the code is the likeliest culprit (mistyped,
 * already used, or from another device), so say so.
 */
async function withMfaHint<T>(
  call: Promise<T>,
  mfaSerial: string | undefined,
  tokenCode: string | undefined,
): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (tokenCode === undefined || !(error instanceof AwsError) || error.kind !== "denied") throw error;
    throw new AwsError(error.awsCode, error.message, {
      kind: error.kind,
      hint: `check the MFA code: it must be the current code of ${mfaSerial}, and each code works only once (-o, MFA_CODE or the prompt)`,
      cause: error,
    });
  }
}

interface CacheResult {
  readonly credentials: CachedCredentials;
  /** Read from the cache file rather than fetched now. */
  readonly fromCache: boolean;
}

/** Reads the cache file, else fetches and writes it; cache problems never fail the flow. */
async function cached(
  ctx: FlowContext,
  kind: CacheKind,
  name: string,
  refresh: boolean,
  fetch: () => Promise<CachedCredentials>,
): Promise<CacheResult> {
  const path = cacheFilePath(ctx.profile.files.configFile, kind, name);
  if (refresh) {
    ctx.logger.debug(`credentials: refresh requested, removing ${path}`);
    await deleteCacheFile(path).catch((error: Error) => ctx.logger.debug(`credentials: ${error.message}`));
  } else {
    const hit = await readCacheFile(path);
    if (hit && isFresh(hit, ctx.now())) {
      ctx.logger.debug(`credentials: using cached ${kind.replace("_", " ")} credentials from ${path}`);
      return { credentials: remember(hit, ctx.logger), fromCache: true };
    }
    if (hit) ctx.logger.debug(`credentials: cached credentials in ${path} have expired`);
  }
  const fresh = remember(await fetch(), ctx.logger);
  try {
    await writeCacheFile(path, fresh);
    ctx.logger.debug(`credentials: cached in ${path}`);
  } catch (error) {
    ctx.logger.debug(`credentials: cannot write ${path}: ${(error as Error).message}`);
  }
  return { credentials: fresh, fromCache: false };
}

/** Registers the secret parts with the logger so no log line can ever show them. */
function remember<T extends AwsCredentialIdentity>(credentials: T, logger: Logger): T {
  logger.addSecret(credentials.secretAccessKey);
  logger.addSecret(credentials.sessionToken);
  return credentials;
}
