/**
 * Connections through an HTTP proxy: a CONNECT tunnel (for https:// API calls and for the
 * data-channel websocket, ws:// included, as gorilla/websocket does), and absolute-form requests
 * for plain http:// API calls (as Go's net/http and botocore do). Agents decide per request, so
 * NO_PROXY applies host by host. `AWS_CA_BUNDLE` is applied to the TLS inside the tunnel.
 */
import { type AgentOptions, type ClientRequest, Agent as HttpAgent, type RequestOptions } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { connect as netConnect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { describeProxy, type ProxySettings, proxyAuthorization, proxyFor } from "./proxy-env.js";

/** The proxy could not be reached or refused the tunnel; `code` keeps the socket error's code. */
export class ProxyConnectError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "ProxyConnectError";
    this.code = code;
  }
}

const TUNNEL_TIMEOUT_MS = 30_000;

/** Opens a CONNECT tunnel to `host:port` through `proxy`; resolves with the raw socket. */
export function connectTunnel(proxy: URL, host: string, port: number, ca?: string | Buffer): Promise<Socket> {
  const proxyPort = Number(proxy.port || (proxy.protocol === "https:" ? 443 : 80));
  const where = describeProxy(proxy);
  return new Promise((resolve, reject) => {
    const socket: Socket =
      proxy.protocol === "https:"
        ? tlsConnect({
            host: proxy.hostname,
            port: proxyPort,
            servername: proxy.hostname,
            ...(ca ? { ca } : {}),
          })
        : netConnect({ host: proxy.hostname, port: proxyPort });
    const target = host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
    let buffered = Buffer.alloc(0);
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onError = (error: NodeJS.ErrnoException) =>
      fail(
        new ProxyConnectError(
          `cannot connect to the proxy ${where}: ${error.code ?? error.message}`,
          error.code,
          error,
        ),
      );
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf("\r\n\r\n");
      if (end < 0) {
        if (buffered.length > 16 * 1024)
          fail(new ProxyConnectError(`the proxy ${where} sent an oversized answer`));
        return;
      }
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(buffered.subarray(0, end).toString("latin1"))?.[1];
      if (status !== "200") {
        fail(
          new ProxyConnectError(
            `the proxy ${where} refused the tunnel to ${target} (HTTP ${status ?? "?"})`,
            "EPROXYREFUSED",
          ),
        );
        return;
      }
      cleanup();
      const rest = buffered.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    const onClose = () =>
      fail(new ProxyConnectError(`the proxy ${where} closed the connection`, "ECONNRESET"));
    const timer = setTimeout(
      () => fail(new ProxyConnectError(`the proxy ${where} did not answer in time`, "ETIMEDOUT")),
      TUNNEL_TIMEOUT_MS,
    );
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("error", onError);
      socket.off("data", onData);
      socket.off("close", onClose);
    };
    socket.on("error", onError);
    socket.on("data", onData);
    socket.on("close", onClose);
    const auth = proxyAuthorization(proxy);
    socket.write(
      `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ""}\r\n`,
    );
  });
}

/** https:// through a CONNECT tunnel when a proxy applies; TLS (with `ca`) inside the tunnel. */
export class TunnelingHttpsAgent extends HttpsAgent {
  readonly #settings: ProxySettings;
  readonly #ca: string | Buffer | undefined;

  constructor(settings: ProxySettings, ca: string | Buffer | undefined, options: AgentOptions = {}) {
    super({ keepAlive: true, ...options, ...(ca ? { ca } : {}) });
    this.#settings = settings;
    this.#ca = ca;
  }

  override createConnection(
    requestOptions: RequestOptions,
    callback?: (error: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const options = requestOptions as ConnectionOptions & { host?: string; port?: number };
    const host = options.host ?? "localhost";
    const port = Number(options.port ?? 443);
    const proxy = proxyFor(this.#settings, new URL(`https://${hostForUrl(host)}:${port}`));
    if (!proxy) return tlsConnect({ ...options, ...(this.#ca ? { ca: this.#ca } : {}) });
    connectTunnel(proxy, host, port, this.#ca).then(
      (raw) =>
        callback?.(null, tlsConnect({ ...options, socket: raw, servername: options.servername ?? host })),
      (error: Error) => callback?.(error, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/** http:// in absolute form through the proxy (`POST http://host:port/ HTTP/1.1`) when one applies. */
export class ProxyingHttpAgent extends HttpAgent {
  readonly #settings: ProxySettings;

  constructor(settings: ProxySettings, options: AgentOptions = {}) {
    super({ keepAlive: true, ...options });
    this.#settings = settings;
  }

  // Node calls addRequest from the ClientRequest constructor, before the request line is
  // written, so the path can still become the absolute URL a proxy expects.
  addRequest(req: ClientRequest, options: { host?: string; port?: number | string }): void {
    const host = options.host ?? "localhost";
    const port = Number(options.port ?? 80);
    const proxy = proxyFor(this.#settings, new URL(`http://${hostForUrl(host)}:${port}`));
    const base = HttpAgent.prototype as unknown as { addRequest(r: ClientRequest, o: object): void };
    if (!proxy) {
      base.addRequest.call(this, req, options);
      return;
    }
    req.path = `http://${hostForUrl(host)}:${port}${req.path}`;
    const auth = proxyAuthorization(proxy);
    if (auth) req.setHeader("Proxy-Authorization", auth);
    base.addRequest.call(this, req, {
      ...options,
      // The pool is keyed on these: requests to several endpoints share the proxy connection.
      host: proxy.hostname,
      port: Number(proxy.port || 80),
      runasProxy: describeProxy(proxy),
    });
  }

  /** Connections to the proxy fail with a {@link ProxyConnectError} that names it. */
  override createConnection(
    requestOptions: RequestOptions,
    callback?: (error: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const options = requestOptions as RequestOptions & { runasProxy?: string };
    if (!options.runasProxy) return netConnect(options as Parameters<typeof netConnect>[0]);
    const where = options.runasProxy;
    const socket = netConnect({ host: options.host ?? "localhost", port: Number(options.port ?? 80) });
    const onError = (error: NodeJS.ErrnoException) =>
      callback?.(
        new ProxyConnectError(
          `cannot connect to the proxy ${where}: ${error.code ?? error.message}`,
          error.code,
          error,
        ),
        undefined as unknown as Duplex,
      );
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      callback?.(null, socket);
    });
    return undefined;
  }
}

function hostForUrl(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** The websocket's TCP connection: a tunnel through the proxy, or null to dial directly. */
export async function dialForWebsocket(
  settings: ProxySettings,
  url: URL,
  ca?: string | Buffer,
): Promise<Socket | null> {
  const proxy = proxyFor(settings, url);
  if (!proxy) return null;
  const port = url.port ? Number(url.port) : url.protocol === "wss:" ? 443 : 80;
  return connectTunnel(proxy, url.hostname.replace(/^\[|\]$/g, ""), port, ca);
}
