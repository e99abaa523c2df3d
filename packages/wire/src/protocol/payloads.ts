/**
 * JSON and binary payloads carried inside messages (ssm-protocol.md §3.2, §4.6, §4.7, §5.3, §5.4).
 * Encoders write keys in the order the official peers do; decoders validate shape and throw only
 * {@link ProtocolError} with code PROTOCOL_BAD_JSON.
 */
import { ProtocolError } from "../errors.js";

/** §4.7 acknowledge payload (PayloadType 0, header seq 0, Flags 3). */
export interface AcknowledgeContent {
  AcknowledgedMessageType: string;
  AcknowledgedMessageId: string;
  AcknowledgedMessageSequenceNumber: number;
  IsSequentialMessage: boolean;
}

/** §4.7 channel_closed payload. `CreatedDate` is a string on the wire. */
export interface ChannelClosedContent {
  MessageId: string;
  CreatedDate: string;
  DestinationId: string;
  SessionId: string;
  MessageType: string;
  SchemaVersion: number;
  Output: string;
}

/** §5.3: one requested action of a HandshakeRequest. */
export type RequestedClientAction =
  | { ActionType: "SessionType"; ActionParameters: SessionTypeParameters }
  | { ActionType: "KMSEncryption"; ActionParameters: KmsEncryptionParameters }
  | { ActionType: string; ActionParameters: unknown };

export interface SessionTypeParameters {
  SessionType: string;
  /** Document properties for Port sessions; null for the shell family. */
  Properties: Record<string, unknown> | null;
}

export interface KmsEncryptionParameters {
  KMSKeyId: string;
  /** RandomChallenge extension offered by newer agents (§5.4.8). */
  Challenge?: string;
}

/** §5.3 HandshakeRequest (agent → client, PayloadType 5). */
export interface HandshakeRequestPayload {
  AgentVersion: string;
  RequestedClientActions: RequestedClientAction[];
}

/** §5.3: one processed action of a HandshakeResponse. */
export interface ProcessedClientAction {
  ActionType: string;
  ActionStatus: number;
  ActionResult: unknown;
  Error: string;
}

/** §5.3 HandshakeResponse (client → agent, PayloadType 6). */
export interface HandshakeResponsePayload {
  ClientVersion: string;
  ProcessedClientActions: ProcessedClientAction[];
  Errors: string[] | null;
}

/** §5.3 HandshakeComplete (agent → client, PayloadType 7). Time in nanoseconds. */
export interface HandshakeCompletePayload {
  HandshakeTimeToComplete: number;
  CustomerMessage: string;
}

/** §5.4 KMSEncryption action result. Byte fields are base64 strings (Go `[]byte`), nil as null. */
export interface KmsEncryptionResult {
  KMSCipherTextKey: string;
  KMSCipherTextHash: string | null;
  ChallengeAcknowledgement?: boolean;
}

/** PayloadType 3: terminal size, keys in this order. */
export interface TerminalSize {
  cols: number;
  rows: number;
}

/** PayloadType 8/9: `{"Challenge":"<base64>"}`. */
export interface EncryptionChallenge {
  Challenge: string;
}

/** §3.2 the first (text) frame on the websocket. */
export interface OpenDataChannelInput {
  MessageSchemaVersion: string;
  RequestId: string;
  TokenValue: string;
  ClientId?: string;
  ClientVersion?: string;
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/**
 * Built as a template rather than `JSON.stringify` of an object: one ack goes out per message
 * received, and this was the costliest line of an ack. Same bytes as the object form (a test
 * compares them); the strings still go through `JSON.stringify` for escaping.
 */
export function encodeAcknowledge(c: AcknowledgeContent): Buffer {
  const seq = c.AcknowledgedMessageSequenceNumber;
  if (!Number.isSafeInteger(seq)) {
    throw new ProtocolError("PROTOCOL_BAD_FIELD", `cannot encode AcknowledgedMessageSequenceNumber ${seq}`);
  }
  return Buffer.from(
    `{"AcknowledgedMessageType":${JSON.stringify(c.AcknowledgedMessageType)},` +
      `"AcknowledgedMessageId":${JSON.stringify(c.AcknowledgedMessageId)},` +
      `"AcknowledgedMessageSequenceNumber":${seq},"IsSequentialMessage":${c.IsSequentialMessage === true}}`,
    "utf8",
  );
}

export function decodeAcknowledge(payload: Uint8Array): AcknowledgeContent {
  const o = parseObject(payload, "acknowledge");
  return {
    AcknowledgedMessageType: str(o, "AcknowledgedMessageType", "acknowledge"),
    AcknowledgedMessageId: str(o, "AcknowledgedMessageId", "acknowledge"),
    AcknowledgedMessageSequenceNumber: int(o, "AcknowledgedMessageSequenceNumber", "acknowledge"),
    IsSequentialMessage: o.IsSequentialMessage === true,
  };
}

export function encodeChannelClosed(c: ChannelClosedContent): Buffer {
  return json({
    MessageId: c.MessageId,
    CreatedDate: c.CreatedDate,
    DestinationId: c.DestinationId,
    SessionId: c.SessionId,
    MessageType: c.MessageType,
    SchemaVersion: c.SchemaVersion,
    Output: c.Output,
  });
}

export function decodeChannelClosed(payload: Uint8Array): ChannelClosedContent {
  const o = parseObject(payload, "channel_closed");
  return {
    MessageId: optStr(o, "MessageId"),
    CreatedDate: optStr(o, "CreatedDate"),
    DestinationId: optStr(o, "DestinationId"),
    SessionId: optStr(o, "SessionId"),
    MessageType: optStr(o, "MessageType"),
    SchemaVersion: typeof o.SchemaVersion === "number" ? o.SchemaVersion : 1,
    Output: optStr(o, "Output"),
  };
}

export function encodeHandshakeRequest(p: HandshakeRequestPayload): Buffer {
  return json({
    AgentVersion: p.AgentVersion,
    RequestedClientActions: p.RequestedClientActions.map((a) => ({
      ActionType: a.ActionType,
      ActionParameters: a.ActionParameters,
    })),
  });
}

export function decodeHandshakeRequest(payload: Uint8Array): HandshakeRequestPayload {
  const o = parseObject(payload, "HandshakeRequest");
  const actions = o.RequestedClientActions;
  if (actions !== null && actions !== undefined && !Array.isArray(actions)) {
    throw badJson("HandshakeRequest", "RequestedClientActions is not an array");
  }
  return {
    AgentVersion: str(o, "AgentVersion", "HandshakeRequest"),
    RequestedClientActions: (actions ?? []).map((a: unknown) => {
      if (!isObject(a)) throw badJson("HandshakeRequest", "an action is not an object");
      const type = str(a, "ActionType", "HandshakeRequest");
      const params = a.ActionParameters;
      if (type === "SessionType") {
        if (!isObject(params)) throw badJson("HandshakeRequest", "SessionType parameters missing");
        const props = params.Properties;
        return {
          ActionType: type,
          ActionParameters: {
            SessionType: str(params, "SessionType", "HandshakeRequest"),
            Properties: isObject(props) ? props : null,
          },
        };
      }
      if (type === "KMSEncryption") {
        if (!isObject(params)) throw badJson("HandshakeRequest", "KMSEncryption parameters missing");
        const kms: KmsEncryptionParameters = { KMSKeyId: str(params, "KMSKeyId", "HandshakeRequest") };
        if (typeof params.Challenge === "string") kms.Challenge = params.Challenge;
        return { ActionType: type, ActionParameters: kms };
      }
      return { ActionType: type, ActionParameters: params };
    }),
  };
}

export function encodeHandshakeResponse(p: HandshakeResponsePayload): Buffer {
  return json({
    ClientVersion: p.ClientVersion,
    ProcessedClientActions: p.ProcessedClientActions.map((a) => ({
      ActionType: a.ActionType,
      ActionStatus: a.ActionStatus,
      ActionResult: a.ActionResult,
      Error: a.Error,
    })),
    Errors: p.Errors && p.Errors.length > 0 ? p.Errors : null,
  });
}

export function decodeHandshakeResponse(payload: Uint8Array): HandshakeResponsePayload {
  const o = parseObject(payload, "HandshakeResponse");
  const actions = o.ProcessedClientActions;
  if (actions !== null && actions !== undefined && !Array.isArray(actions)) {
    throw badJson("HandshakeResponse", "ProcessedClientActions is not an array");
  }
  const errors = o.Errors;
  return {
    ClientVersion: str(o, "ClientVersion", "HandshakeResponse"),
    ProcessedClientActions: (actions ?? []).map((a: unknown) => {
      if (!isObject(a)) throw badJson("HandshakeResponse", "an action is not an object");
      return {
        ActionType: str(a, "ActionType", "HandshakeResponse"),
        ActionStatus: typeof a.ActionStatus === "number" ? a.ActionStatus : 0,
        ActionResult: a.ActionResult ?? null,
        Error: typeof a.Error === "string" ? a.Error : "",
      };
    }),
    Errors: Array.isArray(errors) ? errors.map(String) : null,
  };
}

export function encodeHandshakeComplete(p: HandshakeCompletePayload): Buffer {
  return json({ HandshakeTimeToComplete: p.HandshakeTimeToComplete, CustomerMessage: p.CustomerMessage });
}

export function decodeHandshakeComplete(payload: Uint8Array): HandshakeCompletePayload {
  const o = parseObject(payload, "HandshakeComplete");
  return {
    HandshakeTimeToComplete: typeof o.HandshakeTimeToComplete === "number" ? o.HandshakeTimeToComplete : 0,
    CustomerMessage: optStr(o, "CustomerMessage"),
  };
}

export function encodeTerminalSize(size: TerminalSize): Buffer {
  return json({ cols: size.cols, rows: size.rows });
}

export function decodeTerminalSize(payload: Uint8Array): TerminalSize {
  const o = parseObject(payload, "size");
  return { cols: uint(o, "cols", "size"), rows: uint(o, "rows", "size") };
}

export function encodeEncryptionChallenge(c: EncryptionChallenge): Buffer {
  return json({ Challenge: c.Challenge });
}

export function decodeEncryptionChallenge(payload: Uint8Array): EncryptionChallenge {
  const o = parseObject(payload, "encryption challenge");
  return { Challenge: str(o, "Challenge", "encryption challenge") };
}

/** PayloadType 10: a 4-byte big-endian uint32 (§4.6, gotcha 15). */
export function encodeFlag(flag: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(flag, 0);
  return b;
}

export function decodeFlag(payload: Uint8Array): number {
  if (payload.length !== 4) throw badJson("flag", `expected 4 bytes, got ${payload.length}`);
  return Buffer.from(payload.buffer, payload.byteOffset, 4).readUInt32BE(0);
}

export function encodeOpenDataChannel(input: OpenDataChannelInput): string {
  const o: OpenDataChannelInput = {
    MessageSchemaVersion: input.MessageSchemaVersion,
    RequestId: input.RequestId,
    TokenValue: input.TokenValue,
  };
  if (input.ClientId !== undefined) o.ClientId = input.ClientId;
  if (input.ClientVersion !== undefined) o.ClientVersion = input.ClientVersion;
  return JSON.stringify(o);
}

export function decodeOpenDataChannel(text: string | Uint8Array): OpenDataChannelInput {
  const o = parseObject(typeof text === "string" ? Buffer.from(text) : text, "OpenDataChannel");
  const out: OpenDataChannelInput = {
    MessageSchemaVersion: str(o, "MessageSchemaVersion", "OpenDataChannel"),
    RequestId: str(o, "RequestId", "OpenDataChannel"),
    TokenValue: str(o, "TokenValue", "OpenDataChannel"),
  };
  if (typeof o.ClientId === "string") out.ClientId = o.ClientId;
  if (typeof o.ClientVersion === "string") out.ClientVersion = o.ClientVersion;
  return out;
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function badJson(what: string, detail: string): ProtocolError {
  return new ProtocolError("PROTOCOL_BAD_JSON", `bad ${what} payload: ${detail}`);
}

function parseObject(payload: Uint8Array, what: string): JsonObject {
  let value: unknown;
  try {
    const bytes = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    value = JSON.parse(bytes.toString("utf8"));
  } catch (cause) {
    throw new ProtocolError("PROTOCOL_BAD_JSON", `bad ${what} payload: not JSON`, cause);
  }
  if (!isObject(value)) throw badJson(what, "not a JSON object");
  return value;
}

function str(o: JsonObject, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== "string") throw badJson(what, `${key} is not a string`);
  return v;
}

function optStr(o: JsonObject, key: string): string {
  const v = o[key];
  return typeof v === "string" ? v : "";
}

function int(o: JsonObject, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw badJson(what, `${key} is not an integer`);
  return v;
}

function uint(o: JsonObject, key: string, what: string): number {
  const v = int(o, key, what);
  if (v < 0 || v > 0xffffffff) throw badJson(what, `${key} is out of range`);
  return v;
}
