/**
 * `aws-runas-emulator` as a library: {@link startEmulator} runs the whole emulator in-process
 * (tests use it; `main.ts` wraps it in the command-line program).
 *
 * Re-exports what other layers use: fixture values, the session registry, options/faults, KMS
 * data keys and the extension interfaces.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Logger, silentLogger } from "../log.js";
import type { ApiContext } from "./api/context.js";
import { IdentityStore } from "./api/identity.js";
import { RequestLog } from "./api/request-log.js";
import { AuthorizedKeyStore } from "./authorized-keys.js";
import { AdjustableClock, systemWorldClock, type WorldClock } from "./clock.js";
import { dnsExtension } from "./dns/index.js";
import { EmulatorStartError } from "./errors.js";
import type { EmulatorContext, EmulatorExtension, ExtensionHandle } from "./extensions.js";
import { defaultFixture } from "./fixture/default.js";
import { loadFixture } from "./fixture/load.js";
import type { Fixture } from "./fixture/types.js";
import { gatewayExtension } from "./gateway/index.js";
import { DataKeyService } from "./kms-keys.js";
import { type FaultConfig, noFaults, type Pacing } from "./options.js";
import { NetworkOutage } from "./outage.js";
import { renderProfiles } from "./profiles.js";
import { createEmulatorServer, listen } from "./server.js";
import { SessionRegistry } from "./sessions.js";

export type { RequestLogEntry } from "./api/request-log.js";
export { AUTHORIZED_KEYS_FILE, EC2IC_KEY_LIFETIME_MS, readAuthorizedKeys } from "./authorized-keys.js";
export { AdjustableClock, systemWorldClock, type WorldClock } from "./clock.js";
export * from "./documents.js";
export { EmulatorStartError, FixtureError } from "./errors.js";
export { formatExports, parseExports } from "./exports.js";
export type { EmulatorContext, EmulatorExtension, ExtensionHandle } from "./extensions.js";
export * from "./fixture/index.js";
export { DataKeyService, type EncryptionContext } from "./kms-keys.js";
export * from "./options.js";
export * from "./sessions.js";

/** Extensions `startEmulator` runs by default: the Session Manager gateway + agent, and DNS. */
export const builtinExtensions: readonly EmulatorExtension[] = [gatewayExtension, dnsExtension];

/** Options of {@link startEmulator}; everything is optional. */
export interface StartEmulatorOptions {
  /** API port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** The world to emulate (default: the built-in fixture, or `fixturePath`). */
  fixture?: Fixture;
  /** A JSON fixture file, used when `fixture` is not given. */
  fixturePath?: string;
  /** DNS port for the DNS extension (default 0). */
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
  /** Extensions to start (default {@link builtinExtensions}). */
  extensions?: readonly EmulatorExtension[];
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
  const handles: ExtensionHandle[] = [];
  let server: Server | undefined;
  let closed: Promise<void> | undefined;
  const unsubscribe: (() => void)[] = [];
  const outage = new NetworkOutage();
  unsubscribe.push(() => outage.close());

  const close = (): Promise<void> => {
    closed ??= (async () => {
      for (const off of unsubscribe) off();
      for (const handle of handles.reverse()) {
        await handle
          .close()
          .catch((error: unknown) => logger.warn(`emulator: extension close failed: ${String(error)}`));
      }
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

    const ctx: EmulatorContext = {
      fixture,
      sessions,
      clock,
      dataKeys,
      authorizedKeys,
      faults,
      identities,
      requireSignedChannel: options.requireSignedChannel ?? false,
      pacing: options.pacing ?? "none",
      dnsPort: options.dnsPort ?? 0,
      httpServer: server,
      port,
      endpointUrl,
      stateDir,
      logger,
      requestLog,
    };
    const env: Record<string, string> = {
      AWS_ENDPOINT_URL: endpointUrl,
      AWS_CONFIG_FILE: configFile,
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
      AWS_REGION: fixture.region,
      RUNAS_EMULATOR_STATE_DIR: stateDir,
    };
    for (const extension of options.extensions ?? builtinExtensions) {
      const handle = await extension.start(ctx);
      handles.push(handle);
      Object.assign(env, handle.env ?? {});
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
