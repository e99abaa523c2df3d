/**
 * What the gateway needs from the emulator's session registry. The registry (StartSession,
 * ResumeSession, TerminateSession) owns sessions and tokens; the gateway only asks and listens.
 */
import type { AgentSessionSpec } from "../agent/types.js";

export interface SessionDirectory {
  /**
   * The session the token opens, or undefined when the session is unknown or the token is not
   * valid for it (a token from StartSession or the latest ResumeSession).
   */
  authorize(sessionId: string, tokenValue: string): AgentSessionSpec | undefined;
  /** Subscribes to TerminateSession; returns the unsubscribe function. */
  onTerminated?(listener: (sessionId: string) => void): () => void;
  /** The agent side ended the session (shell exited, target closed, failure). */
  sessionEnded?(sessionId: string, output: string): void;
  /** A client websocket attached to the session (true) or went away (false). */
  connectionChanged?(sessionId: string, connected: boolean): void;
  /** The client sent a Flag message (for the request log). */
  flagReceived?(sessionId: string, flag: number): void;
}
