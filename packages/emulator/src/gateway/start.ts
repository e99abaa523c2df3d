/**
 * Starts the Session Manager gateway on the emulator's API server: it serves the data-channel
 * websockets there and runs the simulated agent with the emulator's pacing, faults, remote hosts
 * and KMS.
 */
import type { Server } from "node:http";
import type { Logger } from "@aws-runas/wire/log.js";
import type { AgentChannelLimits as ChannelLimits } from "../agent/channel/limits.js";
import type { IdentityStore } from "../api/identity.js";
import type { RequestLog } from "../api/request-log.js";
import type { Fixture } from "../fixture/types.js";
import type { FaultConfig, Pacing } from "../program/options.js";
import type { WorldClock } from "../world/clock.js";
import type { DataKeyService } from "../world/kms-keys.js";
import type { SessionRegistry } from "../world/sessions.js";
import { SessionGateway } from "./gateway.js";
import { registryDirectory } from "./registry.js";
import { upgradeAuthenticator } from "./upgrade-auth.js";

/** Options for tests: get hold of the gateway, fix the fault seed, shorten timeouts. */
export interface GatewayTestOptions {
  seed?: number;
  shell?: string;
  handshakeTimeoutMs?: number;
  limits?: Partial<ChannelLimits>;
  onStart?: (gateway: SessionGateway) => void;
}

/** The parts of the emulated world the gateway and its agent use. */
export interface GatewayWorld {
  fixture: Fixture;
  sessions: SessionRegistry;
  clock: WorldClock;
  dataKeys: DataKeyService;
  identities: IdentityStore;
  faults: FaultConfig;
  pacing: Pacing;
  /** `--require-signed-channel`: refuse unsigned websocket upgrades. */
  requireSignedChannel: boolean;
  requestLog: RequestLog;
  logger: Logger;
}

export function startGateway(
  httpServer: Server,
  world: GatewayWorld,
  options: GatewayTestOptions = {},
): SessionGateway {
  const gateway = new SessionGateway({
    directory: registryDirectory(world.sessions, world.requestLog),
    agent: {
      pacing: world.pacing,
      remoteHosts: world.fixture.remoteHosts,
      kmsDecrypt: ({ ciphertextBlob, encryptionContext }) =>
        world.dataKeys.decryptDataKey(ciphertextBlob, encryptionContext).plaintext,
      shell: options.shell,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      limits: options.limits,
    },
    faults: world.faults,
    checkUpgrade: upgradeAuthenticator({
      identities: world.identities,
      clock: world.clock,
      region: world.fixture.region,
      required: world.requireSignedChannel,
    }),
    serviceNow: () => world.clock.now(),
    seed: options.seed,
    logger: world.logger,
  });
  gateway.listen(httpServer);
  options.onStart?.(gateway);
  return gateway;
}
