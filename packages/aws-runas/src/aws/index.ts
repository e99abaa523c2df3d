/**
 * The AWS boundary: one factory for the service clients (SDK clients, and our own for SSM;
 * explicit region, credentials, endpoint overrides, call logging; no globals) and the
 * translation of their exceptions into our errors.
 */
export { operationOf, type RenewCredentials } from "./call-log.js";
export { type AwsClientOptions, type AwsClients, createClient } from "./clients.js";
export { endpointFromEnv } from "./endpoint.js";
export { type AwsErrorKind, awsErrorFrom, classifyAwsError, isRetryable } from "./errors.js";
export { SERVICES, type ServiceName } from "./services.js";
