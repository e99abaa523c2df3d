import { AwsError } from "@aws-runas/wire/errors.js";
import type { Logger } from "@aws-runas/wire/log.js";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { loadProfile } from "../config/index.js";
import type { ResolvedProfile } from "../config/profile.js";
import type { Env } from "../config/profile-name.js";
import { type FlowContext, runPlanWithOrigin } from "./flows.js";
import { createMfaCodeSource, type Prompt } from "./mfa.js";
import { type CredentialPlan, planCredentials } from "./plan.js";
import { createRefreshingProvider } from "./provider.js";
import { formatExpiration, formatIdentity } from "./report.js";
import { type SdkProviderFactory, sdkProviderFactory } from "./sdk-providers.js";
import { osUserName } from "./session-name.js";
import { type StsFactory, sdkStsFactory } from "./sts.js";
import { promptOnTerminal } from "./tty-prompt.js";

/** A call refused this soon after a renewal used the old credentials: it may try the new ones. */
const RECENT_RENEWAL_MS = 60_000;

/** The global options that shape credentials (strings as typed on the command line). */
export interface CredentialFlags {
  /** `-d/--duration`: session-token lifetime (Go duration). */
  readonly duration?: string | undefined;
  /** `-a/--role-duration`: role credentials lifetime (Go duration). */
  readonly roleDuration?: string | undefined;
  /** `-o/--otp`: MFA code. */
  readonly otp?: string | undefined;
  /** `-M/--mfa-serial`. */
  readonly mfaSerial?: string | undefined;
  /** `-X/--external-id`. */
  readonly externalId?: string | undefined;
  /** `-r/--refresh`: drop the profile's own cache file first. */
  readonly refresh?: boolean | undefined;
  /** `-e/--expiration`: print when the credentials expire (stderr). */
  readonly expiration?: boolean | undefined;
  /** `-w/--whoami`: print GetCallerIdentity (stderr). */
  readonly whoami?: boolean | undefined;
}

/** What to resolve. */
export interface CredentialRequest {
  /** Profile name or role ARN from the command line; undefined → `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`, `default`. */
  readonly profile?: string | undefined;
  /** The environment (`process.env` in the CLI). */
  readonly env: Env;
  readonly flags?: CredentialFlags;
}

/** The outside world, injectable for tests; only `logger` is required. */
export interface CredentialDeps {
  readonly logger: Logger;
  /** Clock in epoch milliseconds (default `Date.now`). */
  readonly now?: () => number;
  /** Asks for the MFA code (default: `MFA token code: ` on `/dev/tty`). */
  readonly prompt?: Prompt;
  /** STS access (default: SDK clients from `src/aws`, honouring `AWS_ENDPOINT_URL[_STS]` in `env`). */
  readonly stsFactory?: StsFactory;
  /** SDK credential providers for SSO, credential_process... (default: `@aws-sdk/credential-providers`). */
  readonly sdkProviders?: SdkProviderFactory;
  /** The OS user name, last resort for RoleSessionName. */
  readonly osUser?: () => string;
  /** Where `-e` / `-w` output goes (default: stderr). */
  readonly writeErr?: (text: string) => void;
}

/** Credentials ready for the SDK client factory. */
export interface ResolvedCredentials {
  readonly profile: ResolvedProfile;
  /** Region from the environment / profile chain; undefined when nothing sets one. */
  readonly region: string | undefined;
  readonly plan: CredentialPlan;
  /** The credentials as first obtained. */
  readonly credentials: AwsCredentialIdentity;
  /** Hands out fresh credentials for the whole session, re-running the flow when they expire. */
  readonly provider: AwsCredentialIdentityProvider;
  /**
   * For `renewCredentials` of the SDK client factory: when AWS rejects cached credentials,
   * drops the cache file, gets new ones into `provider` and resolves true (false when the
   * credentials did not come from a cache, so renewing cannot help).
   */
  readonly renew: (rejected: AwsError) => Promise<boolean>;
}

/**
 * Resolves the profile (files, merge order, durations), decides the flow, obtains credentials
 * (STS, MFA, aws-runas cache) and returns them with a refreshing provider. Honours `-r`, and
 * prints `-e` / `-w` output through `writeErr`.
 */
export async function resolveCredentials(
  request: CredentialRequest,
  deps: CredentialDeps,
): Promise<ResolvedCredentials> {
  const { logger } = deps;
  const flags = request.flags ?? {};
  const now = deps.now ?? Date.now;
  const profile = await loadProfile({
    profile: request.profile,
    env: request.env,
    overrides: {
      duration: flags.duration,
      roleDuration: flags.roleDuration,
      mfaSerial: flags.mfaSerial,
      externalId: flags.externalId,
    },
    logger,
  });
  const plan = planCredentials(profile, request.env);
  logger.debug(`credentials: profile "${profile.name}" uses the ${describePlan(plan)} flow`);

  const givenCode = flags.otp ?? request.env["MFA_CODE"];
  if (givenCode && profile.mfaSerial === undefined) {
    logger.debug("credentials: an MFA code was given but the profile has no mfa_serial; it is not used");
  }
  const sts = deps.stsFactory ?? sdkStsFactory({ logger, env: request.env });
  const ctx: FlowContext = {
    profile,
    sts,
    sdkProviders: deps.sdkProviders ?? sdkProviderFactory,
    mfa: createMfaCodeSource(givenCode, deps.prompt ?? ((message) => promptOnTerminal(message)), logger),
    logger,
    now,
    osUser: deps.osUser ?? (() => osUserName(request.env)),
  };

  let lastFromCache = false;
  const load = async (refresh: boolean) => {
    const result = await runPlanWithOrigin(plan, ctx, { refresh });
    lastFromCache = result.fromCache;
    return result.credentials;
  };
  const credentials = await load(flags.refresh ?? false);
  const provider = createRefreshingProvider(({ refresh }) => load(refresh), now, credentials);
  // Cached credentials can be dead before their recorded expiry (AWS's clock, a revoked
  // session): when AWS rejects them, drop that cache file and get new ones, so the user never
  // has to. Credentials just obtained from STS are not renewed again: that would not help.
  // Calls refused with the old credentials while (or just after) they were renewed are told to
  // try again with the new ones; the client retries each call only once, so this cannot loop.
  let renewing: Promise<boolean> | undefined;
  let renewedAt = Number.NEGATIVE_INFINITY;
  const renew = async (rejected: AwsError): Promise<boolean> => {
    if (renewing) return renewing;
    if (now() - renewedAt < RECENT_RENEWAL_MS) return true;
    if (!lastFromCache) return false;
    logger.debug(`credentials: AWS rejected the cached credentials (${rejected.awsCode}); getting new ones`);
    renewing = provider.renew().then(
      () => {
        renewedAt = now();
        renewing = undefined;
        return true;
      },
      (error: unknown) => {
        renewing = undefined;
        throw error;
      },
    );
    return renewing;
  };

  const writeErr = deps.writeErr ?? ((text: string) => process.stderr.write(`${text}\n`));
  if (flags.expiration) writeErr(formatExpiration(credentials.expiration, now()));
  if (flags.whoami) {
    // STS clients of the flows have no renewer: renew here, like the client factory would.
    const whoami = () => sts(provider, profile.region).getCallerIdentity();
    const identity = await whoami().catch(async (error: unknown) => {
      if (error instanceof AwsError && error.kind === "credentials" && (await renew(error))) return whoami();
      throw error;
    });
    writeErr(formatIdentity(identity));
  }

  return { profile, region: profile.region, plan, credentials, provider, renew };
}

/** A short name for debug output. */
export function describePlan(plan: CredentialPlan): string {
  switch (plan.kind) {
    case "session-token":
      return "GetSessionToken";
    case "assume-role":
      return plan.viaSessionToken ? "GetSessionToken + AssumeRole" : "AssumeRole";
    case "base":
      return plan.base.kind === "sdk" ? `AWS SDK ${plan.base.spec.kind}` : `${plan.base.kind} keys`;
  }
}
