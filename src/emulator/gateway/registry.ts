/**
 * Connects the gateway to the emulator's {@link SessionRegistry}: tokens, terminations and
 * connection state.
 */

import type { AgentSessionSpec } from "../agent/types.js";
import { AGENT_VERSION } from "../fixture/default.js";
import type { EmulatorSession, SessionRegistry } from "../sessions.js";
import type { SessionDirectory } from "./types.js";

/** What the simulated agent needs from a registry session. */
export function agentSpecOf(session: EmulatorSession): AgentSessionSpec {
  return {
    sessionId: session.sessionId,
    instanceId: session.target,
    // StartSession refuses instances without an agent; the default only guards odd fixtures.
    agentVersion: session.instance.agent?.version ?? AGENT_VERSION.modern,
    sessionType: session.sessionType,
    properties: session.properties,
    kmsKeyId: session.kmsKeyId,
    ...(session.instance.sessionPreferences?.idleSessionTimeout !== undefined
      ? { idleSessionTimeout: session.instance.sessionPreferences.idleSessionTimeout }
      : {}),
    ...(session.instance.sessionPreferences?.maxSessionDuration !== undefined
      ? { maxSessionDuration: session.instance.sessionPreferences.maxSessionDuration }
      : {}),
  };
}

/** A {@link SessionDirectory} backed by the registry. */
export function registryDirectory(registry: SessionRegistry): SessionDirectory {
  return {
    authorize(sessionId, tokenValue) {
      if (!registry.validateToken(sessionId, tokenValue)) return undefined;
      const session = registry.get(sessionId);
      return session ? agentSpecOf(session) : undefined;
    },
    onTerminated(listener) {
      return registry.onTerminated((session) => listener(session.sessionId));
    },
    sessionEnded(sessionId) {
      registry.terminate(sessionId, "emulator");
    },
    connectionChanged(sessionId, connected) {
      registry.setState(sessionId, connected ? "Connected" : "Disconnected");
    },
  };
}
