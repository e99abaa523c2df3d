/**
 * Test hooks under `/_emulator/...` (the server only listens on 127.0.0.1, and these routes also
 * refuse non-loopback peers):
 *
 * | route | effect |
 * |---|---|
 * | `GET /_emulator/requests` | request log (service, operation, access key id, principal, time, status, session id; clients' Flag messages as `ssmmessages` `Flag`) |
 * | `DELETE /_emulator/requests` | clears the log |
 * | `GET /_emulator/clock` | `{"now": ISO, "offsetSeconds": n}` |
 * | `POST /_emulator/clock` `{"advanceSeconds": N}` | moves the emulator clock forward |
 * | `GET /_emulator/sessions` | sessions without their tokens |
 * | `POST /_emulator/sessions/<id>/terminate` | ends a session as TerminateSession from elsewhere would |
 * | `POST /_emulator/instances/<id>/restart-agent` `{"seconds": S}` | the instance's agent restarts: its sessions end, StartSession answers TargetNotConnected for S seconds (default 3) |
 * | `POST /_emulator/outage` `{"seconds": S}` | a network outage now: connections are cut and refused for S seconds |
 */
import type { IncomingMessage } from "node:http";
import type { RequestLog } from "../api/request-log.js";
import type { FaultConfig } from "../program/options.js";
import type { AdjustableClock } from "../world/clock.js";
import type { SessionRegistry } from "../world/sessions.js";
import type { NetworkOutage } from "./outage.js";

/** What the admin routes operate on. */
export interface AdminDeps {
  requestLog: RequestLog;
  clock: AdjustableClock;
  sessions: SessionRegistry;
  outage: NetworkOutage;
  faults: FaultConfig;
}

/** A response to write. */
export interface AdminResponse {
  status: number;
  body: unknown;
  /** The connection closes once the answer is written (`Connection: close`). */
  close?: boolean;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

function clockState(clock: AdjustableClock) {
  return { now: new Date(clock.now()).toISOString(), offsetSeconds: clock.offsetMs / 1000 };
}

function numberField(body: Buffer, name: string): number | undefined {
  try {
    const value = (JSON.parse(body.toString("utf8")) as Record<string, unknown>)[name];
    return typeof value === "number" && Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Serves one `/_emulator/...` request. */
export function handleAdminRequest(
  req: IncomingMessage,
  path: string,
  body: Buffer,
  deps: AdminDeps,
): AdminResponse {
  if (!LOOPBACK.has(req.socket.remoteAddress ?? ""))
    return { status: 403, body: { message: "admin routes are for 127.0.0.1 only" } };
  const method = req.method ?? "GET";
  const sessionAction = /^\/_emulator\/sessions\/([^/]+)\/terminate$/.exec(path);
  if (method === "POST" && sessionAction) {
    const id = decodeURIComponent(sessionAction[1] ?? "");
    return deps.sessions.terminate(id)
      ? { status: 200, body: { sessionId: id } }
      : { status: 404, body: { message: `no active session ${id}` } };
  }
  const restart = /^\/_emulator\/instances\/([^/]+)\/restart-agent$/.exec(path);
  if (method === "POST" && restart) {
    const id = decodeURIComponent(restart[1] ?? "");
    const seconds = body.length === 0 ? 3 : (numberField(body, "seconds") ?? 3);
    // While the agent is down StartSession answers TargetNotConnected, as for an offline agent.
    deps.faults.targetNotConnected.push(id);
    setTimeout(() => {
      const at = deps.faults.targetNotConnected.indexOf(id);
      if (at >= 0) deps.faults.targetNotConnected.splice(at, 1);
    }, seconds * 1000).unref();
    const ended = deps.sessions
      .list()
      .filter((s) => s.target === id && s.state !== "Terminated")
      .map((s) => s.sessionId);
    for (const sessionId of ended) deps.sessions.terminate(sessionId, "emulator");
    return { status: 200, body: { instanceId: id, endedSessions: ended, downSeconds: seconds } };
  }
  switch (`${method} ${path}`) {
    case "GET /_emulator/requests":
      return { status: 200, body: deps.requestLog.entries() };
    case "DELETE /_emulator/requests":
      deps.requestLog.clear();
      return { status: 200, body: {} };
    case "GET /_emulator/clock":
      return { status: 200, body: clockState(deps.clock) };
    case "POST /_emulator/clock": {
      let seconds: unknown;
      try {
        seconds = (JSON.parse(body.toString("utf8")) as { advanceSeconds?: unknown }).advanceSeconds;
      } catch {
        return { status: 400, body: { message: 'body must be JSON like {"advanceSeconds": 3600}' } };
      }
      if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
        return { status: 400, body: { message: "advanceSeconds must be a non-negative number" } };
      }
      deps.clock.advance(seconds);
      return { status: 200, body: clockState(deps.clock) };
    }
    case "POST /_emulator/outage": {
      const seconds = numberField(body, "seconds");
      if (seconds === undefined || seconds <= 0)
        return { status: 400, body: { message: 'body must be JSON like {"seconds": 60}' } };
      // Every connection is cut but this one, which carries the answer and then closes: a cut
      // here could reset it before the caller has read that answer.
      deps.outage.start(seconds, req.socket);
      return { status: 200, body: { seconds }, close: true };
    }
    case "GET /_emulator/sessions":
      return {
        status: 200,
        body: deps.sessions.list().map((s) => ({
          sessionId: s.sessionId,
          target: s.target,
          documentName: s.documentName,
          sessionType: s.sessionType,
          parameters: s.parameters,
          properties: s.properties,
          state: s.state,
          createdBy: s.createdBy,
          createdAt: new Date(s.createdAt).toISOString(),
          kmsKeyId: s.kmsKeyId,
        })),
      };
    default:
      return { status: 404, body: { message: `no admin route ${method} ${path}` } };
  }
}
