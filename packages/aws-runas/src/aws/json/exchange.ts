/**
 * One HTTP request and its whole answer, over node:http / node:https with the client's agents
 * (proxy, CA bundle) and the SDK's two time limits: connecting, and a silent socket. Failures
 * without an answer keep Node's error (and its `code`); time limits fail as `TimeoutError` and
 * an aborted call as `AbortError`, the names the SDK gives them.
 */
import { type Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { type Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { HttpAnswer } from "./protocol.js";

export interface HttpSettings {
  readonly httpAgent?: HttpAgent;
  readonly httpsAgent?: HttpsAgent;
  /** Connecting may take this long. */
  readonly connectionTimeout: number;
  /** A request whose socket stays silent this long fails. */
  readonly requestTimeout: number;
}

export interface HttpRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Answers larger than this are refused: no SSM answer we read comes near it. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export function exchange(
  request: HttpRequest,
  settings: HttpSettings,
  signal?: AbortSignal,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const secure = request.url.protocol === "https:";
    const send = secure ? httpsRequest : httpRequest;
    const agent = secure ? settings.httpsAgent : settings.httpAgent;
    const req = send(request.url, {
      method: request.method,
      headers: { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
      ...(agent ? { agent } : {}),
    });
    let connectTimer: NodeJS.Timeout | undefined;
    const fail = (error: Error) => {
      clearTimeout(connectTimer);
      signal?.removeEventListener("abort", onAbort);
      req.destroy();
      reject(error);
    };
    const onAbort = () => fail(abortError(signal));
    signal?.addEventListener("abort", onAbort, { once: true });
    req.on("socket", (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(
        () => fail(timeoutError(`no connection within ${settings.connectionTimeout} ms`)),
        settings.connectionTimeout,
      );
      socket.once("connect", () => clearTimeout(connectTimer));
    });
    req.setTimeout(settings.requestTimeout, () =>
      fail(timeoutError(`no answer within ${settings.requestTimeout} ms`)),
    );
    req.on("error", fail);
    req.on("response", (response: IncomingMessage) => {
      readAll(response).then((body) => {
        clearTimeout(connectTimer);
        signal?.removeEventListener("abort", onAbort);
        resolve({ status: response.statusCode ?? 0, headers: flatHeaders(response), body });
      }, fail);
    });
    req.end(request.body);
  });
}

async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > MAX_ANSWER_BYTES) throw new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function flatHeaders(response: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

function timeoutError(message: string): Error {
  const error = new Error(message);
  error.name = "TimeoutError";
  return error;
}

/** The SDK's error for a call its caller gave up on (`AbortSignal`). */
export function abortError(signal: AbortSignal | undefined): Error {
  const error = new Error(
    "Request aborted",
    signal?.reason === undefined ? undefined : { cause: signal.reason },
  );
  error.name = "AbortError";
  return error;
}
