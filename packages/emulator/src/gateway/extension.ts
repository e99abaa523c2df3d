/**
 * The gateway as an emulator extension: `startEmulator({ extensions: [...builtinExtensions,
 * gatewayExtension] })`, or registered in `builtinExtensions`. It serves the data-channel
 * websockets on the API server and runs the simulated agent with the emulator's pacing, faults,
 * remote hosts and KMS.
 */
import type { AgentChannelLimits as ChannelLimits } from "../agent/channel/limits.js";
import type { EmulatorContext, EmulatorExtension, ExtensionHandle } from "../extensions.js";
import { SessionGateway } from "./gateway.js";
import { registryDirectory } from "./registry.js";
import { upgradeAuthenticator } from "./upgrade-auth.js";

/** Options for tests: get hold of the gateway, fix the fault seed, shorten timeouts. */
export interface GatewayExtensionOptions {
  seed?: number;
  shell?: string;
  handshakeTimeoutMs?: number;
  limits?: Partial<ChannelLimits>;
  onStart?: (gateway: SessionGateway) => void;
}

/** Builds the extension; {@link gatewayExtension} is the default one. */
export function createGatewayExtension(options: GatewayExtensionOptions = {}): EmulatorExtension {
  return {
    name: "gateway",
    async start(ctx: EmulatorContext): Promise<ExtensionHandle> {
      const gateway = new SessionGateway({
        directory: registryDirectory(ctx.sessions, ctx.requestLog),
        agent: {
          pacing: ctx.pacing,
          remoteHosts: ctx.fixture.remoteHosts,
          kmsDecrypt: ({ ciphertextBlob, encryptionContext }) =>
            ctx.dataKeys.decryptDataKey(ciphertextBlob, encryptionContext).plaintext,
          shell: options.shell,
          handshakeTimeoutMs: options.handshakeTimeoutMs,
          limits: options.limits,
        },
        faults: ctx.faults,
        checkUpgrade: upgradeAuthenticator({
          identities: ctx.identities,
          clock: ctx.clock,
          region: ctx.fixture.region,
          required: ctx.requireSignedChannel,
        }),
        serviceNow: () => ctx.clock.now(),
        seed: options.seed,
        logger: ctx.logger,
      });
      gateway.listen(ctx.httpServer);
      options.onStart?.(gateway);
      return { close: () => gateway.close() };
    },
  };
}

/** The gateway extension with default settings. */
export const gatewayExtension: EmulatorExtension = createGatewayExtension();
