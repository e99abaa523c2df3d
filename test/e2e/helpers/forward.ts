/**
 * Helpers for `ssm forward` end-to-end tests: a running forward (the built CLI) with its port and
 * session id, TCP servers on 127.0.0.1:0 for the emulated instance to reach, and byte-exact round
 * trips checked by sha256. Everything started here has a `close()`/`stop()` for `after` hooks.
 */
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { type EmulatorProcess, spawnCli } from "./harness.js";

/** A forward started with {@link startForward}. */
export interface Forward {
  child: ChildProcess;
  /** The local port the CLI listens on. */
  port: number;
  sessionId: string;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` and resolves with the exit status. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const OPENED = /^Port (\d+) opened for sessionId (\S+)\.$/m;

/**
 * Runs `aws-runas [globalArgs] ssm forward <args>` and resolves once it printed
 * `Port N opened for sessionId X.`; rejects (and kills the CLI) if it exits first or takes longer
 * than `timeoutMs`.
 */
export async function startForward(
  env: NodeJS.ProcessEnv,
  args: string[],
  /** `command`: the program to run instead of the built CLI (see `CLI_COMMAND`). */
  options: { globalArgs?: string[]; timeoutMs?: number; command?: readonly string[] } = {},
): Promise<Forward> {
  const run = await startUntil(
    env,
    [...(options.globalArgs ?? []), "ssm", "forward", ...args],
    (stderr) => OPENED.exec(stderr) ?? undefined,
    options.timeoutMs,
    options.command,
  );
  return { ...run, port: Number(run.ready[1]), sessionId: run.ready[2]! };
}

/** A long-running CLI process started with {@link startUntil}. */
export interface RunningCli<T> {
  child: ChildProcess;
  /** What `ready` returned once it recognised the CLI's status output. */
  ready: T;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` and resolves with the exit status. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs the built CLI with `argv` and resolves once `ready(stderr)` returns a value; rejects (and
 * kills the CLI) if it exits first or takes longer than `timeoutMs`.
 */
export async function startUntil<T>(
  env: NodeJS.ProcessEnv,
  argv: string[],
  ready: (stderr: string) => T | undefined,
  timeoutMs = 20_000,
  command?: readonly string[],
): Promise<RunningCli<T>> {
  const child = spawnCli(argv, env, command);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin!.on("error", () => {});
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  const value = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the CLI was not ready in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    const onData = () => {
      const v = ready(stderr);
      if (v === undefined) return;
      clearTimeout(timer);
      child.stderr!.off("data", onData);
      resolve(v);
    };
    child.stderr!.on("data", onData);
    void exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`the CLI exited (${code ?? signal}) before it was ready; stderr: ${stderr}`));
    });
  });
  let stopped: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  return {
    child,
    ready: value,
    stdout: () => stdout,
    stderr: () => stderr,
    stop(signal = "SIGINT") {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        // A CLI that ignores the signal is a failure, but must not outlive the test.
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        const [code, sig] = await exited;
        clearTimeout(timer);
        return { code, signal: sig };
      })();
      return stopped;
    },
  };
}

/** A TCP server on 127.0.0.1 that remembers its sockets so `close()` can end them all. */
export interface TestServer {
  server: Server;
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0: any free port) and runs `onConnection` for each connection. */
export async function startServer(onConnection: (socket: Socket) => void, port = 0): Promise<TestServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    onConnection(socket);
  });
  server.listen({ port, host: "127.0.0.1" });
  await once(server, "listening");
  return {
    server,
    port: (server.address() as { port: number }).port,
    accepted: () => accepted,
    async close() {
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An echo server: every byte received is sent back, with the socket's own back-pressure. */
export function startEchoServer(port = 0): Promise<TestServer> {
  return startServer((socket) => socket.pipe(socket), port);
}

export { freePort } from "./harness.js";

/**
 * Connects to `host`:`port` (127.0.0.1 unless given). With `seeResets`, the socket reads one byte at a time (still
 * emitting "data"): libuv reports a reset that arrives right behind data as a plain end of data
 * after a short read, so only a socket whose reads always fill the buffer reliably sees the
 * ECONNRESET (what a C or Python client gets). Slower: for tests that tell RST from FIN.
 */
export async function connectLocal(
  port: number,
  hostOrOptions: string | { seeResets?: boolean; host?: string } = {},
): Promise<Socket> {
  const options = typeof hostOrOptions === "string" ? { host: hostOrOptions } : hostOrOptions;
  const host = options.host ?? "127.0.0.1";
  let socket: Socket;
  if (options.seeResets) {
    socket = connect({
      port,
      host,
      onread: {
        buffer: Buffer.alloc(1),
        callback: (length, buffer) => {
          socket.emit("data", Buffer.from(buffer.subarray(0, length)));
          return true;
        },
      },
    });
  } else {
    socket = connect({ port, host });
  }
  await once(socket, "connect");
  return socket;
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export interface RoundTrip {
  sent: string;
  received: string;
  bytes: number;
}

/**
 * Sends `size` random bytes through `socket` to an echo server and reads the same number back;
 * resolves with both digests. Rejects if the connection closes early or `timeoutMs` passes.
 */
export function echoRoundTrip(socket: Socket, size: number, timeoutMs = 30_000): Promise<RoundTrip> {
  const data = randomBytes(size);
  const hash = createHash("sha256");
  let bytes = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`echo round trip timed out after ${timeoutMs} ms with ${bytes}/${size} bytes back`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      const take = chunk.subarray(0, Math.max(0, size - bytes));
      hash.update(take);
      bytes += take.length;
      if (bytes >= size) {
        cleanup();
        resolve({ sent: sha256(data), received: hash.digest("hex"), bytes });
      }
    };
    const onClose = () => {
      cleanup();
      reject(new Error(`the connection closed after ${bytes}/${size} bytes came back`));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.off("error", onError);
    };
    socket.on("data", onData);
    socket.on("close", onClose);
    socket.on("error", onError);
    socket.write(data);
  });
}

/** Reads everything until the peer ends the connection. */
export async function readAll(socket: Socket, timeoutMs = 15_000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const timer = setTimeout(
    () => socket.destroy(new Error(`no end of data within ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    await once(socket, "end");
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}

/** How a local connection ended, seen from its client. */
export interface ConnectionEnd {
  /** Everything received. */
  data: Buffer;
  /** Ended by a reset (ECONNRESET / EPIPE) rather than a FIN. */
  reset: boolean;
}

/**
 * Collects what `socket` receives from now on and resolves once it is closed: with `reset` when
 * the forward reset it (RST), `reset: false` after a clean FIN. The socket is never written here.
 * A reset right behind data is only seen reliably on a `connectLocal(port, { seeResets: true })` socket.
 */
export function collectUntilClosed(socket: Socket, timeoutMs = 30_000): Promise<ConnectionEnd> {
  const chunks: Buffer[] = [];
  let reset = false;
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "ECONNRESET" || error.code === "EPIPE") reset = true;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the connection was not closed within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), reset });
    };
    if (socket.destroyed) done();
    else socket.once("close", done);
  });
}

/** Entries of the emulator's request log. */
export async function requestLog(
  emulator: EmulatorProcess,
): Promise<Array<{ operation: string; status: number; service: string }>> {
  return (await emulator.admin("/_emulator/requests")) as Array<{
    operation: string;
    status: number;
    service: string;
  }>;
}

/** The emulator's view of one session. */
export async function sessionInfo(
  emulator: EmulatorProcess,
  sessionId: string,
): Promise<
  { state: string; documentName: string; parameters: Record<string, string | string[]> } | undefined
> {
  const sessions = (await emulator.admin("/_emulator/sessions")) as Array<{
    sessionId: string;
    state: string;
    documentName: string;
    parameters: Record<string, string | string[]>;
  }>;
  return sessions.find((s) => s.sessionId === sessionId);
}
