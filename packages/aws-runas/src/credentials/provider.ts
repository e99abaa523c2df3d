import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { isFresh } from "./cache.js";

/** A provider that can also be told to replace its credentials at once. */
export interface RefreshingProvider extends AwsCredentialIdentityProvider {
  /**
   * Loads new credentials now (`load({ refresh: true })`) even if the current ones look fresh —
   * for when AWS rejected them — and hands those out from then on.
   */
  renew(): Promise<AwsCredentialIdentity>;
}

/**
 * A provider that hands out the current credentials while they are fresh and re-runs `load`
 * (which reuses the file caches) when they are about to expire — so a session that outlives
 * its credentials keeps working. Concurrent callers share one reload; a failed reload is not
 * remembered, so the next call tries again.
 */
export function createRefreshingProvider(
  load: (options: { readonly refresh: boolean }) => Promise<AwsCredentialIdentity>,
  now: () => number,
  initial?: AwsCredentialIdentity,
): RefreshingProvider {
  let current = initial;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const reload = (refresh: boolean): Promise<AwsCredentialIdentity> => {
    pending ??= load({ refresh }).then(
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
  const provider = async () => {
    if (current && isFresh(current, now())) return current;
    return reload(false);
  };
  return Object.assign(provider, { renew: () => reload(true) });
}
