/**
 * Soak test of `aws-runas ssm forward` (issue #11; NOT run in CI): steady echo traffic through a
 * forward for a long time while the client's resident memory is sampled, to catch slow leaks
 * that a short test cannot see. Runs the BUILT programs (`npm run build` first) against the
 * built emulator; every echoed byte is checked against what was sent.
 *
 * ```
 * node --import tsx bench/soak.ts [--minutes N] [--interval S] [--rate MIB_PER_S]
 *                                 [--connections N] [--churn PER_MIN] [--fault SPEC ...]
 *
 *   --minutes N       how long to run (default 30)
 *   --interval S      seconds between RSS samples (default 10)
 *   --rate R          total echo traffic, MiB/s (default 4): steady, not a throughput test
 *   --connections N   long-lived connections sharing that rate (default 2)
 *   --churn K         short extra connections opened and closed per minute (default 30)
 *   --fault SPEC      passed to the emulator, e.g. --fault duplicate=1 --fault drop-websocket-after=50000
 * ```
 * At the end it prints min / max / last RSS and the least-squares slope (MiB per hour) of the
 * samples after a warm-up, and exits 1 if data was corrupted or the forward failed.
 */
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type EmulatorProcess, startEmulatorProcess } from "../test/e2e/helpers/harness.js";
import {
  countRequests,
  DeterministicBytes,
  ensureBuilt,
  type RunningForward,
  startEchoServer,
  startForward,
  type TestServer,
} from "../test/reliability/helpers.js";
import { readProcessUsage } from "./lib/procstat.js";

const MIB = 1024 * 1024;

interface SoakOptions {
  minutes: number;
  intervalS: number;
  rateMiB: number;
  connections: number;
  churnPerMin: number;
  faults: string[];
}

const USAGE =
  "usage: node --import tsx bench/soak.ts [--minutes N] [--interval S] [--rate MIB_PER_S] " +
  "[--connections N] [--churn PER_MIN] [--fault SPEC ...]";

function parseArgs(argv: string[]): SoakOptions {
  const options: SoakOptions = {
    minutes: 30,
    intervalS: 10,
    rateMiB: 4,
    connections: 2,
    churnPerMin: 30,
    faults: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const number = (min: number): number => {
      const n = Number(value);
      if (value === undefined || !Number.isFinite(n) || n < min)
        throw new Error(`${flag} needs a number >= ${min}\n${USAGE}`);
      i++;
      return n;
    };
    switch (flag) {
      case "--minutes":
        options.minutes = number(0.1);
        break;
      case "--interval":
        options.intervalS = number(1);
        break;
      case "--rate":
        options.rateMiB = number(0.01);
        break;
      case "--connections":
        options.connections = Math.round(number(1));
        break;
      case "--churn":
        options.churnPerMin = number(0);
        break;
      case "--fault":
        if (value === undefined) throw new Error(`--fault needs a spec\n${USAGE}`);
        options.faults.push(value);
        i++;
        break;
      case "-h":
      case "--help":
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return options;
}

/** Compares an echoed byte stream with the generator that produced the sent one. */
class EchoVerifier {
  readonly #expected: DeterministicBytes;
  #pending: Buffer = Buffer.alloc(0);
  verified = 0;
  mismatch: string | undefined;

  constructor(seed: number) {
    this.#expected = new DeterministicBytes(seed);
  }

  check(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && this.mismatch === undefined) {
      if (this.#pending.length === 0) this.#pending = this.#expected.next();
      const n = Math.min(this.#pending.length, chunk.length - offset);
      if (!chunk.subarray(offset, offset + n).equals(this.#pending.subarray(0, n))) {
        this.mismatch = `echoed data differs within bytes ${this.verified}..${this.verified + n}`;
      }
      this.#pending = this.#pending.subarray(n);
      offset += n;
      this.verified += n;
    }
  }
}

/**
 * One long-lived connection sending deterministic data at `bytesPerSecond` (paced by the
 * generator, never by the data path: writes still wait for "drain").
 */
class SteadyConnection {
  readonly socket: Socket;
  readonly verifier: EchoVerifier;
  readonly #source: DeterministicBytes;
  #sent = 0;
  #stopped = false;
  #budget = 0;
  #timer: NodeJS.Timeout | undefined;
  #writing = false;

  constructor(port: number, seed: number, bytesPerSecond: number) {
    this.socket = connect(port, "127.0.0.1");
    this.socket.setNoDelay(true);
    this.#source = new DeterministicBytes(seed, 16 * 1024);
    this.verifier = new EchoVerifier(seed);
    this.socket.on("data", (d: Buffer) => this.verifier.check(d));
    this.socket.on("error", (error) => {
      if (!this.#stopped) this.verifier.mismatch ??= `connection error: ${error.message}`;
    });
    const tickMs = 100;
    this.#timer = setInterval(() => {
      this.#budget += (bytesPerSecond * tickMs) / 1000;
      void this.#pump();
    }, tickMs);
  }

  get sent(): number {
    return this.#sent;
  }

  async #pump(): Promise<void> {
    if (this.#writing || this.#stopped) return;
    this.#writing = true;
    try {
      while (this.#budget >= 16 * 1024 && !this.#stopped) {
        const chunk = this.#source.next();
        this.#budget -= chunk.length;
        this.#sent += chunk.length;
        if (!this.socket.write(chunk)) await once(this.socket, "drain");
      }
    } catch {
      // The socket closed; the verifier reports it.
    } finally {
      this.#writing = false;
    }
  }

  /** Stops sending and waits (up to 30 s) until everything sent came back. */
  async finish(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    const deadline = Date.now() + 30_000;
    while (
      this.verifier.verified < this.#sent &&
      Date.now() < deadline &&
      this.verifier.mismatch === undefined
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (this.verifier.verified < this.#sent)
      this.verifier.mismatch ??= `only ${this.verifier.verified} of ${this.#sent} bytes came back`;
    this.socket.destroy();
  }
}

/** A short connection: 64 KiB there and back, then closed. */
async function churnOnce(port: number, seed: number): Promise<string | undefined> {
  const socket = connect(port, "127.0.0.1");
  const verifier = new EchoVerifier(seed);
  const data = new DeterministicBytes(seed).next();
  try {
    await once(socket, "connect");
    socket.write(data);
    for await (const chunk of socket) {
      verifier.check(chunk as Buffer);
      if (verifier.verified >= data.length || verifier.mismatch) break;
    }
    return verifier.mismatch;
  } catch (error) {
    return `short connection failed: ${(error as Error).message}`;
  } finally {
    socket.destroy();
  }
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  ensureBuilt();
  let emulator: EmulatorProcess | undefined;
  let echo: TestServer | undefined;
  let forward: RunningForward | undefined;
  const connections: SteadyConnection[] = [];
  const problems: string[] = [];
  try {
    emulator = await startEmulatorProcess(options.faults.flatMap((f) => ["--fault", f]));
    echo = await startEchoServer();
    forward = await startForward(emulator.env, "plain", `i-0123456789abcdef0:${echo.port}`);
    const pid = forward.child.pid!;
    const perConnection = (options.rateMiB * MIB) / options.connections;
    for (let i = 0; i < options.connections; i++)
      connections.push(new SteadyConnection(forward.port, 1000 + i, perConnection));

    console.log(
      `soak: ${options.minutes} min, ${options.rateMiB} MiB/s over ${options.connections} connections, ` +
        `${options.churnPerMin} short connections/min, RSS every ${options.intervalS} s` +
        (options.faults.length ? `, faults ${options.faults.join(" ")}` : ""),
    );
    console.log("   time   client RSS   emulator RSS   echoed (MiB)   short conns");
    const started = Date.now();
    const samples: Array<[number, number]> = [];
    let churned = 0;
    let churnSeed = 5000;
    const churnTimer =
      options.churnPerMin > 0
        ? setInterval(() => {
            void churnOnce(forward!.port, churnSeed++).then((problem) => {
              churned++;
              if (problem) problems.push(problem);
            });
          }, 60_000 / options.churnPerMin)
        : undefined;
    const endAt = started + options.minutes * 60_000;
    // Ctrl-C (or SIGTERM) ends the run early but still prints the figures and stops every child.
    const interrupt = new AbortController();
    const onSignal = () => interrupt.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    while (Date.now() < endAt && problems.length === 0 && !interrupt.signal.aborted) {
      await sleep(Math.min(options.intervalS * 1000, endAt - Date.now()), undefined, {
        signal: interrupt.signal,
      }).catch(() => {});
      if (interrupt.signal.aborted) {
        console.log(`interrupted after ${((Date.now() - started) / 1000).toFixed(0)} s`);
        break;
      }
      if (forward.child.exitCode !== null) {
        problems.push(
          `the forward exited early (${forward.child.exitCode}): ${forward.stderr().slice(-300)}`,
        );
        break;
      }
      const seconds = (Date.now() - started) / 1000;
      const client = readProcessUsage(pid).rssMiB;
      const emulatorRss = readProcessUsage(emulator.process.pid!).rssMiB;
      const echoed = connections.reduce((s, c) => s + c.verifier.verified, 0) / MIB;
      samples.push([seconds, client]);
      for (const c of connections) if (c.verifier.mismatch) problems.push(c.verifier.mismatch);
      console.log(
        `${seconds.toFixed(0).padStart(6)} s ${client.toFixed(1).padStart(8)} MiB ${emulatorRss.toFixed(1).padStart(10)} MiB` +
          `${echoed.toFixed(0).padStart(15)} ${String(churned).padStart(13)}`,
      );
    }
    clearInterval(churnTimer);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await Promise.all(connections.map((c) => c.finish()));
    for (const c of connections) if (c.verifier.mismatch) problems.push(c.verifier.mismatch);
    const stopped = await forward.stop();
    if (stopped.code !== 0)
      problems.push(`the forward exited with ${stopped.code ?? stopped.signal} on Ctrl-C`);

    const rss = samples.map(([, y]) => y);
    // The first minute (or first third of a short run) is warm-up: JIT, buffers, SDK clients.
    const warmup = Math.min(60, (options.minutes * 60) / 3);
    const steady = samples.filter(([x]) => x >= warmup);
    const total = connections.reduce((s, c) => s + c.verifier.verified, 0) / MIB;
    console.log("");
    console.log(
      `client RSS: min ${Math.min(...rss).toFixed(1)} MiB, max ${Math.max(...rss).toFixed(1)} MiB, last ${rss.at(-1)?.toFixed(1)} MiB`,
    );
    console.log(
      steady.length >= 2
        ? `client RSS slope after ${warmup.toFixed(0)} s warm-up: ${(slope(steady) * 3600).toFixed(2)} MiB/hour ` +
            `(${steady.length} samples)`
        : `client RSS slope: not enough samples after the ${warmup.toFixed(0)} s warm-up`,
    );
    const resumes = await countRequests(emulator, "ResumeSession");
    console.log(
      `echoed and verified: ${total.toFixed(0)} MiB; short connections: ${churned}; websocket resumes: ${resumes}`,
    );
    if (problems.length > 0) {
      console.log(`PROBLEMS:\n  ${[...new Set(problems)].join("\n  ")}`);
      return 1;
    }
    console.log("no data errors; the forward exited 0 on Ctrl-C");
    return 0;
  } finally {
    for (const c of connections) c.socket.destroy();
    await forward?.stop();
    await echo?.close();
    await emulator?.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  },
);
