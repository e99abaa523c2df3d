/**
 * SSM for aws-runas: StartSession, ResumeSession, TerminateSession and
 * DescribeInstanceInformation over our own JSON 1.1 client (json/), in place of
 * @aws-sdk/client-ssm, whose loading alone cost the forwarder ~8 MiB of its idle memory.
 */
import { type Clock, type Entropy, systemClock, systemEntropy } from "../datachannel/clock.js";
import type { AwsClientOptions } from "./client-options.js";
import { awsEndpoint, endpointFromEnv } from "./endpoint.js";
import { httpSettingsFor } from "./http-settings.js";
import { type CallOptions, JsonClient } from "./json/client.js";
import { credentialSource } from "./json/credentials.js";
import { processServerClock } from "./server-clock.js";
import { SERVICES } from "./services.js";
import {
  type DescribeInstanceInformationInput,
  type DescribeInstanceInformationOutput,
  describeInstanceInformationOutput,
  type SessionIdInput,
  type SessionOutput,
  type StartSessionInput,
  sessionOutput,
} from "./ssm-shapes.js";

export type { CallOptions } from "./json/client.js";
export type * from "./ssm-shapes.js";

export interface SsmClientOptions extends AwsClientOptions {
  /** Waits between attempts (default: real timers that keep the process alive meanwhile). */
  readonly clock?: Clock;
  /** The retry jitter (default: the process's). */
  readonly entropy?: Entropy;
}

/**
 * A retry's wait is work the process has to finish: unlike the data channel's timers
 * (systemClock's are unref'd), it must keep the process alive.
 */
const waitingClock: Clock = {
  ...systemClock,
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

export class SsmClient {
  readonly #json: JsonClient;

  constructor(json: JsonClient) {
    this.#json = json;
  }

  async startSession(input: StartSessionInput, options?: CallOptions): Promise<SessionOutput> {
    return sessionOutput(await this.#json.call("StartSession", input, options));
  }

  async resumeSession(input: SessionIdInput, options?: CallOptions): Promise<SessionOutput> {
    return sessionOutput(await this.#json.call("ResumeSession", input, options));
  }

  async terminateSession(input: SessionIdInput, options?: CallOptions): Promise<void> {
    await this.#json.call("TerminateSession", input, options);
  }

  async describeInstanceInformation(
    input: DescribeInstanceInformationInput,
    options?: CallOptions,
  ): Promise<DescribeInstanceInformationOutput> {
    return describeInstanceInformationOutput(
      await this.#json.call("DescribeInstanceInformation", input, options),
    );
  }

  /** Closes kept-alive connections. */
  destroy(): void {
    this.#json.destroy();
  }
}

/** An SSM client from the same options, and with the same behaviour, as ../clients.ts' SDK clients. */
export async function createSsmClient(options: SsmClientOptions): Promise<SsmClient> {
  const env = options.env ?? process.env;
  const endpoint = options.endpoint ?? endpointFromEnv("ssm", env) ?? awsEndpoint("ssm", options.region);
  return new SsmClient(
    new JsonClient({
      service: { label: SERVICES.ssm.label, signingName: "ssm", targetPrefix: "AmazonSSM" },
      region: options.region,
      endpoint: new URL(endpoint),
      credentials: credentialSource(options.credentials, options.renewCredentials !== undefined),
      http: await httpSettingsFor(env, options.logger),
      logger: options.logger,
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.systemClockOffset !== undefined ? { systemClockOffset: options.systemClockOffset } : {}),
      renewCredentials: options.renewCredentials,
      serverClock: options.serverClock ?? processServerClock,
      clock: options.clock ?? waitingClock,
      entropy: options.entropy ?? systemEntropy,
    }),
  );
}
