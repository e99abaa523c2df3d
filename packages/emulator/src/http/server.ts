/**
 * The emulator's HTTP server: one `http.Server` on 127.0.0.1 for every AWS API and the
 * `/_emulator/...` test hooks. The websocket gateway attaches to the same server through its
 * `upgrade` event (the server itself never handles upgrades).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "@aws-runas/wire/log.js";
import type { ApiContext } from "../api/context.js";
import { ApiError } from "../api/errors.js";
import { errorResponse, handleApiRequest } from "../api/router.js";
import type { ReceivedRequest } from "../api/sigv4.js";
import { type AdminDeps, handleAdminRequest } from "./admin.js";

/** Largest request body accepted (API requests are small). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Everything the server serves from. */
export interface ServerDeps extends AdminDeps {
  api: ApiContext;
  logger: Logger;
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function queryObject(search: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of search) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return query;
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: ServerDeps): Promise<void> {
  const body = await readBody(req);
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (body === undefined) {
    send(res, 413, { "content-type": "text/plain" }, "request body too large\n");
    return;
  }
  if (url.pathname.startsWith("/_emulator/")) {
    const out = handleAdminRequest(req, url.pathname, body, deps);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (out.close) headers.connection = "close";
    send(res, out.status, headers, `${JSON.stringify(out.body)}\n`);
    return;
  }
  if (url.pathname !== "/") {
    const error = new ApiError(
      "UnknownOperationException",
      `No route for ${req.method} ${url.pathname}`,
      404,
    );
    const out = errorResponse("json", error, "00000000-0000-0000-0000-000000000000");
    send(res, out.status, out.headers, out.body);
    return;
  }
  const request: ReceivedRequest = {
    method: req.method ?? "GET",
    path: url.pathname,
    query: queryObject(url.searchParams),
    headers: req.headers,
    body,
  };
  const out = await handleApiRequest(request, deps.api, deps.requestLog, deps.logger);
  // AWS stamps responses with its own time; clients learn the service's clock from it.
  send(res, out.status, { ...out.headers, date: new Date(deps.clock.now()).toUTCString() }, out.body);
}

/** Creates the (not yet listening) server. */
export function createEmulatorServer(deps: ServerDeps): Server {
  const server = createServer((req, res) => {
    handle(req, res, deps).catch((error: unknown) => {
      deps.logger.warn(`emulator: request failed: ${(error as Error).stack ?? String(error)}`);
      if (!res.headersSent) send(res, 500, { "content-type": "text/plain" }, "internal error\n");
      else res.destroy();
    });
  });
  // Keep-alive connections must not hold close() up for long.
  server.keepAliveTimeout = 1000;
  return server;
}

/** Starts listening on 127.0.0.1:`port` (0 = any free port) and returns the bound port. */
export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}
