import type { Logger } from "@aws-runas/wire/log.js";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { EC2InstanceConnectClient } from "@aws-sdk/client-ec2-instance-connect";
import type { KMSClient } from "@aws-sdk/client-kms";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { Env } from "../config/profile-name.js";
import { addCallLogging, type RenewCredentials } from "./call-log.js";
import { endpointFromEnv } from "./endpoint.js";
import { ProxyingHttpAgent, TunnelingHttpsAgent } from "./proxy-agent.js";
import { describeProxy, proxySettingsFromEnv } from "./proxy-env.js";
import { addServerClock, processServerClock, type ServerClock } from "./server-clock.js";
import { SERVICES, type ServiceName } from "./services.js";

/** The SDK client class behind each {@link ServiceName}. */
export interface AwsClients {
  ssm: SSMClient;
  ec2: EC2Client;
  sts: STSClient;
  "ec2-instance-connect": EC2InstanceConnectClient;
  kms: KMSClient;
}

/** Everything a client is built from; nothing comes from globals except `env` when omitted. */
export interface AwsClientOptions {
  readonly region: string;
  /** Fixed credentials, or a provider the SDK calls (and re-calls when they expire). */
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly logger: Logger;
  /** Read for `AWS_ENDPOINT_URL[_<SERVICE>]`; defaults to `process.env`. */
  readonly env?: Env;
  /** Explicit endpoint URL, beating the environment. */
  readonly endpoint?: string;
  /** SDK retry attempts (default: the SDK's, 3). */
  readonly maxAttempts?: number;
  /** Milliseconds to add to the local clock when signing (a skewed or simulated clock). */
  readonly systemClockOffset?: number;
  /**
   * Replaces credentials AWS rejected (e.g. cached ones that expired early); the call is then
   * retried once. With it, a provider in `credentials` is asked on every call.
   */
  readonly renewCredentials?: RenewCredentials;
  /** Learns the service's clock from response `Date` headers (default: the process-wide one). */
  readonly serverClock?: ServerClock;
}

type ClientConfig = {
  requestHandler?: {
    httpAgent?: import("node:http").Agent;
    httpsAgent?: import("node:https").Agent;
    connectionTimeout?: number;
    requestTimeout?: number;
  };
  region: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  endpoint?: string;
  maxAttempts?: number;
  systemClockOffset?: number;
};

type Loader<S extends ServiceName> = (
  config: ClientConfig,
  logger: Logger,
  renew: RenewCredentials | undefined,
) => Promise<AwsClients[S]>;

type AnyClient = AwsClients[ServiceName];

/**
 * Each client package is imported only when a command first needs that service, so `--help`
 * and commands that never touch (say) EC2 do not pay for loading it.
 */
const LOADERS: { readonly [S in ServiceName]: Loader<S> } = {
  ssm: async (c, logger, renew) => {
    const client = new (await import("@aws-sdk/client-ssm")).SSMClient(c);
    addCallLogging(client.middlewareStack, SERVICES.ssm.label, logger, undefined, renew);
    return client;
  },
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
 * Builds an SDK client for `service` from explicit options: region, credentials, endpoint
 * override (`AWS_ENDPOINT_URL_<SERVICE>` / `AWS_ENDPOINT_URL` from `env`), and debug logging
 * of every call. No client is shared or cached; call `destroy()` when done.
 */
export async function createClient<S extends ServiceName>(
  service: S,
  options: AwsClientOptions,
): Promise<AwsClients[S]> {
  const endpoint = options.endpoint ?? endpointFromEnv(service, options.env ?? process.env);
  const config: ClientConfig = { region: options.region, credentials: sdkCredentials(options) };
  if (endpoint !== undefined) config.endpoint = endpoint;
  if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
  if (options.systemClockOffset !== undefined) config.systemClockOffset = options.systemClockOffset;
  config.requestHandler = await requestHandlerFor(options.env ?? process.env, options.logger);

  if (endpoint !== undefined) options.logger.debug(`aws: ${SERVICES[service].label} endpoint ${endpoint}`);
  const client = await LOADERS[service](config, options.logger, options.renewCredentials);
  addServerClock((client as AnyClient).middlewareStack as never, options.serverClock ?? processServerClock);
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

/** Connecting may take this long (a dead network fails here rather than hanging). */
const CONNECTION_TIMEOUT_MS = 10_000;
/** A request whose socket stays silent this long fails (retried by the SDK, then by resume). */
const REQUEST_TIMEOUT_MS = 60_000;

const caFiles = new Map<string, Promise<Buffer | undefined>>();

/**
 * The HTTP handler settings of every client: timeouts, the proxy from `HTTPS_PROXY` /
 * `HTTP_PROXY` / `NO_PROXY` (see proxy-env.ts), and `AWS_CA_BUNDLE` as the trusted CAs of
 * https:// calls (the SDK for JavaScript does not read that variable itself).
 */
async function requestHandlerFor(
  env: Env,
  logger: Logger,
): Promise<NonNullable<ClientConfig["requestHandler"]>> {
  const handler: NonNullable<ClientConfig["requestHandler"]> = {
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
  };
  const settings = proxySettingsFromEnv(env);
  const caPath = env.AWS_CA_BUNDLE;
  let ca: Buffer | undefined;
  if (caPath) {
    let pending = caFiles.get(caPath);
    if (!pending) {
      // An unreadable bundle is reported by the command before any client exists.
      pending = import("node:fs/promises")
        .then(
          (fs) => fs.readFile(caPath),
          () => undefined,
        )
        .catch(() => undefined);
      caFiles.set(caPath, pending);
    }
    ca = await pending;
  }
  if (settings.https) logger.debug(`aws: https:// through the proxy ${describeProxy(settings.https)}`);
  if (settings.http) logger.debug(`aws: http:// through the proxy ${describeProxy(settings.http)}`);
  if (settings.http) handler.httpAgent = new ProxyingHttpAgent(settings);
  if (settings.https || ca) handler.httpsAgent = new TunnelingHttpsAgent(settings, ca);
  return handler;
}
