/**
 * NextToken handling shared by the list operations. A token records the offset of the next page
 * and a fingerprint of the query, so a token used with different filters is refused as AWS does.
 */
import { createHash } from "node:crypto";

/** Fingerprint of the inputs that define a result set. */
export function queryFingerprint(query: unknown): string {
  return createHash("sha256").update(JSON.stringify(query)).digest("hex").slice(0, 16);
}

/** Makes the opaque NextToken for the page starting at `offset`. */
export function encodeNextToken(offset: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ o: offset, q: fingerprint })).toString("base64url");
}

/** Reads a NextToken; returns undefined when it is not one of ours or belongs to another query. */
export function decodeNextToken(token: string, fingerprint: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      o?: unknown;
      q?: unknown;
    };
    if (
      typeof parsed.o === "number" &&
      Number.isInteger(parsed.o) &&
      parsed.o >= 0 &&
      parsed.q === fingerprint
    )
      return parsed.o;
  } catch {
    // fall through: not a token of ours
  }
  return undefined;
}

/** One page of `items` starting at `offset`, and the token for the next page if any. */
export function page<T>(
  items: readonly T[],
  offset: number,
  size: number,
  fingerprint: string,
): { items: T[]; nextToken: string | undefined } {
  const end = offset + size;
  return {
    items: items.slice(offset, end),
    nextToken: end < items.length ? encodeNextToken(end, fingerprint) : undefined,
  };
}
