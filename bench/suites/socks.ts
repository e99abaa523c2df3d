/**
 * `ssm socks` connection setup beside a plain `ssm forward`'s, all to a server that speaks first
 * (so "set up" = the destination's first byte reached the client): a pooled destination (its
 * session exists and has carried data), a new destination (one StartSession, data channel and
 * handshake, then the dial), and a plain forward's connection (one new smux stream).
 */
import { once } from "node:events";
import { createServer, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Pacing } from "../../packages/emulator/src/program/options.js";
import { connectLocal } from "../../test/e2e/helpers/forward.js";
import type { EmulatorProcess } from "../../test/e2e/helpers/harness.js";
import { socksConnect, startSocks } from "../../test/e2e/helpers/socks.js";
import { startCeilingSession } from "../lib/ceiling.js";
import { startBannerServer } from "../lib/service.js";
import { percentile, summarize } from "../lib/stats.js";
import { type Cell, compareRows, measured, medianAtMost, missing, type Row } from "../lib/table.js";
import { MUX_INSTANCE, ours, PROFILE, stopChild } from "../lib/tools.js";

export interface SocksPlan {
  /** Connections measured on the pooled destination and on the plain forward. */
  connections: number;
  /** New destinations measured (each starts a session). */
  newDestinations: number;
}

export interface SocksSuiteInput {
  pacing: Pacing;
  emulator: EmulatorProcess;
  plan: SocksPlan;
  log: (line: string) => void;
}

/** Milliseconds from `open()` until the first byte arrives on the stream it returns. */
async function untilFirstByte(open: () => Promise<Socket | Duplex>): Promise<number> {
  const started = performance.now();
  const socket = await open();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no first byte within 10 s")), 10_000);
      socket.once("data", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("close", () => reject(new Error("closed before the first byte")));
      socket.resume();
    });
    return performance.now() - started;
  } finally {
    socket.destroy();
  }
}

async function sample(n: number, once: (i: number) => Promise<number>): Promise<Cell> {
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) times.push(await once(i));
  } catch (error) {
    return missing(`failed: ${(error as Error).message}`);
  }
  return p50Cell(times);
}

function p50Cell(times: readonly number[]): Cell {
  return measured(
    summarize([percentile(times, 50)]),
    "ms",
    `p50 of ${times.length}; p90 ${percentile(times, 90).toFixed(1)} ms`,
  );
}

export async function runSocksSuite(input: SocksSuiteInput): Promise<Row[]> {
  const { emulator, plan, pacing, log } = input;
  const banner = await startBannerServer();
  // Client speaks first (HTTP-like): the reply waits for the connect window on a new destination.
  const echo = createServer((socket) => socket.on("error", () => {}).pipe(socket));
  echo.listen(0, "127.0.0.1");
  await once(echo, "listening");
  const echoPort = (echo.address() as { port: number }).port;
  const forward = await ours.forward(emulator, banner.port);
  const proxy = await startSocks(emulator.env, [
    "--max-sessions",
    String(2 * plan.newDestinations + 4),
    PROFILE,
    MUX_INSTANCE,
  ]);
  try {
    const viaSocks = (host: string) => async () =>
      (await socksConnect(proxy.ready.port, { type: "domain", host, port: banner.port })).socket;
    log(
      `socks setup, pacing ${pacing}: ${plan.connections} connections, ${plan.newDestinations} new destinations`,
    );
    // Warm both: the pooled destination's session exists and has sent data; the forward's too.
    await untilFirstByte(viaSocks("pooled.test.internal"));
    await untilFirstByte(() => connectLocal(forward.localPort));
    // Interleaved, so both see the same machine load.
    const times = { plain: [] as number[], pooled: [] as number[] };
    let failure: string | undefined;
    try {
      for (let i = 0; i < plan.connections; i++) {
        times.plain.push(await untilFirstByte(() => connectLocal(forward.localPort)));
        times.pooled.push(await untilFirstByte(viaSocks("pooled.test.internal")));
      }
    } catch (error) {
      failure = `failed: ${(error as Error).message}`;
    }
    const plain = failure ? missing(failure) : p50Cell(times.plain);
    const pooled = failure ? missing(failure) : p50Cell(times.pooled);
    const fresh = await sample(plan.newDestinations, (i) =>
      untilFirstByte(viaSocks(`new-${i}.test.internal`)),
    );
    const clientFirst = await sample(plan.newDestinations, async (i) => {
      const started = performance.now();
      const { socket } = await socksConnect(proxy.ready.port, {
        type: "domain",
        host: `talk-${i}.test.internal`,
        port: echoPort,
      });
      try {
        await untilFirstByte(async () => {
          socket.write("x");
          return socket;
        });
        return performance.now() - started;
      } finally {
        socket.destroy();
      }
    });
    // One session start in-process (no CLI, no SOCKS): what a new destination costs at least.
    const sessionStart = await sample(plan.newDestinations, async () => {
      const started = performance.now();
      const ceiling = await startCeilingSession(emulator, banner.port);
      try {
        await untilFirstByte(() => ceiling.connector());
        return performance.now() - started;
      } finally {
        ceiling.close();
      }
    });
    return [
      ...compareRows(
        `SOCKS connection setup p50, pooled destination (connect → first byte), pacing ${pacing}`,
        pooled,
        [{ label: "ssm forward connection (new smux stream)", cell: plain }],
        { text: "≤ forward + 2 ms", met: medianAtMost(pooled, plain, (forward) => forward + 2) },
      ),
      ...compareRows(
        `SOCKS connection setup p50, new destination (StartSession + handshake + dial), pacing ${pacing}`,
        fresh,
        [
          {
            label: "one session start in-process (StartSession + channel + handshake + dial)",
            cell: sessionStart,
          },
          { label: "ssm forward connection (new smux stream)", cell: plain },
        ],
      ),
      ...compareRows(
        `SOCKS connection setup p50, new destination, client speaks first (reply after the connect window), pacing ${pacing}`,
        clientFirst,
        [
          {
            label: "one session start in-process (StartSession + channel + handshake + dial)",
            cell: sessionStart,
          },
        ],
      ),
    ];
  } finally {
    await proxy.stop("SIGINT");
    await stopChild(forward.child);
    await banner.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  }
}
