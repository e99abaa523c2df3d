/**
 * Helpers for `ssm socks` end-to-end tests: the running proxy (built CLI), a minimal SOCKS5
 * client that reports the reply code, and an HTTP server that records what it served.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { type ConnectRequest, encodeConnectRequest } from "../../../packages/aws-runas/src/socks/codec.js";
import { type RunningCli, startUntil } from "./forward.js";

const LISTENING = /^SOCKS5 proxy listening on \[?([^\]\s]+?)\]?:(\d+) through (\S+)\.$/m;

export type Socks = RunningCli<{ host: string; port: number }>;

/** Runs `aws-runas ssm socks <args>` until it prints its listening line. */
export async function startSocks(env: NodeJS.ProcessEnv, args: string[]): Promise<Socks> {
  return startUntil(env, ["ssm", "socks", ...args], (stderr) => {
    const m = LISTENING.exec(stderr);
    return m && /^Waiting for connections\.\.\.$/m.test(stderr)
      ? { host: m[1]!, port: Number(m[2]) }
      : undefined;
  });
}

export interface SocksConnection {
  socket: Socket;
  /** The REP byte of the server's reply. */
  reply: number;
}

/**
 * Connects through the SOCKS5 proxy on `proxyHost`:`proxyPort` (no-auth, CONNECT). Resolves with the
 * reply code; on success the socket then carries the destination's bytes.
 */
export async function socksConnect(
  proxyPort: number,
  destination: Omit<ConnectRequest, "command">,
  timeoutMs = 15_000,
  proxyHost = "127.0.0.1",
): Promise<SocksConnection> {
  const socket = connect({ port: proxyPort, host: proxyHost });
  await once(socket, "connect");
  socket.write(Buffer.concat([Buffer.from([5, 1, 0]), encodeConnectRequest(destination)]));
  let buffer = Buffer.alloc(0);
  const replyLength = () => {
    if (buffer.length < 2 + 4) return undefined;
    const atyp = buffer[2 + 3];
    const addr = atyp === 1 ? 4 : atyp === 4 ? 16 : atyp === 3 ? 1 + (buffer[2 + 4] ?? 0) : 0;
    return 2 + 4 + addr + 2;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no SOCKS reply in ${timeoutMs} ms (got ${buffer.toString("hex")})`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const length = replyLength();
      if (length === undefined || buffer.length < length) return;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.pause();
      if (buffer[0] !== 5 || buffer[1] !== 0) {
        reject(new Error(`bad method selection ${buffer.subarray(0, 2).toString("hex")}`));
        return;
      }
      const rest = buffer.subarray(length);
      if (rest.length > 0) socket.unshift(rest);
      // Paused so nothing is lost; the first `data` listener (or pipe) starts the flow again.
      const onListener = (event: string | symbol) => {
        if (event !== "data") return;
        socket.off("newListener", onListener);
        process.nextTick(() => socket.resume());
      };
      socket.on("newListener", onListener);
      resolve({ socket, reply: buffer[3]! });
    };
    const onClose = () => {
      clearTimeout(timer);
      reject(new Error(`the proxy closed the connection before replying (got ${buffer.toString("hex")})`));
    };
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.on("error", () => {});
  });
}

/** An HTTP server on 127.0.0.1 whose requests are recorded (method, path, Host header). */
export interface RecordingHttpServer {
  server: Server;
  port: number;
  requests: Array<{ path: string; host: string }>;
  close(): Promise<void>;
}

export async function startHttpServer(
  handle: (req: IncomingMessage) => { status?: number; type?: string; body: Buffer | string },
): Promise<RecordingHttpServer> {
  const requests: RecordingHttpServer["requests"] = [];
  const server = createServer((req, res) => {
    requests.push({ path: req.url ?? "", host: req.headers.host ?? "" });
    const out = handle(req);
    res.writeHead(out.status ?? 200, {
      "content-type": out.type ?? "application/octet-stream",
      "content-length": Buffer.byteLength(out.body),
    });
    res.end(out.body);
  });
  server.keepAliveTimeout = 1000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    server,
    port: (server.address() as { port: number }).port,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
