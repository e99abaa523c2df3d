/**
 * SigV4 for a JSON API call, with `@smithy/signature-v4` and node:crypto's SHA-256 as the
 * data-channel upgrade is signed (../../datachannel/sign.ts): `host`, `content-type`,
 * `x-amz-target`, `x-amz-date` and, for temporary credentials, `x-amz-security-token` are
 * signed, with the body's hash. The date is the caller's (the service's clock, as learned).
 */
import { Sha256 } from "@aws-runas/wire/protocol/sigv4.js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";

export interface SignInput {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly region: string;
  /** The credential scope's service (`ssm`). */
  readonly service: string;
  readonly credentials: AwsCredentialIdentity;
  readonly date: Date;
}

/** The request's headers with the signing ones added, all in lower case. */
export async function signRequest(input: SignInput): Promise<Record<string, string>> {
  const { url } = input;
  const signer = new SignatureV4({
    credentials: input.credentials,
    region: input.region,
    service: input.service,
    sha256: Sha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { ...input.headers, host: url.host },
      body: input.body,
    },
    { signingDate: input.date },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = String(value);
  return headers;
}
