/**
 * SigV4 on the data-channel upgrade (ssm-protocol.md §3.1): current plugins sign the websocket
 * `GET` with service `ssmmessages`. When a request carries a signature it is checked exactly as
 * the emulator's APIs check theirs (unknown key, wrong secret, expired token); with
 * `--require-signed-channel` an unsigned upgrade is refused too. Presigned StreamUrls are not
 * handed out by the emulator, so only the header form is accepted.
 */
import type { IncomingMessage } from "node:http";
import { DATA_CHANNEL_SERVICE } from "@aws-runas/wire/protocol/sigv4.js";
import { ApiError } from "../api/errors.js";
import type { IdentityStore } from "../api/identity.js";
import { authenticate, type ReceivedRequest } from "../api/sigv4.js";
import type { WorldClock } from "../world/clock.js";

/** Why an upgrade is refused, or undefined when it may go ahead. */
export type UpgradeCheck = (request: IncomingMessage) => Promise<string | undefined>;

export interface UpgradeAuthOptions {
  identities: IdentityStore;
  clock: WorldClock;
  /** The region the signature's scope must name. */
  region: string;
  /** Refuse upgrades that carry no signature at all. */
  required: boolean;
}

export function upgradeAuthenticator(options: UpgradeAuthOptions): UpgradeCheck {
  return async (request) => {
    if (request.headers.authorization === undefined) {
      return options.required ? "the upgrade request is not signed (SigV4 required)" : undefined;
    }
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const received: ReceivedRequest = {
      method: request.method ?? "GET",
      path: url.pathname,
      query,
      headers: request.headers,
      body: Buffer.alloc(0),
    };
    try {
      const { auth } = await authenticate(received, "json", options.identities, options.clock);
      if (auth.service !== DATA_CHANNEL_SERVICE)
        return `the signature is scoped to service "${auth.service}", not ${DATA_CHANNEL_SERVICE}`;
      if (auth.region !== options.region)
        return `the signature is scoped to region "${auth.region}", not ${options.region}`;
      return undefined;
    } catch (error) {
      if (error instanceof ApiError) return `${error.awsCode}: ${error.message}`;
      throw error;
    }
  };
}
