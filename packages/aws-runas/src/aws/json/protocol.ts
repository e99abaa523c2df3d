/**
 * The AWS JSON 1.1 protocol (SSM, KMS...): `POST /` with `X-Amz-Target: <prefix>.<Operation>`
 * and a JSON body; the answer is a JSON object, or an error as HTTP 4xx/5xx with the code in
 * `X-Amzn-ErrorType` or the body's `__type`. Failures come out shaped like the SDK's service
 * exceptions (`name`, `message`, `$fault`, `$metadata`, `$response`), which is what the one
 * classification in ../errors.ts reads. Pure.
 */

export const JSON_CONTENT_TYPE = "application/x-amz-json-1.1";

/** An HTTP answer as received; header names in lower case. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

/** The SDK's `$metadata` fields that are ours to fill. */
export interface ResponseMetadata {
  httpStatusCode?: number;
  requestId?: string;
  attempts?: number;
  totalRetryDelay?: number;
}

/** An error answer of the service (or an answer that cannot be read). */
export class AwsServiceError extends Error {
  readonly $fault: "client" | "server";
  readonly $metadata: ResponseMetadata;
  /** There was an answer: the network worked (../errors.ts tells network failures by its absence). */
  readonly $response: HttpAnswer;

  constructor(name: string, message: string, answer: HttpAnswer) {
    super(message);
    this.name = name;
    this.$fault = answer.status >= 500 ? "server" : "client";
    this.$response = answer;
    this.$metadata = { httpStatusCode: answer.status, ...requestIdOf(answer) };
  }
}

/** The headers (besides signing and `host`) and body of a call. */
export function encodeRequest(
  targetPrefix: string,
  operation: string,
  input: object,
): { headers: Record<string, string>; body: string } {
  return {
    headers: { "content-type": JSON_CONTENT_TYPE, "x-amz-target": `${targetPrefix}.${operation}` },
    body: JSON.stringify(input),
  };
}

/** The output object of a 2xx answer; an {@link AwsServiceError} for anything else. */
export function decodeAnswer(answer: HttpAnswer): Record<string, unknown> {
  const parsed = parseJson(answer.body);
  if (answer.status >= 200 && answer.status < 300) {
    if (answer.body.trim() === "") return {};
    if (isObject(parsed)) return parsed;
    throw new AwsServiceError("InvalidResponse", "the service's answer is not a JSON object", answer);
  }
  const body = isObject(parsed) ? parsed : {};
  const code =
    errorCode(answer.headers["x-amzn-errortype"]) ?? errorCode(stringField(body, "__type", "code", "Code"));
  const message = stringField(body, "message", "Message", "errorMessage") ?? "";
  if (code) throw new AwsServiceError(code, message, answer);
  // No code: the status still says what it is (../errors.ts reads 429 and 5xx).
  const what = isObject(parsed) ? "with no error code" : "that is not JSON";
  throw new AwsServiceError("UnknownError", `HTTP ${answer.status} answer ${what}`, answer);
}

/**
 * `aws.protocoltests#ThrottlingException`, `ThrottlingException:http://internal.amazon.com/…`
 * and `ThrottlingException` all name the same code.
 */
function errorCode(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const withoutUri = raw.split(":")[0] ?? "";
  const code = withoutUri.slice(withoutUri.lastIndexOf("#") + 1).trim();
  return code === "" ? undefined : code;
}

function requestIdOf(answer: HttpAnswer): { requestId?: string } {
  const id = answer.headers["x-amzn-requestid"] ?? answer.headers["x-amz-request-id"];
  return id ? { requestId: id } : {};
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringField(body: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = body[name];
    if (typeof value === "string") return value;
  }
  return undefined;
}
