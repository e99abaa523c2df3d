/** The credentials and region a session command runs with (cli-reference §1–2). */

import { RunasError } from "@aws-runas/wire/errors.js";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import type { RenewCredentials } from "../../aws/index.js";
import { processServerClock } from "../../aws/server-clock.js";
import { resolveCredentials } from "../../credentials/index.js";
import type { RunContext } from "../context.js";
import type { CredentialInput } from "../inputs.js";

export interface CommandCredentials {
  region: string;
  credentials: AwsCredentialIdentityProvider;
  /** Replaces cached credentials AWS rejected (for the client factory's `renewCredentials`). */
  renewCredentials: RenewCredentials;
}

export async function resolveCommandCredentials(
  input: CredentialInput,
  ctx: RunContext,
): Promise<CommandCredentials> {
  const g = input.global;
  const resolved = await resolveCredentials(
    {
      profile: input.profile,
      env: ctx.env,
      flags: {
        duration: g.sessionTokenDuration,
        roleDuration: g.roleDuration,
        otp: g.mfaCode,
        mfaSerial: g.mfaSerial,
        externalId: g.externalId,
        refresh: g.refresh,
        expiration: g.showExpiration,
        whoami: g.whoami,
      },
    },
    {
      logger: ctx.logger,
      writeErr: (text) => ctx.stderr.write(`${text}\n`),
      // Expiry is judged on the service's clock (learned from response Date headers), so a session
      // that outlives its credentials refreshes them before AWS would refuse them.
      now: () => processServerClock.now(),
    },
  );
  if (!resolved.region) {
    throw new RunasError("NO_REGION", `no AWS region for profile "${resolved.profile.name}"`, {
      hint: "set AWS_REGION, or region = ... in the profile (or its source profile, or [default])",
      exitCode: 2,
    });
  }
  return { region: resolved.region, credentials: resolved.provider, renewCredentials: resolved.renew };
}
