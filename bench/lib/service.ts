/**
 * The remote end of every forwarding benchmark: one TCP server on 127.0.0.1 whose behaviour the
 * client picks with an 11-byte request (an op byte, a 48-bit length and a 32-bit tag naming the
 * transfer), plus the client drivers.
 * The same server is used directly (the loopback limit) and through the tools, so both measure
 * the same endpoints.
 *
 * ```
 *   U <n>  upload: the client sends n bytes; the server answers one byte "K" once it has them all
 *   D <n>  download: the server sends n bytes, then ends
 *   E      echo: everything comes back
 * ```
 */
import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";

const HEADER = 11;
const Op = { upload: 0x55, download: 0x44, echo: 0x45 } as const;

/** 64 KiB of bytes that no layer could compress: written again and again. */
const BLOCK = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 2654435761) >>> 24));

export interface BenchService {
  port: number;
  /** Upload bytes received so far, all connections together: progress as the far end sees it. */
  bytesIn(): number;
  /** Upload bytes received so far by the connection whose request carried `tag`. */
  receivedBy(tag: number): number;
  close(): Promise<void>;
}

function header(op: number, length: number, tag = 0): Buffer {
  const b = Buffer.alloc(HEADER);
  b[0] = op;
  b.writeUIntBE(length, 1, 6);
  b.writeUInt32BE(tag, 7);
  return b;
}

/** Tags of uploads, so the service can say how much of one transfer arrived (see timeBoxMs). */
let nextTag = 1;
const newTag = (): number => {
  nextTag = nextTag >= 0xffffffff ? 1 : nextTag + 1;
  return nextTag;
};

/** Opens one connection to the service: a TCP socket, or a stream of an in-process client. */
export type Connector = () => Promise<Duplex>;

/** A {@link Connector} for a TCP port on 127.0.0.1 (the service itself, or a forwarder's listener). */
export function tcp(port: number): Connector {
  return async () => {
    const socket = connect({ port, host: "127.0.0.1", noDelay: true });
    await once(socket, "connect");
    return socket;
  };
}

/** Resolves on `drain`, rejects if the socket closes first; leaves no listener behind. */
function drained(socket: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      socket.off("close", onClose);
      resolve();
    };
    const onClose = () => {
      socket.off("drain", onDrain);
      reject(new Error("connection closed while writing"));
    };
    socket.once("drain", onDrain);
    socket.once("close", onClose);
  });
}

/** Writes `total` bytes, honouring back-pressure. */
async function writeBytes(socket: Duplex, total: number): Promise<void> {
  let left = total;
  while (left > 0) {
    const piece = left >= BLOCK.length ? BLOCK : BLOCK.subarray(0, left);
    left -= piece.length;
    if (!socket.write(piece)) await drained(socket);
  }
}

function serve(socket: Socket, countIn: (n: number, tag: number) => void = () => {}): void {
  socket.setNoDelay(true);
  socket.on("error", () => socket.destroy());
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    if (head.length < HEADER) return;
    socket.off("data", onData);
    const op = head[0];
    const length = head.readUIntBE(1, 6);
    const tag = head.readUInt32BE(7);
    const rest = head.subarray(HEADER);
    if (op === Op.echo) {
      if (rest.length > 0) socket.write(rest);
      socket.pipe(socket);
    } else if (op === Op.download) {
      writeBytes(socket, length).then(
        () => socket.end(),
        () => socket.destroy(),
      );
    } else if (op === Op.upload) {
      let received = rest.length;
      countIn(rest.length, tag);
      const check = () => {
        if (received < length) return;
        socket.off("data", count);
        socket.end("K");
      };
      const count = (c: Buffer) => {
        received += c.length;
        countIn(c.length, tag);
        check();
      };
      socket.on("data", count);
      check();
    } else {
      socket.destroy();
    }
  };
  socket.on("data", onData);
}

/** Starts the service on 127.0.0.1 and a free port. */
export async function startBenchService(): Promise<BenchService> {
  const sockets = new Set<Socket>();
  let bytesIn = 0;
  // Per tag; a tag is dropped once read after its connection closed (see receivedBy).
  const byTag = new Map<number, number>();
  const server: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    serve(socket, (n, tag) => {
      bytesIn += n;
      if (tag !== 0) byTag.set(tag, (byTag.get(tag) ?? 0) + n);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    bytesIn: () => bytesIn,
    receivedBy: (tag) => byTag.get(tag) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A TCP server that writes `banner` to every connection at once, as sshd does. */
export async function startBannerServer(banner = "SSH-2.0-bench\r\n"): Promise<BenchService> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.on("data", () => {});
    socket.write(banner);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    bytesIn: () => 0,
    receivedBy: () => 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A transfer made no progress for too long (the data path is wedged); the run is abandoned. */
export class StallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StallError";
  }
}

/** Default limits of a transfer: no progress for this long, or not done after that long. */
export const DEFAULT_STALL_MS = 4000;
export const DEFAULT_DEADLINE_MS = 12_000;

/**
 * Watches the progress of one or more transfers: `stalled` rejects with a {@link StallError} when
 * the counter has not moved for `stallMs`, or when the work is not done after `deadlineMs` (a
 * transport that only trickles — resending its whole window — gives no useful figure either). A
 * stalled transport never recovers by itself, so a benchmark must not wait for it.
 */
export class Watchdog {
  /** Bytes (or round trips) done so far; transfers add to it. */
  progress = 0;
  readonly stalled: Promise<never>;
  readonly #timer: NodeJS.Timeout;

  /** `remote`: more progress seen elsewhere (e.g. bytes arriving at the service). */
  constructor(
    stallMs: number,
    describe: () => string,
    deadlineMs = DEFAULT_DEADLINE_MS,
    remote: () => number = () => 0,
  ) {
    let fail: (error: Error) => void = () => {};
    this.stalled = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.stalled.catch(() => {});
    let last = -1;
    const started = performance.now();
    let since = started;
    this.#timer = setInterval(
      () => {
        const now = performance.now();
        if (now - started >= deadlineMs) {
          clearInterval(this.#timer);
          fail(new StallError(`not done after ${Math.round(deadlineMs / 1000)} s; ${describe()}`));
        } else if (this.progress + remote() !== last) {
          last = this.progress + remote();
          since = now;
        } else if (now - since >= stallMs) {
          clearInterval(this.#timer);
          fail(new StallError(`no progress for ${Math.round(stallMs / 1000)} s; ${describe()}`));
        }
      },
      Math.max(25, Math.min(stallMs, deadlineMs) / 8),
    );
  }

  /** Runs `work` until it settles or the watchdog fires, whichever comes first. */
  guard<T>(work: Promise<T>): Promise<T> {
    work.catch(() => {});
    return Promise.race([work, this.stalled]);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Options of the transfer drivers. */
export interface TransferOptions {
  /** Abandon the transfer after this long without progress (default {@link DEFAULT_STALL_MS}). */
  stallMs?: number;
  /** Abandon it when not done after this long (default {@link DEFAULT_DEADLINE_MS}). */
  deadlineMs?: number;
  /**
   * Progress seen at the far end (the service's {@link BenchService.bytesIn}): an upload whose
   * bytes all sit in socket buffers still moves while they drain through a slow path.
   */
  remoteProgress?: () => number;
  /**
   * End the transfer after this long even if it is not done, and report the bytes actually moved
   * in that time (a slow path then still gives a figure instead of running into the deadline).
   * Uploads need {@link receivedBy} to count what reached the service, not what sits in buffers.
   */
  timeBoxMs?: number;
  /** The service's {@link BenchService.receivedBy}: the bytes of one tagged upload that arrived. */
  receivedBy?: (tag: number) => number;
  /** Share one watchdog between concurrent transfers (then the limits above are ignored). */
  watchdog?: Watchdog;
}

/** What one transfer (or a set of concurrent ones) moved, and in how long. */
export interface Transfer {
  seconds: number;
  /** Bytes that arrived: all that was asked for, or what arrived before the time box ended it. */
  bytes: number;
  /** False when the time box ended it first. */
  complete: boolean;
}

/** MiB per second of a transfer. */
export function rateOf(transfer: Transfer): number {
  return transfer.bytes / MiB / transfer.seconds;
}

async function guarded<T>(
  options: TransferOptions,
  describe: () => string,
  work: (dog: Watchdog) => Promise<T>,
): Promise<T> {
  const own = options.watchdog === undefined;
  const dog =
    options.watchdog ??
    new Watchdog(
      options.stallMs ?? DEFAULT_STALL_MS,
      describe,
      options.deadlineMs ?? deadlineFor(options.timeBoxMs),
      options.remoteProgress,
    );
  try {
    return await dog.guard(work(dog));
  } finally {
    if (own) dog.stop();
  }
}

/** A time-boxed transfer must be given the time to reach its box, and a little more to end. */
function deadlineFor(timeBoxMs: number | undefined): number {
  return timeBoxMs === undefined ? DEFAULT_DEADLINE_MS : Math.max(DEFAULT_DEADLINE_MS, timeBoxMs + 2000);
}

/** Resolves `"boxed"` after `ms` (never when undefined); `cancel` clears the timer. */
function timeBox(ms: number | undefined): { ended: Promise<"boxed">; cancel(): void } {
  if (ms === undefined) return { ended: new Promise<"boxed">(() => {}), cancel: () => {} };
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<"boxed">((resolve) => {
    timer = setTimeout(() => resolve("boxed"), ms);
  });
  return { ended, cancel: () => clearTimeout(timer) };
}

/** Resolves when `socket` has delivered `total` bytes, rejects if it closes first. */
function receive(socket: Duplex, total: number, onBytes: (n: number) => void = () => {}): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    socket.on("data", (c: Buffer) => {
      got += c.length;
      onBytes(c.length);
      if (got >= total) resolve();
    });
    socket.once("error", reject);
    socket.once("close", () => {
      if (got < total) reject(new Error(`connection closed after ${got} of ${total} bytes`));
    });
  });
}

/** Writes `total` bytes, honouring back-pressure and reporting progress; stops early when `stopped()`. */
async function send(
  socket: Duplex,
  total: number,
  onBytes: (n: number) => void,
  stopped: () => boolean = () => false,
): Promise<void> {
  let left = total;
  while (left > 0 && !stopped()) {
    const piece = left >= BLOCK.length ? BLOCK : BLOCK.subarray(0, left);
    left -= piece.length;
    const more = socket.write(piece);
    onBytes(piece.length);
    if (!more) await drained(socket);
  }
}

const MiB = 1024 * 1024;
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

/** Sends `bytes` to the service; resolves once it had them all, or at the time box. */
export async function upload(
  connector: Connector,
  bytes: number,
  options: TransferOptions = {},
): Promise<Transfer> {
  let written = 0;
  return guarded(
    options,
    () => `${mib(written)} of ${mib(bytes)} written`,
    async (dog) => {
      const socket = await connector();
      const box = timeBox(options.timeBoxMs);
      let boxed = false;
      try {
        const tag = newTag();
        const start = performance.now();
        const acked = receive(socket, 1);
        acked.catch(() => {}); // awaited below, unless the sending stalls first
        socket.write(header(Op.upload, bytes, tag));
        const sent = send(
          socket,
          bytes,
          (n) => {
            written += n;
            dog.progress += n;
          },
          () => boxed,
        ).then(() => acked);
        const how = await dog.guard(Promise.race([sent.then(() => "done" as const), box.ended]));
        const seconds = (performance.now() - start) / 1000;
        if (how === "done") return { seconds, bytes, complete: true };
        boxed = true;
        // What reached the service, not what was written: a slow path holds MiBs in its buffers.
        const arrived = options.receivedBy ? options.receivedBy(tag) : written;
        return { seconds, bytes: arrived, complete: false };
      } finally {
        box.cancel();
        socket.destroy();
      }
    },
  );
}

/** Fetches `bytes` from the service; resolves once they all arrived, or at the time box. */
export async function download(
  connector: Connector,
  bytes: number,
  options: TransferOptions = {},
): Promise<Transfer> {
  let received = 0;
  return guarded(
    options,
    () => `${mib(received)} of ${mib(bytes)} received`,
    async (dog) => {
      const socket = await connector();
      const box = timeBox(options.timeBoxMs);
      try {
        const start = performance.now();
        const done = receive(socket, bytes, (n) => {
          received += n;
          dog.progress += n;
        });
        socket.write(header(Op.download, bytes));
        const how = await dog.guard(Promise.race([done.then(() => "done" as const), box.ended]));
        const seconds = (performance.now() - start) / 1000;
        return how === "done"
          ? { seconds, bytes, complete: true }
          : { seconds, bytes: received, complete: false };
      } finally {
        box.cancel();
        socket.destroy();
      }
    },
  );
}

/**
 * `connections` transfers at once, `totalBytes` in all; resolves once all were done (or at the
 * time box, with the bytes all of them moved until then).
 */
export async function concurrent(
  connector: Connector,
  direction: "upload" | "download",
  connections: number,
  totalBytes: number,
  limits: Pick<
    TransferOptions,
    "stallMs" | "deadlineMs" | "remoteProgress" | "timeBoxMs" | "receivedBy"
  > = {},
): Promise<Transfer> {
  const each = Math.ceil(totalBytes / connections);
  let finished = 0;
  const watchdog = new Watchdog(
    limits.stallMs ?? DEFAULT_STALL_MS,
    () => `${finished} of ${connections} connections finished, ${mib(watchdog.progress)} moved`,
    limits.deadlineMs ?? deadlineFor(limits.timeBoxMs),
    limits.remoteProgress,
  );
  try {
    const start = performance.now();
    const one = direction === "upload" ? upload : download;
    // Each transfer has the same box, counted from its own start: they start together.
    const options = { watchdog, timeBoxMs: limits.timeBoxMs, receivedBy: limits.receivedBy };
    const results = await Promise.all(
      Array.from({ length: connections }, () =>
        one(connector, each, options).then((r) => {
          finished++;
          return r;
        }),
      ),
    );
    const complete = results.every((r) => r.complete);
    return {
      seconds: (performance.now() - start) / 1000,
      bytes: results.reduce((sum, r) => sum + r.bytes, 0),
      complete,
    };
  } finally {
    watchdog.stop();
  }
}

/**
 * Round trips of `size`-byte messages on one echo connection, one at a time; resolves with each
 * one's milliseconds. The first `warmup` trips (stream set-up, JIT) are not returned.
 */
export async function echoRoundTrips(
  connector: Connector,
  count: number,
  options: TransferOptions & { size?: number; warmup?: number } = {},
): Promise<number[]> {
  const size = options.size ?? 64;
  const warmup = options.warmup ?? 20;
  const times: number[] = [];
  return guarded(
    options,
    () => `${times.length} of ${count} round trips done`,
    async (dog) => {
      const socket = await connector();
      try {
        socket.write(header(Op.echo, 0));
        const message = BLOCK.subarray(0, size);
        let got = 0;
        let resolveOne: (() => void) | null = null;
        socket.on("data", (c: Buffer) => {
          got += c.length;
          if (got >= size && resolveOne) {
            got -= size;
            const r = resolveOne;
            resolveOne = null;
            r();
          }
        });
        const closed = once(socket, "close").then(() => {
          throw new Error("echo connection closed");
        });
        closed.catch(() => {});
        for (let i = 0; i < warmup + count; i++) {
          const start = performance.now();
          const back = new Promise<void>((resolve) => {
            resolveOne = resolve;
          });
          socket.write(message);
          await dog.guard(Promise.race([back, closed]));
          dog.progress++;
          if (i >= warmup) times.push(performance.now() - start);
        }
        return times;
      } finally {
        socket.destroy();
      }
    },
  );
}
