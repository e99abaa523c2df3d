/**
 * Connects the gateway to the emulator's {@link SessionRegistry}: tokens, terminations and
 * connection state.
 */

import { randomUUID } from "node:crypto";
import { FlagValue } from "@aws-runas/wire/protocol/index.js";
import type { AgentSessionSpec } from "../agent/types.js";
import type { RequestLog } from "../api/request-log.js";
import { AGENT_VERSION } from "../fixture/default.js";
import type { EmulatorSession, SessionRegistry } from "../world/sessions.js";
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

const FLAG_NAMES: Readonly<Record<number, string>> = {
  [FlagValue.disconnectToPort]: "DisconnectToPort",
  [FlagValue.terminateSession]: "TerminateSession",
  [FlagValue.connectToPortError]: "ConnectToPortError",
};

/** A {@link SessionDirectory} backed by the registry; client flags go to `log` when given. */
export function registryDirectory(registry: SessionRegistry, log?: RequestLog): SessionDirectory {
  return {
    flagReceived(sessionId, flag) {
      log?.add({
        time: new Date().toISOString(),
        service: "ssmmessages",
        operation: "Flag",
        accessKeyId: undefined,
        principal: registry.get(sessionId)?.createdBy,
        status: 200,
        errorCode: undefined,
        requestId: randomUUID(),
        sessionId,
        flag: FLAG_NAMES[flag] ?? String(flag),
      });
    },
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
