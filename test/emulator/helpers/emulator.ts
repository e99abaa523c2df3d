/**
 * In-process emulator with the websocket gateway, for gateway/agent tests: sessions are created
 * straight in the registry (no SigV4 round trip) and opened with a {@link RawClient}. Also small
 * TCP targets on 127.0.0.1 for port sessions. Everything is closed by the test's `after` hooks.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import type { GenerateDataKey } from "../../../packages/aws-runas/src/datachannel/handshake.js";
import type { AgentChannelLimits } from "../../../packages/emulator/src/agent/channel/limits.js";
import type { SessionGateway } from "../../../packages/emulator/src/gateway/gateway.js";
import { streamUrlFor } from "../../../packages/emulator/src/gateway/route.js";
import {
  type EmulatorSession,
  type FaultConfig,
  isDocumentProblem,
  type Pacing,
  type RunningEmulator,
  resolveDocument,
  startEmulator,
} from "../../../packages/emulator/src/index.js";
import { RawClient, type RawClientOptions } from "./raw-client.js";

interface After {
  after: (fn: () => unknown) => void;
}

export interface TestEmulatorOptions {
  pacing?: Pacing;
  faults?: Partial<FaultConfig>;
  seed?: number;
  handshakeTimeoutMs?: number;
  limits?: Partial<AgentChannelLimits>;
  requireSignedChannel?: boolean;
}

export interface TestEmulator {
  emulator: RunningEmulator;
  gateway: SessionGateway;
  /** Registers a session as StartSession would. */
  startSession(
    instanceId: string,
    documentName?: string,
    parameters?: Record<string, string[]>,
  ): EmulatorSession;
  urlOf(session: EmulatorSession): string;
  /** Opens the data channel of `session` with its current token. */
  connect(session: EmulatorSession, extra?: Partial<RawClientOptions>): Promise<RawClient>;
  /** KMS GenerateDataKey as the client would call it (in-process). */
  generateDataKey: GenerateDataKey;
}

export async function startTestEmulator(t: After, options: TestEmulatorOptions = {}): Promise<TestEmulator> {
  let gateway: SessionGateway | undefined;
  const emulator = await startEmulator({
    pacing: options.pacing ?? "none",
    faults: options.faults,
    requireSignedChannel: options.requireSignedChannel ?? false,
    dns: false,
    gateway: {
      seed: options.seed,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      limits: options.limits,
      onStart: (g) => {
        gateway = g;
      },
    },
  });
  t.after(() => emulator.close());
  assert.ok(gateway, "the gateway started");
  const urlOf = (session: EmulatorSession) =>
    streamUrlFor(`ws://127.0.0.1:${emulator.port}`, session.sessionId);
  return {
    emulator,
    gateway,
    urlOf,
    startSession(instanceId, documentName, parameters) {
      const instance = emulator.fixture.instances.find((i) => i.instanceId === instanceId);
      assert.ok(instance, `fixture has ${instanceId}`);
      const doc = resolveDocument(documentName, parameters);
      if (isDocumentProblem(doc)) throw new Error(doc.message);
      return emulator.sessions.create({
        callerName: "alice",
        createdBy: `arn:aws:iam::${emulator.fixture.accountId}:user/alice`,
        instance,
        documentName: doc.documentName,
        parameters: doc.parameters,
        sessionType: doc.sessionType,
        properties: doc.properties,
        kmsKeyId: instance.sessionPreferences?.kmsKeyId,
      });
    },
    async connect(session, extra = {}) {
      const client = await RawClient.connect({
        url: urlOf(session),
        token: session.token,
        sessionId: session.sessionId,
        targetId: session.target,
        ...extra,
      });
      t.after(() => client.close());
      return client;
    },
    async generateDataKey(keyId, context) {
      const key = emulator.dataKeys.generateDataKey(keyId, 64, context);
      return { plaintext: key.plaintext, ciphertextBlob: key.ciphertextBlob };
    },
  };
}

/** A TCP server on 127.0.0.1:0 that echoes with a prefix and counts connections. */
export async function startEchoServer(
  t: After,
  prefix = "",
): Promise<{ port: number; connections: () => number }> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.on("data", (data) => socket.write(prefix ? Buffer.concat([Buffer.from(prefix), data]) : data));
    socket.on("end", () => socket.end());
  });
  await listen(server);
  t.after(() => closeServer(server, sockets));
  return { port: (server.address() as AddressInfo).port, connections: () => count };
}

/** A TCP server that sends `banner` to each connection and closes it. */
export async function startBannerServer(t: After, banner: string): Promise<{ port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.end(banner);
  });
  await listen(server);
  t.after(() => closeServer(server, sockets));
  return { port: (server.address() as AddressInfo).port };
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await listen(server);
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listen(server: Server): Promise<void> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}
