/**
 * One endpoint for every emulated service, routed the way SDK v3 clients send requests:
 * JSON 1.1 by `X-Amz-Target` (`AmazonSSM.*`, `TrentService.*`, `AWSEC2InstanceConnectService.*`),
 * query protocol by the `Action` parameter plus the SigV4 credential-scope service (`sts`/`ec2`).
 *
 * Each call: decode → authenticate (SigV4) → authorize (allow-list) → run → encode, and one
 * request-log entry.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "@aws-runas/wire/log.js";
import type { ApiCall, ApiContext, JsonOperation, QueryOperation, ServiceName } from "./context.js";
import { EC2_XMLNS, ec2Operations } from "./ec2.js";
import { ec2icOperations } from "./ec2ic.js";
import { ApiError, accessDenied, unknownOperation, type WireProtocol } from "./errors.js";
import { isAllowed } from "./identity.js";
import { kmsOperations } from "./kms.js";
import type { RequestLog } from "./request-log.js";
import { authenticate, type ReceivedRequest, scopeService } from "./sigv4.js";
import { ssmOperations } from "./ssm.js";
import { STS_XMLNS, stsOperations } from "./sts.js";
import { element, type XmlValue, xmlDocument } from "./xml.js";

/** An HTTP response to write. */
export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_TARGETS: Readonly<
  Record<string, { service: ServiceName; operations: Readonly<Record<string, JsonOperation>> }>
> = {
  AmazonSSM: { service: "ssm", operations: ssmOperations },
  TrentService: { service: "kms", operations: kmsOperations },
  AWSEC2InstanceConnectService: { service: "ec2-instance-connect", operations: ec2icOperations },
};

/** Calls real STS serves without any identity-policy permission (AssumeRole is checked by trust). */
const NO_PERMISSION_NEEDED = new Set(["sts:GetCallerIdentity", "sts:GetSessionToken", "sts:AssumeRole"]);

interface Route {
  protocol: WireProtocol;
  service: ServiceName;
  operation: string;
  json: Record<string, unknown>;
  params: URLSearchParams;
  handler: JsonOperation | QueryOperation | undefined;
  version: string | undefined;
}

function route(request: ReceivedRequest): Route | ApiError {
  const target = request.headers["x-amz-target"];
  if (typeof target === "string") {
    const dot = target.indexOf(".");
    const prefix = dot < 0 ? target : target.slice(0, dot);
    const operation = dot < 0 ? "" : target.slice(dot + 1);
    const entry = JSON_TARGETS[prefix];
    if (!entry) return unknownOperation("json", target);
    let json: unknown;
    try {
      json = request.body.length === 0 ? {} : JSON.parse(request.body.toString("utf8"));
    } catch {
      return new ApiError("SerializationException", "Start of structure or map found where not expected.");
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      return new ApiError("SerializationException", "Start of structure or map found where not expected.");
    }
    const handler = Object.hasOwn(entry.operations, operation) ? entry.operations[operation] : undefined;
    return {
      protocol: "json",
      service: entry.service,
      operation,
      json: json as Record<string, unknown>,
      params: new URLSearchParams(),
      handler,
      version: undefined,
    };
  }
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(request.query))
    for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
  const contentType = String(request.headers["content-type"] ?? "");
  if (request.method === "POST" && contentType.startsWith("application/x-www-form-urlencoded")) {
    for (const [k, v] of new URLSearchParams(request.body.toString("utf8"))) params.append(k, v);
  }
  const action = params.get("Action");
  if (!action) return new ApiError("MissingAction", "Missing Action", 400);
  const scope = scopeService(request.headers);
  const service: ServiceName =
    scope === "sts" || scope === "ec2" ? scope : Object.hasOwn(stsOperations, action) ? "sts" : "ec2";
  const operations = service === "sts" ? stsOperations : ec2Operations;
  return {
    protocol: service === "sts" ? "query" : "ec2",
    service,
    operation: action,
    json: {},
    params,
    handler: Object.hasOwn(operations, action) ? operations[action] : undefined,
    version: params.get("Version") ?? undefined,
  };
}

function success(r: Route, requestId: string, result: Record<string, unknown>): ApiResponse {
  if (r.protocol === "json") {
    return {
      status: 200,
      headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": requestId },
      body: JSON.stringify(result),
    };
  }
  const content = result as { [name: string]: XmlValue };
  const body =
    r.protocol === "query"
      ? element(
          `${r.operation}Response`,
          { [`${r.operation}Result`]: content, ResponseMetadata: { RequestId: requestId } },
          { xmlns: STS_XMLNS },
        )
      : xmlDocument(`${r.operation}Response`, { requestId, ...content }, { xmlns: EC2_XMLNS });
  return { status: 200, headers: { "content-type": "text/xml", "x-amzn-requestid": requestId }, body };
}

/** Encodes an AWS error in the request's wire protocol. */
export function errorResponse(protocol: WireProtocol, error: ApiError, requestId: string): ApiResponse {
  if (protocol === "json") {
    return {
      status: error.status,
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amzn-requestid": requestId,
        "x-amzn-errortype": error.awsCode,
      },
      body: JSON.stringify({ __type: error.awsCode, message: error.message }),
    };
  }
  const body =
    protocol === "query"
      ? element(
          "ErrorResponse",
          { Error: { Type: error.fault, Code: error.awsCode, Message: error.message }, RequestId: requestId },
          { xmlns: STS_XMLNS },
        )
      : xmlDocument("Response", {
          Errors: { Error: { Code: error.awsCode, Message: error.message } },
          RequestID: requestId,
        });
  return {
    status: error.status,
    headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
    body,
  };
}

function resourceFor(
  call: Pick<ApiCall, "service" | "operation" | "json">,
  ctx: ApiContext,
): string | undefined {
  const { region, accountId } = ctx.fixture;
  if (call.service === "ssm" && call.operation === "StartSession" && typeof call.json.Target === "string") {
    const target = call.json.Target;
    return target.startsWith("mi-")
      ? `arn:aws:ssm:${region}:${accountId}:managed-instance/${target}`
      : `arn:aws:ec2:${region}:${accountId}:instance/${target}`;
  }
  if (call.service === "ssm" && typeof call.json.SessionId === "string") {
    return `arn:aws:ssm:${region}:${accountId}:session/${call.json.SessionId}`;
  }
  // KMS names the key in its AccessDeniedException ("... on resource: arn:aws:kms:...:key/...").
  if (call.service === "kms" && typeof call.json.KeyId === "string") {
    return ctx.dataKeys.resourceArn(call.json.KeyId);
  }
  if (call.service === "kms" && typeof call.json.CiphertextBlob === "string") {
    return ctx.dataKeys.blobKeyArn(Buffer.from(call.json.CiphertextBlob, "base64"));
  }
  return undefined;
}

/** Serves one API request. Never throws: every failure becomes an AWS error response. */
export async function handleApiRequest(
  request: ReceivedRequest,
  ctx: ApiContext,
  log: RequestLog,
  logger: Logger,
): Promise<ApiResponse> {
  const requestId = randomUUID();
  const r = route(request);
  const entry = {
    time: new Date(ctx.clock.now()).toISOString(),
    service: r instanceof ApiError ? "unknown" : r.service,
    operation: r instanceof ApiError ? String(request.headers["x-amz-target"] ?? "") : r.operation,
    accessKeyId: undefined as string | undefined,
    principal: undefined as string | undefined,
    requestId,
    sessionId:
      !(r instanceof ApiError) && typeof r.json.SessionId === "string" ? r.json.SessionId : undefined,
  };
  let response: ApiResponse;
  let errorCode: string | undefined;
  if (r instanceof ApiError) {
    errorCode = r.awsCode;
    response = errorResponse(
      typeof request.headers["x-amz-target"] === "string" ? "json" : "query",
      r,
      requestId,
    );
  } else {
    try {
      const { key } = await authenticate(request, r.protocol, ctx.identities, ctx.clock);
      entry.accessKeyId = key.accessKeyId;
      entry.principal = key.principal.arn;
      if (!r.handler) throw unknownOperation(r.protocol, r.operation, r.version);
      const call: ApiCall = {
        protocol: r.protocol,
        service: r.service,
        operation: r.operation,
        caller: key.principal,
        key,
        requestId,
        json: r.json,
        params: r.params,
      };
      const action = `${r.service}:${r.operation}`;
      if (!NO_PERMISSION_NEEDED.has(action) && !isAllowed(key.principal.allow, action)) {
        throw accessDenied(r.protocol, key.principal.arn, action, resourceFor(call, ctx));
      }
      const result = await r.handler(call, ctx);
      const created = (result as { SessionId?: unknown } | undefined)?.SessionId;
      if (entry.sessionId === undefined && typeof created === "string") entry.sessionId = created;
      response = success(r, requestId, result);
    } catch (error) {
      let apiError: ApiError;
      if (error instanceof ApiError) {
        apiError = error;
      } else {
        logger.warn(
          `emulator: ${entry.service}.${entry.operation} failed: ${(error as Error).stack ?? String(error)}`,
        );
        apiError = new ApiError(
          r.protocol === "json" ? "InternalServerError" : "InternalFailure",
          "An internal error occurred.",
          500,
          "Receiver",
        );
      }
      errorCode = apiError.awsCode;
      response = errorResponse(r.protocol, apiError, requestId);
    }
  }
  log.add({ ...entry, status: response.status, errorCode });
  logger.debug(
    `emulator: ${entry.service}.${entry.operation} ${response.status}${errorCode ? ` ${errorCode}` : ""} ${entry.principal ?? "-"}`,
  );
  return response;
}
