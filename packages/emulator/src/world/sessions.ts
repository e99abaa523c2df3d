/**
 * In-memory registry of Session Manager sessions, shared by the SSM API (which creates, resumes
 * and terminates them) and the websocket gateway (which checks tokens and closes channels).
 *
 * Lifecycle:
 * ```
 *   StartSession ──► Connecting ──(gateway: client attached)──► Connected ◄──┐
 *                        │                                         │        │ (reconnect)
 *                        │                               (websocket lost)   │
 *                        │                                         ▼        │
 *                        │                                   Disconnected ──┘
 *                        └──────── TerminateSession / terminate() ─────────► Terminated
 * ```
 * ResumeSession rotates the token; only the current token opens the data channel.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { FixtureInstance } from "../fixture/types.js";
import type { WorldClock } from "./clock.js";
import type { SessionProperties, SessionType } from "./documents.js";

export const SessionStates = ["Connecting", "Connected", "Disconnected", "Terminated"] as const;
/** Session states (named like DescribeSessions' `Status`). */
export type SessionState = (typeof SessionStates)[number];

/** One session. Fields are read-only to users of the registry; it changes them through its methods. */
export interface EmulatorSession {
  readonly sessionId: string;
  /** Current TokenValue; ResumeSession replaces it. */
  readonly token: string;
  /** StartSession's `Target` (the instance id). */
  readonly target: string;
  /** The target instance as the fixture describes it (agent version, KMS preferences...). */
  readonly instance: Readonly<FixtureInstance>;
  readonly documentName: string;
  /** Document parameters with defaults applied, one value each. */
  readonly parameters: Readonly<Record<string, string>>;
  readonly sessionType: SessionType;
  /** The document's resolved `properties` (ssm-protocol.md §2.1). */
  readonly properties: SessionProperties;
  readonly state: SessionState;
  /** ARN of the principal that called StartSession. */
  readonly createdBy: string;
  /** WorldClock time (ms) of StartSession. */
  readonly createdAt: number;
  /** KMS key for the session's encryption handshake; never set for Port sessions (ssm-protocol.md §2.1). */
  readonly kmsKeyId: string | undefined;
}

/** What StartSession hands to {@link SessionRegistry.create}. */
export interface NewSession {
  /** Name for the id prefix: the caller's user name or role session name. */
  callerName: string;
  createdBy: string;
  instance: FixtureInstance;
  documentName: string;
  parameters: Record<string, string>;
  sessionType: SessionType;
  properties: SessionProperties;
  kmsKeyId: string | undefined;
}

/** Why a session ended. */
export type TerminationReason = "TerminateSession" | "emulator";

export interface SessionRegistryOptions {
  clock: WorldClock;
  /** Random bytes source (tests may make ids deterministic). */
  random?: (size: number) => Buffer;
  /** Fault: ResumeSession refuses to hand out a new token. */
  refuseResume?: boolean;
}

type MutableSession = { -readonly [K in keyof EmulatorSession]: EmulatorSession[K] };

/** The session store. One per emulator. */
export class SessionRegistry {
  /** Fault flag (`--fault refuse-resume`): ResumeSession answers without a token. */
  refuseResume: boolean;
  readonly #sessions = new Map<string, MutableSession>();
  readonly #terminatedListeners = new Set<(session: EmulatorSession, reason: TerminationReason) => void>();
  readonly #clock: WorldClock;
  readonly #random: (size: number) => Buffer;

  constructor(options: SessionRegistryOptions) {
    this.#clock = options.clock;
    this.#random = options.random ?? randomBytes;
    this.refuseResume = options.refuseResume ?? false;
  }

  /** Registers a new session with id `<caller>-<17 hex digits>` (like the real service) and a fresh token. */
  create(input: NewSession): EmulatorSession {
    const prefix = input.callerName.replace(/[^\w.@=+,-]/g, "") || "session";
    let sessionId: string;
    do {
      sessionId = `${prefix}-${this.#random(9).toString("hex").slice(0, 17)}`;
    } while (this.#sessions.has(sessionId));
    const session: MutableSession = {
      sessionId,
      token: this.#newToken(),
      target: input.instance.instanceId,
      instance: input.instance,
      documentName: input.documentName,
      parameters: { ...input.parameters },
      sessionType: input.sessionType,
      properties: input.properties,
      state: "Connecting",
      createdBy: input.createdBy,
      createdAt: this.#clock.now(),
      kmsKeyId: input.sessionType === "Port" ? undefined : input.kmsKeyId,
    };
    this.#sessions.set(sessionId, session);
    return session;
  }

  get(sessionId: string): EmulatorSession | undefined {
    return this.#sessions.get(sessionId);
  }

  /** All sessions, oldest first. */
  list(): EmulatorSession[] {
    return [...this.#sessions.values()];
  }

  /** True when `token` is the session's current token and the session has not ended. */
  validateToken(sessionId: string, token: string): boolean {
    const session = this.#sessions.get(sessionId);
    if (!session || session.state === "Terminated") return false;
    const expected = Buffer.from(session.token);
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** Gives the session a new token (ResumeSession); the old one stops working. */
  rotateToken(sessionId: string): string | undefined {
    const session = this.#sessions.get(sessionId);
    if (!session || session.state === "Terminated") return undefined;
    session.token = this.#newToken();
    return session.token;
  }

  /** Records that the client's websocket attached or went away (called by the gateway). */
  setState(sessionId: string, state: "Connected" | "Disconnected"): void {
    const session = this.#sessions.get(sessionId);
    if (session && session.state !== "Terminated") session.state = state;
  }

  /**
   * Ends a session and tells listeners (the gateway then sends `channel_closed`). Returns false
   * when the session is unknown or already over.
   */
  terminate(sessionId: string, reason: TerminationReason = "TerminateSession"): boolean {
    const session = this.#sessions.get(sessionId);
    if (!session || session.state === "Terminated") return false;
    session.state = "Terminated";
    for (const listener of this.#terminatedListeners) listener(session, reason);
    return true;
  }

  /** Subscribes to terminations; returns the unsubscribe function. */
  onTerminated(listener: (session: EmulatorSession, reason: TerminationReason) => void): () => void {
    this.#terminatedListeners.add(listener);
    return () => this.#terminatedListeners.delete(listener);
  }

  #newToken(): string {
    return this.#random(96).toString("base64url");
  }
}
