/**
 * `npm run bench`: every figure of issue #10 in one table — ours beside the limits (direct
 * loopback, the emulator's in-process ceiling) and the official tools, with ratios and goals.
 * Runs the BUILT programs (`dist/`) as real processes against the built emulator.
 *
 * ```
 * npm run bench                      the table (about 3-4 minutes on 2 cores)
 * npm run bench -- --json [FILE]     the table, and the same data as JSON (default bench/results.json)
 * npm run bench -- --profile forward a .cpuprofile of the forward client and its top self-time functions
 * ```
 */
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, isAbsolute, join, relative } from "node:path";
import type { Pacing } from "../packages/emulator/src/program/options.js";
import { type EmulatorProcess, REPO_ROOT, startEmulatorProcess } from "../test/e2e/helpers/harness.js";
import { BenchArgsError, parseBenchArgs, USAGE } from "./lib/args.js";
import { startBenchService } from "./lib/service.js";
import { missing, type Row, ratioOf, renderTable } from "./lib/table.js";
import { official, officialToolsMissing, type Tool } from "./lib/tools.js";
import { FULL_PLAN, PROFILE_MIB, QUICK_PLAN } from "./plan.js";
import { runForwardSuite } from "./suites/forward.js";
import { runMicroSuite } from "./suites/micro.js";
import { profileForward } from "./suites/profile.js";
import { runSocksSuite } from "./suites/socks.js";
import { runStartupSuite } from "./suites/startup.js";

// The AWS SDK warns once about Node 20 support; it says nothing about what is measured here.
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (!warning.message.includes("NodeVersionSupportWarning"))
    console.error(`${warning.name}: ${warning.message}`);
});

const HOW_TO_READ = `How to read it:
- "ours" is the median of several runs, with (min–max) of the runs; "ratio" is ours ÷ the reference of the
  same row. For MiB/s and op/s higher is better (ratio near 1 = at the limit); for ms, MiB and s/GiB lower is
  better (ratio > 1 = slower or bigger than the reference).
- 〃 rows compare the same figure of ours with another reference.
- "direct loopback" is the bench service reached without any tool: what this machine's TCP stack and the
  bench's own client/server code can do. "emulator ceiling" is the emulator's agent driven by our data channel
  and smux in-process (no CLI process, no local TCP hop): the fastest a client can go through this emulator.
- pacing realistic reproduces the agent's 1 KiB read + 1 ms pause, so downloads cannot beat ≈0.9 MiB/s; pacing
  none shows the client's own cost. Uploads are not paced by the agent.
- transfers are time-boxed at 5 s (3 s with --quick): one not done by then counts the bytes that arrived
  (at the service, for uploads) and the cell says "k runs time-boxed", so a slow path (the plugin's
  ≈1 MiB/s uploads) still gets a figure.
- "stalled" means a transfer made no progress for 4 s (or was not done after 12 s) and was abandoned; the
  path (forwarder, ceiling session) was restarted. A figure with "k of n runs stalled" is made of the runs
  that finished; after 4 stalls of one kind (uploads, downloads, echo) a path's remaining measurements of
  that kind in the suite are skipped.
- session-manager-plugin rows need \`aws\` and \`session-manager-plugin\` on PATH (a plugin built from
  source works too: put its directory first on PATH).
- forwarder memory rows start a fresh forwarder of each tool: RSS after 2 s idle with the session open,
  then VmHWM after 64 connections downloaded and uploaded at once.
- The machine is shared (2 cores): expect ±20 % between runs; compare ratios taken in the same run.
- \`npm run bench -- --profile forward\` writes bench/forward-client.cpuprofile and prints its top self-time
  functions; \`node --import tsx bench/profile-summary.ts FILE\` summarises any .cpuprofile.`;

const startedAt = performance.now();

function log(line: string): void {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1).padStart(5);
  process.stderr.write(`bench [${seconds} s] ${line}\n`);
}

function build(): void {
  log("building dist/ (npm run build)");
  const r = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: REPO_ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error("npm run build failed; fix the build or pass --no-build");
}

function machine() {
  const cpu = cpus();
  return {
    node: process.version,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? "unknown",
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
  };
}

/** Runs `suite`; a failure becomes one row saying so, and the other suites still run. */
async function guarded(name: string, rows: Row[], suite: () => Promise<Row[]>): Promise<void> {
  try {
    rows.push(...(await suite()));
  } catch (error) {
    log(`${name} failed: ${(error as Error).message}`);
    rows.push({ what: `${name} suite`, ours: missing(`failed: ${(error as Error).message.split("\n")[0]}`) });
  }
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseBenchArgs>;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof BenchArgsError)) throw error;
    console.error(`bench: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.build) build();
  const started = performance.now();
  const service = await startBenchService();
  const emulators = new Map<Pacing, EmulatorProcess>();
  const emulator = async (pacing: Pacing) => {
    let e = emulators.get(pacing);
    if (!e) {
      e = await startEmulatorProcess(["--pacing", pacing]);
      emulators.set(pacing, e);
    }
    return e;
  };
  try {
    if (args.profile === "forward") {
      const result = await profileForward({
        startEmulator: (nodeArgs) => startEmulatorProcess(["--pacing", "none"], undefined, nodeArgs),
        servicePort: service.port,
        repoRoot: REPO_ROOT,
        mib: args.quick ? PROFILE_MIB / 4 : PROFILE_MIB,
        log,
      });
      console.log(
        `CPU profile of the forward client (pacing none; ${result.uploadMiBps.toFixed(1)} MiB/s up, ` +
          `${result.downloadMiBps.toFixed(1)} MiB/s down while profiling): ${result.file}\n`,
      );
      console.log(result.summary);
      console.log(`\nCPU profile of the emulator in the same run: ${result.emulatorFile}\n`);
      console.log(result.emulatorSummary);
      return 0;
    }

    const plan = args.quick ? QUICK_PLAN : FULL_PLAN;
    const why = officialToolsMissing();
    const theirs: Tool | string = why ?? official;
    log(why ? `official tools: ${why}` : "official tools: found, measuring them too");
    const rows: Row[] = [];
    if (args.suites.includes("micro")) await guarded("micro", rows, () => runMicroSuite(plan.micro, log));
    if (args.suites.includes("forward")) {
      for (const [pacing, forwardPlan] of [
        ["realistic", plan.forwardRealistic],
        ["none", plan.forwardNone],
      ] as const) {
        await guarded(`forward (pacing ${pacing})`, rows, async () =>
          runForwardSuite({
            pacing,
            emulator: await emulator(pacing),
            service,
            plan: forwardPlan,
            official: theirs,
            log,
          }),
        );
      }
    }
    if (args.suites.includes("startup")) {
      await guarded("startup", rows, async () =>
        runStartupSuite({
          emulator: await emulator("realistic"),
          plan: plan.startup,
          official: theirs,
          pacing: "realistic",
          log,
        }),
      );
    }

    if (args.suites.includes("socks")) {
      await guarded("socks", rows, async () =>
        runSocksSuite({ emulator: await emulator("realistic"), plan: plan.socks, pacing: "realistic", log }),
      );
    }

    const seconds = (performance.now() - started) / 1000;
    const m = machine();
    console.log(
      `\naws-runas benchmarks — ${new Date().toISOString()}, node ${m.node}, ${m.cpus} × ${m.cpuModel}, ` +
        `load ${m.loadAverage.join(" ")}, ${seconds.toFixed(0)} s${args.quick ? " (--quick)" : ""}\n`,
    );
    console.log(renderTable(rows));
    console.log(`\n${HOW_TO_READ}`);
    if (args.json) {
      const file = isAbsolute(args.json) ? args.json : join(process.cwd(), args.json);
      await mkdir(dirname(file), { recursive: true });
      const data = {
        generatedAt: new Date().toISOString(),
        seconds,
        quick: args.quick,
        machine: m,
        plan,
        rows: rows.map((row) => ({ ...row, ratio: ratioOf(row) ?? null })),
      };
      await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
      console.log(`\nresults written to ${relative(process.cwd(), file)}`);
    }
    return 0;
  } finally {
    for (const e of emulators.values()) await e.close();
    await service.close();
  }
}

process.exitCode = await main();
