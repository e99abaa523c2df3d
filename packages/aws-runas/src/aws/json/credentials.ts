/**
 * The credentials of each call, as the SDK resolves them: fixed ones as they are; a provider's
 * answer kept until five minutes before it expires — unless a renewer is at work, whose
 * provider does its own caching and must be asked on every call (../clients.ts says why).
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

/** Credentials this close to their expiry are fetched again. */
const EXPIRY_WINDOW_MS = 5 * 60 * 1000;

export type CredentialSource = () => Promise<AwsCredentialIdentity>;

export function credentialSource(
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
  askEveryCall: boolean,
  now: () => number = Date.now,
): CredentialSource {
  if (typeof credentials !== "function") return () => Promise.resolve(credentials);
  if (askEveryCall) return () => credentials();
  let kept: AwsCredentialIdentity | undefined;
  return async () => {
    const expiration = kept?.expiration?.getTime();
    if (kept && (expiration === undefined || expiration - now() > EXPIRY_WINDOW_MS)) return kept;
    kept = await credentials();
    return kept;
  };
}
