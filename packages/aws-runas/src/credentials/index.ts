/**
 * Credentials with aws-runas semantics: GetSessionToken / AssumeRole flows with MFA on the
 * terminal, the aws-runas-compatible cache, the SDK's providers for SSO and friends, and a
 * provider that refreshes for long sessions. Entry point: {@link resolveCredentials}.
 */
export {
  arnCacheName,
  type CachedCredentials,
  type CacheKind,
  cacheFilePath,
  EXPIRY_MARGIN_MS,
  formatCacheText,
  parseCacheText,
} from "./cache.js";
export { CredentialsError, type CredentialsErrorCode } from "./errors.js";
export { createMfaCodeSource, MFA_PROMPT, type MfaCodeSource, type Prompt } from "./mfa.js";
export { type BaseCredentials, type CredentialPlan, planCredentials, type StaticKeys } from "./plan.js";
export { createRefreshingProvider } from "./provider.js";
export { formatExpiration, formatIdentity } from "./report.js";
export {
  type CredentialDeps,
  type CredentialFlags,
  type CredentialRequest,
  describePlan,
  type ResolvedCredentials,
  resolveCredentials,
} from "./resolve.js";
export {
  type SdkProviderContext,
  type SdkProviderFactory,
  type SdkProviderSpec,
  sdkProviderFactory,
} from "./sdk-providers.js";
export { chooseSessionName, sanitizeSessionName, userNameFromArn } from "./session-name.js";
export {
  type AssumeRoleInput,
  type CallerIdentity,
  type GetSessionTokenInput,
  type StsApi,
  type StsFactory,
  sdkStsFactory,
} from "./sts.js";
export { CONTROLLING_TERMINAL, NoTerminalError, promptOnTerminal } from "./tty-prompt.js";
