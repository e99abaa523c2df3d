/**
 * What API handlers get: the emulator's shared state and the authenticated request.
 */

import type { Fixture } from "../fixture/types.js";
import type { FaultConfig } from "../program/options.js";
import type { AuthorizedKeyStore } from "../world/authorized-keys.js";
import type { WorldClock } from "../world/clock.js";
import type { DataKeyService } from "../world/kms-keys.js";
import type { SessionRegistry } from "../world/sessions.js";
import type { WireProtocol } from "./errors.js";
import type { IdentityStore, KeyRecord, Principal } from "./identity.js";
import type { XmlValue } from "./xml.js";

/** Shared state of one emulator, as the APIs see it. */
export interface ApiContext {
  fixture: Fixture;
  clock: WorldClock;
  identities: IdentityStore;
  sessions: SessionRegistry;
  dataKeys: DataKeyService;
  authorizedKeys: AuthorizedKeyStore;
  faults: FaultConfig;
  /** Base of StreamUrls: `ws://127.0.0.1:<port>`. */
  websocketBase(): string;
}

/** Signing-name of each emulated service (the SigV4 credential-scope service). */
export type ServiceName = "ssm" | "kms" | "ec2-instance-connect" | "sts" | "ec2";

/** One authenticated API call. */
export interface ApiCall {
  protocol: WireProtocol;
  service: ServiceName;
  operation: string;
  caller: Principal;
  key: KeyRecord;
  requestId: string;
  /** JSON 1.1 request body (empty object for query requests). */
  json: Record<string, unknown>;
  /** Query-protocol parameters (empty for JSON requests). */
  params: URLSearchParams;
}

/** A JSON 1.1 operation: returns the response object. */
export type JsonOperation = (
  call: ApiCall,
  ctx: ApiContext,
) => Promise<Record<string, unknown>> | Record<string, unknown>;

/**
 * A query operation: returns the response's content. STS content goes into `<OpResult>`; EC2
 * content goes straight under `<OpResponse>` next to `<requestId>`.
 */
export type QueryOperation = (
  call: ApiCall,
  ctx: ApiContext,
) => Promise<{ [name: string]: XmlValue }> | { [name: string]: XmlValue };
