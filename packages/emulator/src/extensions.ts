/**
 * Extension points of the emulator: parts that start after the API server is listening and
 * share its state. The websocket gateway (`src/emulator/gateway/`) attaches to
 * `ctx.httpServer`'s `upgrade` event; the DNS server (`src/emulator/dns/`) starts its own socket
 * on `ctx.dnsPort` and returns `RUNAS_DNS_SERVERS` in `env`. This file holds only the interfaces:
 * the emulator's index wires the gateway and DNS in, so they and it never import each other.
 */
import type { Server } from "node:http";
import type { Logger } from "@aws-runas/wire/log.js";
import type { IdentityStore } from "./api/identity.js";
import type { RequestLog } from "./api/request-log.js";
import type { AuthorizedKeyStore } from "./authorized-keys.js";
import type { AdjustableClock } from "./clock.js";
import type { Fixture } from "./fixture/types.js";
import type { DataKeyService } from "./kms-keys.js";
import type { FaultConfig, Pacing } from "./options.js";
import type { SessionRegistry } from "./sessions.js";

/** Shared state handed to every extension. */
export interface EmulatorContext {
  fixture: Fixture;
  sessions: SessionRegistry;
  clock: AdjustableClock;
  /** KMS: the agent's `decryptDataKey` for the encryption handshake. */
  dataKeys: DataKeyService;
  authorizedKeys: AuthorizedKeyStore;
  faults: FaultConfig;
  /** Who holds which access keys (the gateway checks signed upgrades against it). */
  identities: IdentityStore;
  /** `--require-signed-channel`: the gateway refuses unsigned websocket upgrades. */
  requireSignedChannel: boolean;
  pacing: Pacing;
  /** Requested DNS port (0 = any free port). */
  dnsPort: number;
  /** The listening API server; websockets arrive on its `upgrade` event. */
  httpServer: Server;
  port: number;
  /** `http://127.0.0.1:<port>`. */
  endpointUrl: string;
  stateDir: string;
  logger: Logger;
  /** The request log of `GET /_emulator/requests` (the gateway adds the clients' flags). */
  requestLog?: RequestLog;
}

/** A started extension. */
export interface ExtensionHandle {
  /** Extra `export` lines (e.g. `RUNAS_DNS_SERVERS`). */
  env?: Record<string, string>;
  /** Stops it (sockets, timers, child processes). Called once, in reverse start order. */
  close(): Promise<void>;
}

/** Something that runs alongside the API server. */
export interface EmulatorExtension {
  readonly name: string;
  start(ctx: EmulatorContext): Promise<ExtensionHandle>;
}
