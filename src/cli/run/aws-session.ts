/**
 * What every session command does before its session starts: credentials and region for the
 * profile, SDK clients built on demand (each client package loads only when first used), and
 * the target turned into an instance id.
 */
import { readFile } from "node:fs/promises";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { type AwsClients, createClient, type ServiceName } from "../../aws/index.js";
import { processServerClock } from "../../aws/server-clock.js";
import type { DataChannel } from "../../datachannel/index.js";
import { signUpgrade } from "../../datachannel/sign.js";
import { RunasError } from "../../errors.js";
import { openSessionChannel, type StartedSession, terminateSession } from "../../session/start.js";
import {
  createAwsLookups,
  createDnsLookupFromEnv,
  type ResolvedTarget,
  resolveTarget,
} from "../../target/index.js";
import type { RunContext } from "../context.js";
import type { SsmInput } from "../inputs.js";
import { resolveCommandCredentials } from "./credentials.js";

// The SDK warns on every run under Node 20 about its future support policy: noise for users of
// a CLI, who cannot act on it per command. Users can still opt back in by setting it to "false".
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export interface AwsSession {
  region: string;
  /** `AWS_CA_BUNDLE`, read before any session is started so a bad path fails early. */
  caBundle: Buffer | undefined;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** The SDK client of a service, built once on first use. */
  client<S extends ServiceName>(service: S): Promise<AwsClients[S]>;
  /** Current credentials as plain values (for the external plugin's environment). */
  currentCredentials(): Promise<AwsCredentialIdentity>;
  destroy(): void;
}

export async function openAwsSession(input: SsmInput, ctx: RunContext): Promise<AwsSession> {
  const caBundle = await readCaBundle(ctx.env.AWS_CA_BUNDLE);
  const { region, credentials } = await resolveCommandCredentials(input, ctx);
  const clients = new Map<ServiceName, Promise<AwsClients[ServiceName]>>();
  return {
    region,
    caBundle,
    credentials,
    client<S extends ServiceName>(service: S): Promise<AwsClients[S]> {
      let client = clients.get(service);
      if (!client) {
        client = createClient(service, { region, credentials, logger: ctx.logger, env: ctx.env });
        clients.set(service, client);
      }
      return client as Promise<AwsClients[S]>;
    },
    async currentCredentials() {
      return typeof credentials === "function" ? credentials() : credentials;
    },
    destroy() {
      for (const client of clients.values()) void client.then((c) => c.destroy());
    },
  };
}

/** Turns the user's target into one running instance; ids make no API call at all. */
export async function resolveInstance(
  target: string,
  aws: AwsSession,
  ctx: RunContext,
): Promise<ResolvedTarget> {
  let lookups: ReturnType<typeof createAwsLookups> | undefined;
  const getLookups = async () => {
    lookups ??= createAwsLookups({ ec2: await aws.client("ec2"), ssm: await aws.client("ssm") });
    return lookups;
  };
  const resolved = await resolveTarget(target, {
    describeInstances: async (filters) => (await getLookups()).describeInstances(filters),
    describeInstanceInformation: async (ids) => (await getLookups()).describeInstanceInformation(ids),
    dns: createDnsLookupFromEnv(ctx.env),
    logger: ctx.logger,
  });
  ctx.logger.debug(`target ${target} -> ${resolved.instanceId} (${resolved.via})`);
  return resolved;
}

/** The data channel of a started session, on the session's own SSM/KMS clients and credentials. */
export async function openChannel(
  aws: AwsSession,
  started: StartedSession,
  target: string,
  ctx: RunContext,
): Promise<DataChannel> {
  const ssm = await aws.client("ssm");
  const channel = await openSessionChannel({
    ssm,
    kms: () => aws.client("kms"),
    started,
    target,
    logger: ctx.logger,
    ...(aws.caBundle ? { ca: aws.caBundle } : {}),
    signUpgrade: async (url) =>
      signUpgrade({
        url,
        region: aws.region,
        credentials: await aws.currentCredentials(),
        date: new Date(processServerClock.now()),
      }),
    observeDate: (date) => processServerClock.observe(date),
  }).catch(async (error: unknown) => {
    // The session exists on the service side: do not leave it waiting for a client that failed.
    await terminateSession(ssm, started.sessionId, ctx.logger);
    throw error;
  });
  // The service says why it closed a session here (e.g. the agent could not reach the port).
  channel.once("channelClosed", ({ output }: { output: string }) => {
    if (output.trim()) ctx.stderr.write(`\nSessionId: ${started.sessionId} : ${output.trim()}\n`);
  });
  return channel;
}

async function readCaBundle(path: string | undefined): Promise<Buffer | undefined> {
  if (!path) return undefined;
  try {
    return await readFile(path);
  } catch (error) {
    throw new RunasError(
      "CA_BUNDLE_UNREADABLE",
      `cannot read AWS_CA_BUNDLE ${path}: ${(error as Error).message}`,
      {
        hint: "point AWS_CA_BUNDLE at a PEM file of trusted certificates, or unset it",
      },
    );
  }
}
