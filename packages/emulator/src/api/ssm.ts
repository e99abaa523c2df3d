/**
 * SSM (JSON 1.1, `AmazonSSM.*`): StartSession, ResumeSession, TerminateSession and
 * DescribeInstanceInformation.
 *
 * StartSession answers `TargetNotConnected` ("<id> is not connected.") for unknown targets as
 * well as for stopped instances and offline agents: that is what the real service returns for
 * an id it has no agent connection for (it never says InvalidInstanceId for StartSession).
 */

import { AGENT_VERSION } from "../fixture/default.js";
import type { FixtureInstance } from "../fixture/types.js";
import { isDocumentProblem, resolveDocument } from "../world/documents.js";
import type { ApiCall, ApiContext, JsonOperation } from "./context.js";
import { ApiError } from "./errors.js";
import { JsonInput } from "./input.js";
import { decodeNextToken, page, queryFingerprint } from "./pagination.js";

function notConnected(target: string): ApiError {
  return new ApiError("TargetNotConnected", `${target} is not connected.`);
}

function streamUrl(ctx: ApiContext, sessionId: string): string {
  return `${ctx.websocketBase()}/v1/data-channel/${encodeURIComponent(sessionId)}?role=publish_subscribe`;
}

/** Effective ping status: a stopped instance's agent is never online. */
export function pingStatus(instance: FixtureInstance): "Online" | "ConnectionLost" {
  return instance.state === "running" && instance.agent?.pingStatus === "Online"
    ? "Online"
    : "ConnectionLost";
}

const startSession: JsonOperation = (call: ApiCall, ctx: ApiContext) => {
  const input = new JsonInput(call.json);
  const target = input.requiredString("Target");
  const documentName = input.string("DocumentName");
  const parameters = input.stringListMap("Parameters");
  input.string("Reason");
  if (ctx.faults.targetNotConnected.includes(target)) throw notConnected(target);
  const instance = ctx.fixture.instances.find((i) => i.instanceId === target);
  if (!instance?.agent || pingStatus(instance) !== "Online") throw notConnected(target);
  const resolved = resolveDocument(documentName, parameters);
  if (isDocumentProblem(resolved)) throw new ApiError(resolved.code, resolved.message);
  const session = ctx.sessions.create({
    callerName: call.caller.name,
    createdBy: call.caller.arn,
    instance,
    documentName: resolved.documentName,
    parameters: resolved.parameters,
    sessionType: resolved.sessionType,
    properties: resolved.properties,
    kmsKeyId: instance.sessionPreferences?.kmsKeyId,
  });
  return {
    SessionId: session.sessionId,
    TokenValue: session.token,
    StreamUrl: streamUrl(ctx, session.sessionId),
  };
};

const resumeSession: JsonOperation = (call, ctx) => {
  const sessionId = new JsonInput(call.json).requiredString("SessionId");
  const session = ctx.sessions.get(sessionId);
  if (!session) throw new ApiError("DoesNotExistException", `Session with id ${sessionId} does not exist.`);
  // A reply without TokenValue is how the service says the session timed out (ssm-protocol.md §2).
  if (ctx.sessions.refuseResume || session.state === "Terminated") return { SessionId: sessionId };
  const token = ctx.sessions.rotateToken(sessionId);
  return { SessionId: sessionId, TokenValue: token, StreamUrl: streamUrl(ctx, sessionId) };
};

const terminateSession: JsonOperation = (call, ctx) => {
  const sessionId = new JsonInput(call.json).requiredString("SessionId");
  ctx.sessions.terminate(sessionId, "TerminateSession");
  return { SessionId: sessionId };
};

const FILTER_KEYS = [
  "InstanceIds",
  "AgentVersion",
  "PingStatus",
  "PlatformTypes",
  "ResourceType",
  "ActivationIds",
  "IamRole",
  "AssociationStatus",
];

interface InfoFilter {
  key: string;
  values: string[];
}

function readFilters(input: JsonInput): InfoFilter[] {
  const filters: InfoFilter[] = [];
  for (const f of input.objects("InstanceInformationFilterList") ?? []) {
    const key = f.key;
    const values = f.valueSet;
    if (typeof key !== "string" || !FILTER_KEYS.includes(key))
      throw new ApiError("InvalidFilterKey", `Invalid filter key: ${String(key)}`);
    if (!Array.isArray(values) || values.length === 0) {
      throw new ApiError("InvalidInstanceInformationFilterValue", `Filter ${key} needs at least one value.`);
    }
    filters.push({ key, values: values.map(String) });
  }
  for (const f of input.objects("Filters") ?? []) {
    const key = f.Key;
    const values = f.Values;
    if (
      typeof key !== "string" ||
      !(FILTER_KEYS.includes(key) || key.startsWith("tag:") || key === "tag-key")
    ) {
      throw new ApiError("InvalidFilterKey", `Invalid filter key: ${String(key)}`);
    }
    if (!Array.isArray(values) || values.length === 0) {
      throw new ApiError("InvalidInstanceInformationFilterValue", `Filter ${key} needs at least one value.`);
    }
    filters.push({ key, values: values.map(String) });
  }
  return filters;
}

function infoValues(instance: FixtureInstance, key: string): string[] {
  if (key.startsWith("tag:")) {
    const tag = instance.tags[key.slice(4)];
    return tag === undefined ? [] : [tag];
  }
  switch (key) {
    case "InstanceIds":
      return [instance.instanceId];
    case "AgentVersion":
      return [instance.agent?.version ?? ""];
    case "PingStatus":
      return [pingStatus(instance)];
    case "PlatformTypes":
      return [instance.platform];
    case "ResourceType":
      return [instance.instanceId.startsWith("mi-") ? "ManagedInstance" : "EC2Instance"];
    case "tag-key":
      return Object.keys(instance.tags);
    default:
      return [];
  }
}

function instanceInformation(instance: FixtureInstance, now: number): Record<string, unknown> {
  const managed = instance.instanceId.startsWith("mi-");
  const online = pingStatus(instance) === "Online";
  const launched = Date.parse(instance.launchTime);
  return {
    InstanceId: instance.instanceId,
    PingStatus: pingStatus(instance),
    // Online agents ping every few minutes; lost ones stopped a while ago.
    LastPingDateTime: Math.floor((online ? now - 60_000 : Math.max(launched, now - 3 * 86_400_000)) / 1000),
    AgentVersion: instance.agent?.version,
    IsLatestVersion: instance.agent?.version === AGENT_VERSION.modern,
    PlatformType: instance.platform,
    PlatformName:
      instance.platform === "Linux"
        ? "Amazon Linux"
        : instance.platform === "Windows"
          ? "Microsoft Windows Server 2022 Datacenter"
          : "macOS",
    PlatformVersion:
      instance.platform === "Linux" ? "2023" : instance.platform === "Windows" ? "10.0.20348" : "14.0",
    ResourceType: managed ? "ManagedInstance" : "EC2Instance",
    IPAddress: instance.privateIp ?? instance.ipv6,
    ComputerName: instance.tags.Name ?? instance.instanceId,
    SourceId: instance.instanceId,
    SourceType: managed ? "AWS::SSM::ManagedInstance" : "AWS::EC2::Instance",
    ...(managed
      ? {
          RegistrationDate: Math.floor(launched / 1000),
          ActivationId: "e488f2f6-e686-4afb-8a04-ef6dfEXAMPLE",
        }
      : {}),
  };
}

const describeInstanceInformation: JsonOperation = (call, ctx) => {
  const input = new JsonInput(call.json);
  const filters = readFilters(input);
  const maxResults = input.integer("MaxResults", 5, 50) ?? 50;
  const token = input.string("NextToken");
  const fingerprint = queryFingerprint({ filters, maxResults });
  let offset = 0;
  if (token !== undefined) {
    const decoded = decodeNextToken(token, fingerprint);
    if (decoded === undefined) throw new ApiError("InvalidNextToken", "The specified token isn't valid.");
    offset = decoded;
  }
  const selected = ctx.fixture.instances.filter(
    (i) =>
      i.agent !== undefined && filters.every((f) => infoValues(i, f.key).some((v) => f.values.includes(v))),
  );
  const now = ctx.clock.now();
  const result = page(selected, offset, maxResults, fingerprint);
  return {
    InstanceInformationList: result.items.map((i) => instanceInformation(i, now)),
    ...(result.nextToken ? { NextToken: result.nextToken } : {}),
  };
};

/** SSM operations by name (the part after `AmazonSSM.`). */
export const ssmOperations: Readonly<Record<string, JsonOperation>> = {
  StartSession: startSession,
  ResumeSession: resumeSession,
  TerminateSession: terminateSession,
  DescribeInstanceInformation: describeInstanceInformation,
};
