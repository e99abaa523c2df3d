import type { Env } from "../config/profile-name.js";
import { SERVICES, type ServiceName } from "./services.js";

/**
 * The endpoint override for a service from the environment: `AWS_ENDPOINT_URL_<SERVICE>`, then
 * `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` — the same rules as the
 * SDK's own loader, applied to an injected environment so callers (and tests) need not touch
 * `process.env`. Pure.
 */
export function endpointFromEnv(service: ServiceName, env: Env): string | undefined {
  if (env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.trim().toLowerCase() === "true") return undefined;
  const specific = env[`AWS_ENDPOINT_URL_${SERVICES[service].envSuffix}`]?.trim();
  if (specific) return specific;
  const global = env["AWS_ENDPOINT_URL"]?.trim();
  return global || undefined;
}
