import type { Logger } from "@aws-runas/wire/log.js";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { Env } from "../config/profile-name.js";
import type { RenewCredentials } from "./call-log.js";
import type { ServerClock } from "./server-clock.js";

/** Everything a client is built from; nothing comes from globals except `env` when omitted. */
export interface AwsClientOptions {
  readonly region: string;
  /** Fixed credentials, or a provider the client calls (and re-calls when they expire). */
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly logger: Logger;
  /** Read for `AWS_ENDPOINT_URL[_<SERVICE>]`; defaults to `process.env`. */
  readonly env?: Env;
  /** Explicit endpoint URL, beating the environment. */
  readonly endpoint?: string;
  /** Retry attempts, the first included (default: the SDK's, 3). */
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
