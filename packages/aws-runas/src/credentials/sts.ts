/**
 * The three STS operations the flows use, behind a small interface so the flows can be tested
 * with an in-memory fake and run for real through the SDK client factory.
 */

import type { Logger } from "@aws-runas/wire/log.js";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { Env } from "../config/profile-name.js";
import type { CachedCredentials } from "./cache.js";
import { CredentialsError } from "./errors.js";

export interface GetSessionTokenInput {
  readonly durationSeconds: number;
  readonly serialNumber?: string | undefined;
  readonly tokenCode?: string | undefined;
}

export interface AssumeRoleInput {
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly durationSeconds: number;
  readonly externalId?: string | undefined;
  readonly serialNumber?: string | undefined;
  readonly tokenCode?: string | undefined;
}

export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
  readonly userId: string;
}

/** STS as the flows see it. Failures are thrown as our errors (`AwsError`). */
export interface StsApi {
  getSessionToken(input: GetSessionTokenInput): Promise<CachedCredentials>;
  assumeRole(input: AssumeRoleInput): Promise<CachedCredentials>;
  getCallerIdentity(): Promise<CallerIdentity>;
}

/** Builds an {@link StsApi} that signs with `credentials`. */
export type StsFactory = (
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
  region: string | undefined,
) => StsApi;

/** STS needs a region to sign even when the endpoint is global. */
export const DEFAULT_STS_REGION = "us-east-1";

/** Options of {@link sdkStsFactory}. */
export interface SdkStsOptions {
  readonly logger: Logger;
  /** For `AWS_ENDPOINT_URL[_STS]`; defaults to `process.env`. */
  readonly env?: Env;
  /** Milliseconds to add to the local clock when signing. */
  readonly systemClockOffset?: number;
}

/** The real thing: STS through the SDK client factory (endpoint overrides, call logging). */
export function sdkStsFactory(options: SdkStsOptions): StsFactory {
  return (credentials, region) => {
    const send = async <T>(
      run: (sdk: typeof import("@aws-sdk/client-sts"), client: StsClient) => Promise<T>,
    ) => {
      const [{ createClient }, sdk] = await Promise.all([
        import("../aws/clients.js"),
        import("@aws-sdk/client-sts"),
      ]);
      const client = await createClient("sts", {
        region: region ?? DEFAULT_STS_REGION,
        credentials,
        logger: options.logger,
        ...(options.env === undefined ? {} : { env: options.env }),
        ...(options.systemClockOffset === undefined ? {} : { systemClockOffset: options.systemClockOffset }),
      });
      // Failures arrive classified (AwsError) from the client factory's boundary.
      try {
        return await run(sdk, client);
      } finally {
        client.destroy();
      }
    };
    return {
      getSessionToken: (input) =>
        send(async (sdk, client) => {
          const out = await client.send(
            new sdk.GetSessionTokenCommand({
              DurationSeconds: input.durationSeconds,
              SerialNumber: input.serialNumber,
              TokenCode: input.tokenCode,
            }),
          );
          return credentialsFrom(out.Credentials, "GetSessionToken");
        }),
      assumeRole: (input) =>
        send(async (sdk, client) => {
          const out = await client.send(
            new sdk.AssumeRoleCommand({
              RoleArn: input.roleArn,
              RoleSessionName: input.roleSessionName,
              DurationSeconds: input.durationSeconds,
              ExternalId: input.externalId,
              SerialNumber: input.serialNumber,
              TokenCode: input.tokenCode,
            }),
          );
          return credentialsFrom(out.Credentials, "AssumeRole");
        }),
      getCallerIdentity: () =>
        send(async (sdk, client) => {
          const out = await client.send(new sdk.GetCallerIdentityCommand({}));
          return { account: out.Account ?? "", arn: out.Arn ?? "", userId: out.UserId ?? "" };
        }),
    };
  };
}

type StsClient = import("@aws-sdk/client-sts").STSClient;

interface SdkCredentials {
  AccessKeyId?: string | undefined;
  SecretAccessKey?: string | undefined;
  SessionToken?: string | undefined;
  Expiration?: Date | undefined;
}

function credentialsFrom(c: SdkCredentials | undefined, operation: string): CachedCredentials {
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
    throw new CredentialsError(
      "CREDENTIALS_BAD_RESPONSE",
      `STS ${operation} returned no complete credentials`,
    );
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}
