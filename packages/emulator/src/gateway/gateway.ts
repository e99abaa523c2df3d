/**
 * The emulator's Session Manager message gateway (MGS, ssm-protocol.md §3, §11): it accepts the
 * client's data-channel websocket, checks the OpenDataChannel token, and connects the client to
 * a simulated agent session that outlives any single websocket.
 *
 * ```
 *  upgrade /v1/data-channel/<id> ─► first frame: text OpenDataChannel ─┬─ token ok ─► attach to the session's agent
 *                                                                     └─ otherwise ─► close 1008, no data
 *  client binary frames ─────────────────────────────────────► AgentSession.receive
 *  AgentSession frames ─► FaultShaper (--fault) ─► websocket   (detached while no client: the agent buffers)
 *  agent ends / TerminateSession ─► channel_closed ─► close the websocket
 * ```
 * A newer websocket for the same session replaces the older one; agent state (sequence numbers,
 * buffers, the shell) carries on across reconnects.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { type Logger, silentLogger } from "@aws-runas/wire/log.js";
import { decodeOpenDataChannel } from "@aws-runas/wire/protocol/index.js";
import { type WebSocket, WebSocketServer } from "ws";
import type { AgentSessionEnd } from "../agent/session.js";
import { AgentSession } from "../agent/session.js";
import type { AgentEnvironment, AgentSessionSpec } from "../agent/types.js";
import { type FaultConfig, noFaults } from "../program/options.js";
import {
  type AgentEntropy,
  systemAgentEntropy,
  systemTimerClock,
  type TimerClock,
  type TimerHandle,
} from "../world/clock.js";
import { encodeChannelClosedFrame } from "./channel-closed.js";
import { FrameCork as TickCork } from "./cork.js";
import { FaultShaper, type FaultStats, inputSequence, outputSequence, SessionFaults } from "./faults.js";
import { sessionSeed } from "./random.js";
import { parseDataChannelUrl } from "./route.js";
import type { SessionDirectory } from "./types.js";
import type { UpgradeCheck } from "./upgrade-auth.js";

/** Close code for a refused OpenDataChannel (RFC 6455 "policy violation"). */
export const CLOSE_POLICY_VIOLATION = 1008;
/** channel_closed texts of the session-preference limits. */
export const IDLE_TIMEOUT_MESSAGE = "Your session timed out due to inactivity and has been terminated.";
export const MAX_DURATION_MESSAGE =
  "Your session has reached its maximum session duration and has been terminated.";

/** Close code after channel_closed, and of the service's periodic recycling ("Bye"). */
export const CLOSE_NORMAL = 1000;

export interface GatewayOptions {
  directory: SessionDirectory;
  /** Settings for every simulated agent session (pacing, remote hosts, KMS...). */
  agent: AgentEnvironment;
  faults?: FaultConfig;
  /** Seed of the fault decisions (mixed with each session id). Default 1. */
  seed?: number;
  /** Checks the upgrade's SigV4 signature (§3.1); a returned reason refuses it with HTTP 403. */
  checkUpgrade?: UpgradeCheck;
  /** The emulator's clock (epoch ms) for the `Date` header of refusals; default the wall clock. */
  serviceNow?: () => number;
  /** How long a new websocket may take to send OpenDataChannel. Default 10 s. */
  openTimeoutMs?: number;
  /** How long an ended session still answers reconnects with channel_closed. Default 60 s. */
  endedRetentionMs?: number;
  clock?: TimerClock;
  entropy?: AgentEntropy;
  logger?: Logger;
}

interface Channel {
  spec: AgentSessionSpec;
  agent: AgentSession;
  faults: SessionFaults;
  ws: WebSocket | null;
  shaper: FaultShaper | null;
  /** Websockets accepted for this session so far. */
  connections: number;
  /** One shaper per accepted websocket, oldest first (fault statistics). */
  shapers: FaultShaper[];
  /** Emulator-clock ms of the session's start and of its last new session data (either way). */
  openedAt: number;
  lastActivity: number;
  /** Highest stream sequence numbers seen each way: retransmissions are not activity. */
  highestInput: number;
  highestOutput: number;
}

interface Ended {
  spec: AgentSessionSpec | undefined;
  output: string;
  timer: TimerHandle;
  /** The registry was told (it then refuses the session's tokens). */
  reported: boolean;
}

/** Snapshot for tests and logs. */
export interface GatewaySessionInfo {
  sessionId: string;
  connections: number;
  connected: boolean;
  /** Fault statistics of each websocket so far, oldest first. */
  faultStats: FaultStats[];
  agent: AgentSession;
}

export class SessionGateway {
  readonly #options: GatewayOptions;
  readonly #faults: FaultConfig;
  readonly #clock: TimerClock;
  readonly #entropy: AgentEntropy;
  readonly #logger: Logger;
  readonly #wss: WebSocketServer;
  readonly #channels = new Map<string, Channel>();
  readonly #ended = new Map<string, Ended>();
  readonly #servers = new Set<Server>();
  readonly #pending = new Set<WebSocket>();
  #unsubscribe: (() => void) | undefined;
  #closed = false;
  #preferenceTimer: TimerHandle | null = null;

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#faults = options.faults ?? noFaults();
    this.#clock = options.clock ?? options.agent.clock ?? systemTimerClock;
    this.#entropy = options.entropy ?? options.agent.entropy ?? systemAgentEntropy;
    this.#logger = options.logger ?? options.agent.logger ?? silentLogger;
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: 16 * 1024 * 1024,
    });
    this.#unsubscribe = options.directory.onTerminated?.((id) => this.terminate(id));
    // Idle timeout and maximum duration run on the emulator clock, so tests can move time on.
    this.#preferenceTimer = this.#clock.every(250, () => this.#enforcePreferences());
  }

  #serviceNow(): number {
    return (this.#options.serviceNow ?? Date.now)();
  }

  /**
   * The session preferences the real service enforces (ssm-protocol.md §9): ended with the
   * agent's channel_closed text once idle or too old.
   */
  #enforcePreferences(): void {
    const now = this.#serviceNow();
    for (const channel of [...this.#channels.values()]) {
      const { idleSessionTimeout, maxSessionDuration } = channel.spec;
      if (maxSessionDuration !== undefined && now - channel.openedAt >= maxSessionDuration * 60_000) {
        channel.agent.terminate(MAX_DURATION_MESSAGE);
      } else if (
        idleSessionTimeout !== undefined &&
        now - channel.lastActivity >= idleSessionTimeout * 60_000
      ) {
        channel.agent.terminate(IDLE_TIMEOUT_MESSAGE);
      }
    }
  }

  /** Serves data-channel upgrades on `server`; other upgrade paths get 404. */
  listen(server: Server): void {
    if (this.#servers.has(server)) return;
    this.#servers.add(server);
    server.on("upgrade", this.#onUpgrade);
  }

  /**
   * Takes over one HTTP upgrade if its path is a data channel; returns false (and leaves the
   * socket alone) otherwise, so a server with several upgrade users can chain them.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const sessionId = parseDataChannelUrl(request.url);
    if (sessionId === undefined) return false;
    if (this.#closed) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
      return true;
    }
    const check = this.#options.checkUpgrade;
    if (!check) {
      this.#upgrade(request, socket, head, sessionId);
      return true;
    }
    check(request).then(
      (problem) => {
        if (problem === undefined) return this.#upgrade(request, socket, head, sessionId);
        this.#logger.debug(`data channel ${sessionId}: upgrade refused: ${problem}`);
        const body = `${JSON.stringify({ message: problem })}\n`;
        socket.end(
          "HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: application/json\r\n" +
            `Date: ${new Date((this.#options.serviceNow ?? Date.now)()).toUTCString()}\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      },
      (error: unknown) => {
        this.#logger.warn(`data channel ${sessionId}: upgrade check failed: ${String(error)}`);
        socket.destroy();
      },
    );
    return true;
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, sessionId: string): void {
    if (this.#closed || socket.destroyed) {
      socket.destroy();
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) =>
      this.#onConnection(ws, sessionId, new TickCork(socket)),
    );
  }

  /** The live session, for tests and the emulator's state endpoints. */
  session(sessionId: string): GatewaySessionInfo | undefined {
    const channel = this.#channels.get(sessionId);
    if (!channel) return undefined;
    return {
      sessionId,
      connections: channel.connections,
      connected: channel.ws !== null,
      faultStats: channel.shapers.map((s) => s.stats()),
      agent: channel.agent,
    };
  }

  /**
   * Ends a session now (TerminateSession): the agent stops and the client gets channel_closed.
   * Returns false when the gateway never saw the session (it is remembered as ended anyway).
   */
  terminate(sessionId: string, output = ""): boolean {
    const channel = this.#channels.get(sessionId);
    if (channel) {
      channel.agent.terminate(output);
      return true;
    }
    if (!this.#ended.has(sessionId)) this.#remember(sessionId, undefined, output);
    this.#report(sessionId);
    return false;
  }

  /** Ends every session, closes every websocket and stops listening. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#preferenceTimer?.cancel();
    this.#unsubscribe?.();
    for (const server of this.#servers) server.off("upgrade", this.#onUpgrade);
    this.#servers.clear();
    for (const channel of [...this.#channels.values()])
      channel.agent.terminate("The emulator is shutting down.");
    for (const ws of this.#pending) ws.terminate();
    for (const [sessionId, ended] of this.#ended) {
      ended.timer.cancel();
      this.#report(sessionId);
    }
    this.#ended.clear();
    const sockets = [...this.#wss.clients];
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            ws.once("close", () => resolve());
            // Give channel_closed a moment to leave, then cut.
            const t = setTimeout(() => ws.terminate(), 200);
            t.unref();
          }),
      ),
    );
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  readonly #onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!this.handleUpgrade(request, socket, head)) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    }
  };

  #onConnection(ws: WebSocket, sessionId: string, cork: TickCork): void {
    this.#pending.add(ws);
    ws.on("error", (error) =>
      this.#logger.debug(`data channel ${sessionId}: websocket error: ${error.message}`),
    );
    const timer = this.#clock.after(this.#options.openTimeoutMs ?? 10_000, () =>
      this.#refuse(ws, "no OpenDataChannel received"),
    );
    ws.once("close", () => {
      timer.cancel();
      this.#pending.delete(ws);
    });
    ws.once("message", (data: Buffer, isBinary: boolean) => {
      timer.cancel();
      this.#pending.delete(ws);
      if (isBinary) return this.#refuse(ws, "the first frame must be a text OpenDataChannel");
      let token: string;
      try {
        token = decodeOpenDataChannel(data).TokenValue;
      } catch {
        return this.#refuse(ws, "malformed OpenDataChannel");
      }
      const spec = this.#options.directory.authorize(sessionId, token);
      if (!spec) return this.#refuse(ws, "invalid token");
      this.#accept(ws, sessionId, spec, cork);
    });
  }

  #refuse(ws: WebSocket, reason: string): void {
    this.#logger.debug(`data channel refused: ${reason}`);
    ws.close(CLOSE_POLICY_VIOLATION, reason);
  }

  #accept(ws: WebSocket, sessionId: string, spec: AgentSessionSpec, cork: TickCork): void {
    const ended = this.#ended.get(sessionId);
    if (ended) {
      this.#sendClosed(ws, null, ended.spec ?? spec, ended.output, () => this.#report(sessionId));
      return;
    }
    const channel = this.#channels.get(sessionId) ?? this.#open(sessionId, spec);
    channel.connections++;
    const previous = channel.ws;
    if (previous) {
      // One client websocket per session: the newest wins.
      this.#disconnect(channel);
      previous.terminate();
    }
    const shaper = new FaultShaper(
      channel.faults,
      {
        write: (frame, done) => {
          if (ws.readyState !== ws.OPEN) return;
          cork.hold();
          ws.send(frame, { binary: true }, () => done?.());
        },
        drop: () => {
          this.#logger.debug(`data channel ${sessionId}: fault drop-websocket-after, killing the websocket`);
          ws.terminate();
        },
      },
      this.#clock,
    );
    channel.ws = ws;
    channel.shaper = shaper;
    channel.shapers.push(shaper);
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary || channel.ws !== ws) return;
      const seq = inputSequence(data);
      if (seq !== undefined && seq > channel.highestInput) {
        channel.highestInput = seq;
        channel.lastActivity = this.#serviceNow();
      }
      channel.agent.receive(data);
    });
    const recycle = this.#faults.recycleWebsocketEverySeconds;
    // The real service ends data-channel websockets about hourly with a clean close (§9).
    const recycleTimer =
      recycle === undefined
        ? null
        : this.#clock.after(recycle * 1000, () => {
            if (channel.ws !== ws || ws.readyState !== ws.OPEN) return;
            this.#logger.debug(`data channel ${sessionId}: fault recycle-websocket-every, closing 1000 Bye`);
            ws.close(CLOSE_NORMAL, "Bye");
          });
    ws.on("close", () => {
      recycleTimer?.cancel();
      if (channel.ws === ws) this.#disconnect(channel);
    });
    channel.agent.attach({
      send: (frame) => {
        const seq = outputSequence(frame);
        if (seq !== undefined && seq > channel.highestOutput) {
          channel.highestOutput = seq;
          channel.lastActivity = this.#serviceNow();
        }
        shaper.send(frame);
      },
    });
    this.#options.directory.connectionChanged?.(sessionId, true);
    this.#logger.debug(`data channel ${sessionId}: client connected (#${channel.connections})`);
    channel.agent.start();
  }

  #open(sessionId: string, spec: AgentSessionSpec): Channel {
    const agent = new AgentSession(spec, {
      ...this.#options.agent,
      clock: this.#clock,
      entropy: this.#entropy,
      logger: this.#logger,
    });
    const channel: Channel = {
      spec,
      agent,
      faults: new SessionFaults(this.#faults, sessionSeed(this.#options.seed ?? 1, sessionId)),
      ws: null,
      shaper: null,
      connections: 0,
      shapers: [],
      openedAt: this.#serviceNow(),
      lastActivity: this.#serviceNow(),
      highestInput: -1,
      highestOutput: -1,
    };
    this.#channels.set(sessionId, channel);
    agent.once("end", (end) => this.#onAgentEnd(sessionId, channel, end));
    agent.on("flag", (flag) => this.#options.directory.flagReceived?.(sessionId, flag));
    return channel;
  }

  #disconnect(channel: Channel): void {
    channel.shaper?.close();
    channel.shaper = null;
    channel.ws = null;
    channel.agent.attach(null);
    if (!channel.agent.ended) this.#options.directory.connectionChanged?.(channel.spec.sessionId, false);
  }

  #onAgentEnd(sessionId: string, channel: Channel, end: AgentSessionEnd): void {
    this.#channels.delete(sessionId);
    this.#remember(sessionId, channel.spec, end.output);
    const ws = channel.ws;
    const shaper = channel.shaper;
    channel.ws = null;
    channel.shaper = null;
    // The registry hears of the end once channel_closed went out; a client that is away meanwhile
    // can still resume and collect it (until the retention time runs out).
    if (ws) this.#sendClosed(ws, shaper, channel.spec, end.output, () => this.#report(sessionId));
    this.#logger.debug(`data channel ${sessionId}: session ended${end.output ? `: ${end.output}` : ""}`);
  }

  /** channel_closed, then a normal close (the official plugin exits on it anyway, §6.3). */
  #sendClosed(
    ws: WebSocket,
    shaper: FaultShaper | null,
    spec: AgentSessionSpec,
    output: string,
    sent: () => void,
  ): void {
    const frame = encodeChannelClosedFrame({
      sessionId: spec.sessionId,
      destinationId: spec.instanceId,
      output,
      messageId: this.#entropy.uuid(),
      createdDate: this.#clock.wallNow(),
    });
    const closeAfter = () => {
      sent();
      shaper?.close();
      if (ws.readyState === ws.OPEN) ws.close(CLOSE_NORMAL, "channel closed");
    };
    if (ws.readyState !== ws.OPEN) return;
    if (shaper) shaper.sendControl(frame, closeAfter);
    else ws.send(frame, { binary: true }, closeAfter);
  }

  #remember(sessionId: string, spec: AgentSessionSpec | undefined, output: string): void {
    const previous = this.#ended.get(sessionId);
    previous?.timer.cancel();
    const timer = this.#clock.after(this.#options.endedRetentionMs ?? 60_000, () => {
      this.#report(sessionId);
      this.#ended.delete(sessionId);
    });
    this.#ended.set(sessionId, { spec, output, timer, reported: previous?.reported ?? false });
  }

  #report(sessionId: string): void {
    const ended = this.#ended.get(sessionId);
    if (!ended || ended.reported) return;
    ended.reported = true;
    this.#options.directory.sessionEnded?.(sessionId, ended.output);
  }
}
