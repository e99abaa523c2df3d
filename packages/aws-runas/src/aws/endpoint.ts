import { ExitCode, RunasError } from "@aws-runas/wire/errors.js";
import type { Env } from "../config/profile-name.js";
import { SERVICES, type ServiceName } from "./services.js";

/**
 * The endpoint override for a service from the environment: `AWS_ENDPOINT_URL_<SERVICE>`, then
 * `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` — the same rules as the
 * SDK's own loader, applied to an injected environment so callers (and tests) need not touch
 * `process.env`. A value that is not an http(s) URL is a usage error naming the variable (the
 * SDK would only say "Invalid URL"). Pure.
 */
export function endpointFromEnv(service: ServiceName, env: Env): string | undefined {
  if (env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.trim().toLowerCase() === "true") return undefined;
  const specificName = `AWS_ENDPOINT_URL_${SERVICES[service].envSuffix}`;
  const specific = env[specificName]?.trim();
  if (specific) return checkedUrl(specific, specificName);
  const global = env["AWS_ENDPOINT_URL"]?.trim();
  return global ? checkedUrl(global, "AWS_ENDPOINT_URL") : undefined;
}

function checkedUrl(value: string, name: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    throw new RunasError("BAD_ENDPOINT_URL", `${name} ${JSON.stringify(value)} is not an http(s) URL`, {
      hint: `set ${name} to a URL such as https://host:port, or unset it to use the AWS endpoints`,
      exitCode: ExitCode.usage,
    });
  }
  return value;
}

/** A service's public AWS endpoint in `region` (the `amazonaws.com.cn` domain for China). Pure. */
export function awsEndpoint(prefix: string, region: string): string {
  return `https://${prefix}.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}
