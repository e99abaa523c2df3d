import type { Logger } from "@aws-runas/wire/log.js";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { EC2InstanceConnectClient } from "@aws-sdk/client-ec2-instance-connect";
import type { KMSClient } from "@aws-sdk/client-kms";
import type { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { addCallLogging, type RenewCredentials } from "./call-log.js";
import type { AwsClientOptions } from "./client-options.js";
import { endpointFromEnv } from "./endpoint.js";
import { httpSettingsFor } from "./http-settings.js";
import type { HttpSettings } from "./json/exchange.js";
import { addServerClock, processServerClock } from "./server-clock.js";
import { SERVICES, type ServiceName } from "./services.js";
import type { SsmClient } from "./ssm-client.js";

export type { AwsClientOptions } from "./client-options.js";

/**
 * The client behind each {@link ServiceName}: SDK clients, except SSM, our own small JSON
 * client (ssm-client.ts) — the forwarder's only service once a session runs, and the SDK's
 * SSM package alone cost it ~8 MiB of memory.
 */
export interface AwsClients {
  ssm: SsmClient;
  ec2: EC2Client;
  sts: STSClient;
  "ec2-instance-connect": EC2InstanceConnectClient;
  kms: KMSClient;
}

type ClientConfig = {
  requestHandler?: HttpSettings;
  region: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  endpoint?: string;
  maxAttempts?: number;
  systemClockOffset?: number;
};

type SdkService = Exclude<ServiceName, "ssm">;

type Loader<S extends SdkService> = (
  config: ClientConfig,
  logger: Logger,
  renew: RenewCredentials | undefined,
) => Promise<AwsClients[S]>;

type AnySdkClient = AwsClients[SdkService];

/**
 * Each client package is imported only when a command first needs that service, so `--help`
 * and commands that never touch (say) EC2 do not pay for loading it.
 */
const LOADERS: { readonly [S in SdkService]: Loader<S> } = {
  ec2: async (c, logger, renew) => {
    const client = new (await import("@aws-sdk/client-ec2")).EC2Client(c);
    addCallLogging(client.middlewareStack, SERVICES.ec2.label, logger, undefined, renew);
    return client;
  },
  sts: async (c, logger, renew) => {
    const client = new (await import("@aws-sdk/client-sts")).STSClient(c);
    addCallLogging(client.middlewareStack, SERVICES.sts.label, logger, undefined, renew);
    return client;
  },
  "ec2-instance-connect": async (c, logger, renew) => {
    const client = new (await import("@aws-sdk/client-ec2-instance-connect")).EC2InstanceConnectClient(c);
    addCallLogging(client.middlewareStack, SERVICES["ec2-instance-connect"].label, logger, undefined, renew);
    return client;
  },
  kms: async (c, logger, renew) => {
    const client = new (await import("@aws-sdk/client-kms")).KMSClient(c);
    addCallLogging(client.middlewareStack, SERVICES.kms.label, logger, undefined, renew);
    return client;
  },
};

/**
 * Builds the client for `service` from explicit options: region, credentials, endpoint
 * override (`AWS_ENDPOINT_URL_<SERVICE>` / `AWS_ENDPOINT_URL` from `env`), and debug logging
 * of every call. No client is shared or cached; call `destroy()` when done.
 */
export async function createClient<S extends ServiceName>(
  service: S,
  options: AwsClientOptions,
): Promise<AwsClients[S]> {
  const endpoint = options.endpoint ?? endpointFromEnv(service, options.env ?? process.env);
  if (endpoint !== undefined) options.logger.debug(`aws: ${SERVICES[service].label} endpoint ${endpoint}`);
  if (service === "ssm") {
    const { createSsmClient } = await import("./ssm-client.js");
    return (await createSsmClient({
      ...options,
      ...(endpoint !== undefined ? { endpoint } : {}),
    })) as AwsClients[S];
  }
  return createSdkClient(service as SdkService, options, endpoint) as Promise<AwsClients[S]>;
}

async function createSdkClient<S extends SdkService>(
  service: S,
  options: AwsClientOptions,
  endpoint: string | undefined,
): Promise<AwsClients[S]> {
  const config: ClientConfig = { region: options.region, credentials: sdkCredentials(options) };
  if (endpoint !== undefined) config.endpoint = endpoint;
  if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
  if (options.systemClockOffset !== undefined) config.systemClockOffset = options.systemClockOffset;
  config.requestHandler = await httpSettingsFor(options.env ?? process.env, options.logger);
  const client = await LOADERS[service](config, options.logger, options.renewCredentials);
  addServerClock(
    (client as AnySdkClient).middlewareStack as never,
    options.serverClock ?? processServerClock,
  );
  return client;
}

/**
 * The SDK keeps what a credentials provider returned until its `expiration` by its own clock,
 * so credentials renewed after AWS rejected them would never be picked up. With a renewer the
 * provider is marked as memoized already: the SDK asks it on every call, and the provider
 * (createRefreshingProvider in src/credentials) does its own caching.
 */
function sdkCredentials(options: AwsClientOptions): AwsCredentialIdentity | AwsCredentialIdentityProvider {
  const { credentials } = options;
  if (typeof credentials !== "function" || options.renewCredentials === undefined) return credentials;
  return Object.assign((identityProperties?: Record<string, unknown>) => credentials(identityProperties), {
    memoized: true,
  });
}
