import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { isFresh } from "./cache.js";

/**
 * A provider that hands out the current credentials while they are fresh and re-runs `load`
 * (which reuses the file caches) when they are about to expire — so a session that outlives
 * its credentials keeps working. Concurrent callers share one reload; a failed reload is not
 * remembered, so the next call tries again.
 */
export function createRefreshingProvider(
  load: () => Promise<AwsCredentialIdentity>,
  now: () => number,
  initial?: AwsCredentialIdentity,
): AwsCredentialIdentityProvider {
  let current = initial;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    if (current && isFresh(current, now())) return current;
    pending ??= load().then(
      (credentials) => {
        current = credentials;
        pending = undefined;
        return credentials;
      },
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
}
