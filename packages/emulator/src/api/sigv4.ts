/**
 * SigV4 verification: parse the Authorization header, find the secret for the access key, sign
 * the received request again with `@smithy/signature-v4` (same date, scope and signed headers)
 * and compare. Request-time skew is not checked, so tests may move the emulator clock freely.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Sha256 } from "@aws-runas/wire/protocol/sigv4.js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { WorldClock } from "../world/clock.js";
import {
  expiredToken,
  incompleteSignature,
  missingAuthentication,
  signatureMismatch,
  unknownAccessKey,
  type WireProtocol,
} from "./errors.js";
import type { IdentityStore, KeyRecord } from "./identity.js";

/** The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
export interface ParsedAuthorization {
  accessKeyId: string;
  /** Scope date, `YYYYMMDD`. */
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** A received HTTP request, as much as signing needs. */
export interface ReceivedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string | string[]>;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const AUTH = /^AWS4-HMAC-SHA256\s+(.*)$/s;

/** Parses an Authorization header; returns a problem description when it is malformed. */
export function parseAuthorization(header: string): ParsedAuthorization | string {
  const m = AUTH.exec(header.trim());
  if (!m) return "Authorization header requires the AWS4-HMAC-SHA256 algorithm.";
  const parts = new Map<string, string>();
  for (const piece of (m[1] ?? "").split(",")) {
    const eq = piece.indexOf("=");
    if (eq > 0) parts.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
  }
  const credential = parts.get("Credential");
  const signedHeaders = parts.get("SignedHeaders");
  const signature = parts.get("Signature");
  if (!credential || !signedHeaders || !signature) {
    return `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${header.split(" ")[0]}`;
  }
  const scope = credential.split("/");
  if (scope.length !== 5 || scope[4] !== "aws4_request" || !/^\d{8}$/.test(scope[1] ?? "")) {
    return `Credential should be scoped to a valid date, region and service: ${credential.split("/").slice(1).join("/")}`;
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) return "Signature must be 64 hex characters.";
  return {
    accessKeyId: scope[0] ?? "",
    date: scope[1] ?? "",
    region: scope[2] ?? "",
    service: scope[3] ?? "",
    signedHeaders: signedHeaders.split(";").map((h) => h.trim().toLowerCase()),
    signature,
  };
}

/** The credential-scope service of a request (`sts`, `ec2`...), or undefined without a valid header. */
export function scopeService(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (!auth) return undefined;
  const parsed = parseAuthorization(auth);
  return typeof parsed === "string" ? undefined : parsed.service;
}

function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  return new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0, h ?? 0, mi ?? 0, s ?? 0));
}

type SignableRequest = Parameters<SignatureV4["sign"]>[0];

/** Recomputes the signature of `request` with `secret` and compares it with the one it carries. */
export async function signatureMatches(
  request: ReceivedRequest,
  auth: ParsedAuthorization,
  signingDate: Date,
  secretAccessKey: string,
  sessionToken: string | undefined,
): Promise<boolean> {
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) return false;
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey, sessionToken },
    region: auth.region,
    service: auth.service,
    sha256: Sha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  const toSign: SignableRequest = {
    method: request.method,
    protocol: "http:",
    hostname: "localhost",
    path: request.path,
    query: request.query,
    headers,
    body: request.body,
  };
  const signed = await signer.sign(toSign, {
    signingDate,
    signingRegion: auth.region,
    signingService: auth.service,
    signableHeaders: new Set(auth.signedHeaders),
  });
  const computed = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ""))?.[1] ?? "";
  return computed.length === 64 && timingSafeEqual(Buffer.from(computed), Buffer.from(auth.signature));
}

/** Result of authentication: the key record and the parsed header. */
export interface Authenticated {
  key: KeyRecord;
  auth: ParsedAuthorization;
}

/**
 * Verifies a request's SigV4 signature and credentials; throws the protocol's AWS error
 * (missing/incomplete signature, unknown key, wrong signature, expired token).
 */
export async function authenticate(
  request: ReceivedRequest,
  protocol: WireProtocol,
  identities: IdentityStore,
  clock: WorldClock,
): Promise<Authenticated> {
  const header = request.headers.authorization;
  if (!header) throw missingAuthentication(protocol);
  const auth = parseAuthorization(header);
  if (typeof auth === "string") throw incompleteSignature(protocol, auth);
  const amzDate = request.headers["x-amz-date"];
  const signingDate = typeof amzDate === "string" ? parseAmzDate(amzDate) : undefined;
  if (!signingDate || !auth.signedHeaders.includes("x-amz-date")) {
    throw incompleteSignature(
      protocol,
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  if (!auth.signedHeaders.includes("host")) {
    throw incompleteSignature(protocol, "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const key = identities.lookup(auth.accessKeyId);
  if (!key) throw unknownAccessKey(protocol);
  const tokenHeader = request.headers["x-amz-security-token"];
  const token = typeof tokenHeader === "string" ? tokenHeader : undefined;
  if (key.sessionToken !== undefined || token !== undefined) {
    const expected = Buffer.from(key.sessionToken ?? "");
    const given = Buffer.from(token ?? "");
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      throw unknownAccessKey(protocol);
  }
  const payloadHash = request.headers["x-amz-content-sha256"];
  if (typeof payloadHash === "string" && payloadHash !== "UNSIGNED-PAYLOAD") {
    if (payloadHash !== createHash("sha256").update(request.body).digest("hex"))
      throw signatureMismatch(protocol);
  }
  const signedToken = auth.signedHeaders.includes("x-amz-security-token") ? token : undefined;
  if (!(await signatureMatches(request, auth, signingDate, key.secretAccessKey, signedToken))) {
    throw signatureMismatch(protocol);
  }
  if (key.expiresAt !== undefined && clock.now() >= key.expiresAt) throw expiredToken(protocol);
  return { key, auth };
}
