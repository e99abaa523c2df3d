/**
 * What every session command does before its session starts: credentials and region for the
 * profile, SDK clients built on demand (each client package loads only when first used), and
 * the target turned into an instance id.
 */
import { readFile } from "node:fs/promises";
import { RunasError } from "@aws-runas/wire/errors.js";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { type AwsClients, createClient, type ServiceName } from "../../aws/index.js";
import { dialForWebsocket } from "../../aws/proxy-agent.js";
import { type ProxySettings, proxySettingsFromEnv } from "../../aws/proxy-env.js";
import { processServerClock } from "../../aws/server-clock.js";
import { parseGoDuration } from "../../config/duration.js";
import { DEFAULT_RECONNECT_WINDOW_MS } from "../../datachannel/client.js";
import type { DataChannel } from "../../datachannel/index.js";
import { signUpgrade } from "../../datachannel/sign.js";
import { openSessionChannel, type StartedSession } from "../../session/start.js";
import {
  createAwsLookups,
  createDnsLookupFromEnv,
  type ResolvedTarget,
  resolveTarget,
} from "../../target/index.js";
import { PICK_TARGET } from "../commands/pick.js";
import type { RunContext } from "../context.js";
import type { CredentialInput } from "../inputs.js";
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
  /** `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`, for the SDK clients and the websocket alike. */
  proxy: ProxySettings;
  /** `RUNAS_RECONNECT_WINDOW`: how long a lost connection is retried. */
  reconnectWindowMs: number;
  /** Current credentials as plain values (for the external plugin's environment). */
  currentCredentials(): Promise<AwsCredentialIdentity>;
  destroy(): void;
}

export async function openAwsSession(input: CredentialInput, ctx: RunContext): Promise<AwsSession> {
  const caBundle = await readCaBundle(ctx.env.AWS_CA_BUNDLE);
  const reconnectWindowMs = readReconnectWindow(ctx.env.RUNAS_RECONNECT_WINDOW);
  // A malformed proxy variable fails here, before any call; its credentials are never printed.
  const proxy = proxySettingsFromEnv(ctx.env);
  for (const url of [proxy.https, proxy.http]) {
    if (url?.password) ctx.logger.addSecret(decodeURIComponent(url.password));
    if (url?.password) ctx.logger.addSecret(url.password);
  }
  const { region, credentials, renewCredentials } = await resolveCommandCredentials(input, ctx);
  const clients = new Map<ServiceName, Promise<AwsClients[ServiceName]>>();
  return {
    region,
    caBundle,
    proxy,
    reconnectWindowMs,
    credentials,
    client<S extends ServiceName>(service: S): Promise<AwsClients[S]> {
      let client = clients.get(service);
      if (!client) {
        client = createClient(service, {
          region,
          credentials,
          renewCredentials,
          logger: ctx.logger,
          env: ctx.env,
        });
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
  if (target === PICK_TARGET) return pickTarget(aws, ctx);
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

/** `--pick`: the user chooses from every managed instance (the picker loads only then). */
async function pickTarget(aws: AwsSession, ctx: RunContext): Promise<ResolvedTarget> {
  const [{ pickInstance }, { listManagedInstances }, { sortInstances }] = await Promise.all([
    import("../../picker/tty.js"),
    import("../../instances/fetch.js"),
    import("../../instances/table.js"),
  ]);
  const chosen = await pickInstance(async () =>
    sortInstances(await listManagedInstances({ ec2: await aws.client("ec2"), ssm: await aws.client("ssm") })),
  );
  const via = `picked from the list (${chosen.name || "no name"}, ${chosen.pingStatus})`;
  ctx.logger.debug(`target ${chosen.instanceId} (${via})`);
  return { instanceId: chosen.instanceId, via, others: [] };
}

/**
 * The data channel of a started session, on the session's own SSM/KMS clients and credentials.
 * The caller terminates the session on every path, also when this fails.
 */
export async function openChannel(
  aws: AwsSession,
  started: StartedSession,
  target: string,
  ctx: RunContext,
): Promise<DataChannel> {
  const channel = await openSessionChannel({
    ssm: await aws.client("ssm"),
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
    dial: (url) => dialForWebsocket(aws.proxy, url, aws.caBundle),
    reconnectWindowMs: aws.reconnectWindowMs,
  });
  reportConnectionState(channel, ctx);
  return channel;
}

/**
 * One line when a connection is lost for real (the first resume attempt failed) and one when it
 * is back; nothing for a drop that heals at once (the service's periodic recycling).
 */
function reportConnectionState(channel: DataChannel, ctx: RunContext): void {
  // A shell's terminal is raw: a bare "\n" would not return the cursor to the line start.
  const raw = (ctx.stderr as { isTTY?: boolean }).isTTY === true;
  const line = (text: string) => ctx.stderr.write(raw ? `\r\n${text}\r\n` : `${text}\n`);
  channel.on("connectionLost", ({ error, windowMs }: { error: Error; windowMs: number }) => {
    line(
      `Connection to session ${channel.sessionId} lost (${error.message}); reconnecting for up to ${formatWindow(windowMs)}...`,
    );
  });
  channel.on("reconnected", ({ afterMs }: { afterMs: number }) => {
    line(`Session ${channel.sessionId}: reconnected after ${Math.max(1, Math.round(afterMs / 1000))} s.`);
  });
}

function formatWindow(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 120 && seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

/** `RUNAS_RECONNECT_WINDOW` (a Go duration such as `10m`, `0` for a single attempt); default 10 min. */
function readReconnectWindow(text: string | undefined): number {
  if (text === undefined || text.trim() === "") return DEFAULT_RECONNECT_WINDOW_MS;
  const seconds = parseGoDuration(text);
  if (seconds === undefined || seconds < 0) {
    throw new RunasError("BAD_RECONNECT_WINDOW", `invalid RUNAS_RECONNECT_WINDOW ${JSON.stringify(text)}`, {
      hint: "give a duration such as 10m or 90s, or 0 to give up after one attempt",
      exitCode: 2,
    });
  }
  return seconds * 1000;
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
