/**
 * `aws-runas-emulator` as a library: {@link startEmulator} runs the whole emulator in-process
 * (tests use it; `main.ts` wraps it in the command-line program).
 *
 * It wires the parts together: the emulated world (`world/`), the API server (`http/`, `api/`),
 * the websocket gateway with its simulated agent (`gateway/`, `agent/`) and DNS (`dns/`).
 * Re-exports what other layers use: fixture values, the session registry, options/faults and
 * KMS data keys.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Logger, silentLogger } from "@aws-runas/wire/log.js";
import type { ApiContext } from "./api/context.js";
import { IdentityStore } from "./api/identity.js";
import { RequestLog } from "./api/request-log.js";
import { type EmulatorDns, startEmulatorDns } from "./dns/index.js";
import { EmulatorStartError } from "./errors.js";
import { defaultFixture } from "./fixture/default.js";
import { loadFixture } from "./fixture/load.js";
import type { Fixture } from "./fixture/types.js";
import type { SessionGateway } from "./gateway/gateway.js";
import { type GatewayTestOptions, startGateway } from "./gateway/start.js";
import { NetworkOutage } from "./http/outage.js";
import { createEmulatorServer, listen } from "./http/server.js";
import { type FaultConfig, noFaults, type Pacing } from "./program/options.js";
import { AuthorizedKeyStore } from "./world/authorized-keys.js";
import { AdjustableClock, systemWorldClock, type WorldClock } from "./world/clock.js";
import { DataKeyService } from "./world/kms-keys.js";
import { renderProfiles } from "./world/profiles.js";
import { SessionRegistry } from "./world/sessions.js";

export type { RequestLogEntry } from "./api/request-log.js";
export { EmulatorStartError, FixtureError } from "./errors.js";
export * from "./fixture/index.js";
export { formatExports, parseExports } from "./program/exports.js";
export * from "./program/options.js";
export { AUTHORIZED_KEYS_FILE, EC2IC_KEY_LIFETIME_MS, readAuthorizedKeys } from "./world/authorized-keys.js";
export { AdjustableClock, systemWorldClock, type WorldClock } from "./world/clock.js";
export * from "./world/documents.js";
export { DataKeyService, type EncryptionContext } from "./world/kms-keys.js";
export * from "./world/sessions.js";

/** Options of {@link startEmulator}; everything is optional. */
export interface StartEmulatorOptions {
  /** API port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** The world to emulate (default: the built-in fixture, or `fixturePath`). */
  fixture?: Fixture;
  /** A JSON fixture file, used when `fixture` is not given. */
  fixturePath?: string;
  /** DNS port (default 0: any free port). */
  dnsPort?: number;
  pacing?: Pacing;
  faults?: Partial<FaultConfig>;
  /** Refuse data-channel upgrades without a SigV4 signature (`--require-signed-channel`). */
  requireSignedChannel?: boolean;
  /** State directory; default a fresh temp dir that `close()` removes. */
  stateDir?: string;
  logger?: Logger;
  /** Base clock (default the system clock); the emulator's clock runs ahead of it after advances. */
  clock?: WorldClock;
  /**
   * The Session Manager gateway and its simulated agent (default on); `false` leaves only the
   * API server (API tests), an object passes test options to it.
   */
  gateway?: false | GatewayTestOptions;
  /** The DNS server (default on). */
  dns?: boolean;
}

/** A running emulator. */
export interface RunningEmulator {
  /** `http://127.0.0.1:<port>`. */
  endpointUrl: string;
  port: number;
  /** The variables printed as `export` lines (AWS_ENDPOINT_URL, AWS_CONFIG_FILE, ...). */
  env: Record<string, string>;
  stateDir: string;
  fixture: Fixture;
  sessions: SessionRegistry;
  /** The emulator clock (also movable with `POST /_emulator/clock`). */
  clock: AdjustableClock;
  dataKeys: DataKeyService;
  /** The API server (websocket upgrades arrive here). */
  httpServer: Server;
  requestLog: RequestLog;
  /** Stops everything and removes a temp state dir. Idempotent. */
  close(): Promise<void>;
}

async function prepareStateDir(stateDir: string | undefined): Promise<{ dir: string; temporary: boolean }> {
  try {
    if (stateDir === undefined)
      return { dir: await mkdtemp(join(tmpdir(), "aws-runas-emulator-")), temporary: true };
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    return { dir: stateDir, temporary: false };
  } catch (error) {
    throw new EmulatorStartError(
      `cannot create state directory ${stateDir ?? tmpdir()}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

async function writePrivate(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

/** Starts the emulator in-process. */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const logger = options.logger ?? silentLogger;
  const fixture =
    options.fixture ?? (options.fixturePath ? await loadFixture(options.fixturePath) : defaultFixture());
  const faults: FaultConfig = { ...noFaults(), ...options.faults };
  const clock = new AdjustableClock(options.clock ?? systemWorldClock);
  const { dir: stateDir, temporary } = await prepareStateDir(options.stateDir);
  let gateway: SessionGateway | undefined;
  let dns: EmulatorDns | undefined;
  let server: Server | undefined;
  let closed: Promise<void> | undefined;
  const unsubscribe: (() => void)[] = [];
  const outage = new NetworkOutage();
  unsubscribe.push(() => outage.close());

  const close = (): Promise<void> => {
    closed ??= (async () => {
      for (const off of unsubscribe) off();
      const stop = async (what: string, part: { close(): Promise<void> } | undefined) =>
        part
          ?.close()
          .catch((error: unknown) => logger.warn(`emulator: ${what} close failed: ${String(error)}`));
      await stop("DNS", dns);
      await stop("gateway", gateway);
      if (server?.listening) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      if (temporary) await rm(stateDir, { recursive: true, force: true });
    })();
    return closed;
  };

  try {
    for (const user of fixture.users)
      for (const key of user.accessKeys) logger.addSecret(key.secretAccessKey);
    const identities = new IdentityStore(fixture, clock);
    unsubscribe.push(
      identities.onIssued((c) => {
        logger.addSecret(c.secretAccessKey);
        logger.addSecret(c.sessionToken);
      }),
    );
    const sessions = new SessionRegistry({ clock, refuseResume: faults.refuseResume });
    const dataKeys = new DataKeyService(fixture);
    const authorizedKeys = new AuthorizedKeyStore(stateDir, clock);
    await authorizedKeys.persist();
    unsubscribe.push(
      clock.onAdvance(() => {
        authorizedKeys
          .persist()
          .catch((error: unknown) =>
            logger.warn(`emulator: cannot write EC2 Instance Connect keys: ${String(error)}`),
          );
      }),
    );
    let port = 0;
    const api: ApiContext = {
      fixture,
      clock,
      identities,
      sessions,
      dataKeys,
      authorizedKeys,
      faults,
      websocketBase: () => `ws://127.0.0.1:${port}`,
    };
    const requestLog = new RequestLog();
    server = createEmulatorServer({ api, requestLog, clock, sessions, outage, faults, logger });
    outage.guard(server);
    try {
      port = await listen(server, options.port ?? 0);
    } catch (error) {
      throw new EmulatorStartError(
        `cannot listen on 127.0.0.1:${options.port ?? 0}: ${(error as Error).message}`,
        {
          cause: error,
          hint: "choose another --port, or 0 for any free port",
        },
      );
    }
    outage.schedule(faults.outages);
    const endpointUrl = `http://127.0.0.1:${port}`;
    const files = renderProfiles(fixture, endpointUrl);
    const configFile = join(stateDir, "config");
    const credentialsFile = join(stateDir, "credentials");
    await writePrivate(configFile, files.config);
    await writePrivate(credentialsFile, files.credentials);

    const env: Record<string, string> = {
      AWS_ENDPOINT_URL: endpointUrl,
      AWS_CONFIG_FILE: configFile,
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
      AWS_REGION: fixture.region,
      RUNAS_EMULATOR_STATE_DIR: stateDir,
    };
    if (options.gateway !== false) {
      const world = {
        fixture,
        sessions,
        clock,
        dataKeys,
        identities,
        faults,
        pacing: options.pacing ?? "none",
        requireSignedChannel: options.requireSignedChannel ?? false,
        requestLog,
        logger,
      };
      gateway = startGateway(server, world, options.gateway ?? {});
    }
    if (options.dns !== false) {
      dns = await startEmulatorDns(fixture.dnsRecords, options.dnsPort ?? 0, logger);
      Object.assign(env, dns.env);
    }
    return {
      endpointUrl,
      port,
      env,
      stateDir,
      fixture,
      sessions,
      clock,
      dataKeys,
      httpServer: server,
      requestLog,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
