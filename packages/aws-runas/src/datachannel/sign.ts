/**
 * SigV4 for the data-channel websocket upgrade (ssm-protocol.md §3.1). Plugins since 1.2.764.0
 * sign the upgrade `GET` with service `ssmmessages`, the session's region and the caller's
 * credentials (`Authorization`, `X-Amz-Date`, `X-Amz-Security-Token` headers), unless the
 * StreamUrl is already presigned. Pure apart from hashing: the date comes from the caller.
 */

import { DATA_CHANNEL_SERVICE, Sha256 } from "@aws-runas/wire/protocol/sigv4.js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";

/** Query parameters that make a StreamUrl presigned: such a URL is dialled as is. */
const PRESIGN_PARAMS = [
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
  "X-Amz-Security-Token",
];

/** True when the URL's query carries any SigV4 presigning parameter (names compared case-insensitively). */
export function isPresignedUrl(url: string): boolean {
  const names = new Set([...new URL(url).searchParams.keys()].map((k) => k.toLowerCase()));
  return PRESIGN_PARAMS.some((p) => names.has(p.toLowerCase()));
}

/** The `Host` header a websocket client sends for `url` (the port only when not the default). */
export function hostHeader(url: URL): string {
  return url.host;
}

export interface SignUpgradeInput {
  url: string;
  region: string;
  credentials: AwsCredentialIdentity;
  /** Signing time (the caller's clock, possibly corrected to the service's). */
  date: Date;
}

/**
 * The headers that sign the upgrade request: `host`, `x-amz-date`, `authorization` and, with
 * temporary credentials, `x-amz-security-token`. The request has no body.
 */
export async function signUpgrade(input: SignUpgradeInput): Promise<Record<string, string>> {
  const url = new URL(input.url);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const signer = new SignatureV4({
    credentials: input.credentials,
    region: input.region,
    service: DATA_CHANNEL_SERVICE,
    sha256: Sha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: "GET",
      protocol: url.protocol === "wss:" ? "https:" : "http:",
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: { host: hostHeader(url) },
    },
    { signingDate: input.date },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = String(value);
  return headers;
}
