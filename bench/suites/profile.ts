/**
 * `--profile forward`: the forward data path under `node --cpu-prof`, uploads and downloads at full
 * speed against an unpaced emulator, then a summary of where the CPU time went — in the client and
 * in the emulator (which is the ceiling at full speed, so its costs matter as much). Each profile is
 * written when its process exits (SIGINT for the forwarder, SIGTERM for the emulator).
 */
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { EmulatorProcess } from "../../test/e2e/helpers/harness.js";
import { forwardPath } from "../lib/paths.js";
import { download, rateOf, upload } from "../lib/service.js";
import { ours } from "../lib/tools.js";
import { type CpuProfile, formatSummary, sourceMapResolver, summarizeProfile } from "../profile-summary.js";

export interface ProfileResult {
  /** Where the profiles were written (relative to the repository root). */
  file: string;
  emulatorFile: string;
  summary: string;
  emulatorSummary: string;
  /** Throughput seen while profiling (the profiler slows the client down a little). */
  uploadMiBps: number;
  downloadMiBps: number;
}

const MiB = 1024 * 1024;

export async function profileForward(options: {
  /** Starts an unpaced emulator with these node flags. */
  startEmulator: (nodeArgs: readonly string[]) => Promise<EmulatorProcess>;
  servicePort: number;
  repoRoot: string;
  mib: number;
  log: (line: string) => void;
}): Promise<ProfileResult> {
  const { servicePort, repoRoot, mib, log } = options;
  const dir = join(repoRoot, "bench", ".profile-tmp");
  const clientDir = join(dir, "client");
  const emulatorDir = join(dir, "emulator");
  await rm(dir, { recursive: true, force: true });
  await mkdir(clientDir, { recursive: true });
  await mkdir(emulatorDir, { recursive: true });
  try {
    const emulator = await options.startEmulator(["--cpu-prof", "--cpu-prof-dir", emulatorDir]);
    const path = await forwardPath(ours, emulator, servicePort, ["--cpu-prof", "--cpu-prof-dir", clientDir]);
    let up = 0;
    let down = 0;
    try {
      log(`profiling the forward client: ${mib} MiB up, ${mib} MiB down`);
      up = rateOf(await upload(path.connector, mib * MiB, { stallMs: 8000 }));
      down = rateOf(await download(path.connector, mib * MiB, { stallMs: 8000 }));
    } finally {
      await path.close();
      await emulator.close();
    }
    const client = await keepProfile(repoRoot, clientDir, "forward-client.cpuprofile", "the forwarder");
    const emu = await keepProfile(repoRoot, emulatorDir, "forward-emulator.cpuprofile", "the emulator");
    return {
      file: client.file,
      summary: client.summary,
      emulatorFile: emu.file,
      emulatorSummary: emu.summary,
      uploadMiBps: up,
      downloadMiBps: down,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Moves the one profile a process wrote in `dir` to bench/`name` and summarises it. */
async function keepProfile(
  repoRoot: string,
  dir: string,
  name: string,
  who: string,
): Promise<{ file: string; summary: string }> {
  const written = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  if (written.length === 0) throw new Error(`${who} exited without writing a CPU profile`);
  const file = join("bench", name);
  await rename(join(dir, written[0]!), join(repoRoot, file));
  const profile = JSON.parse(await readFile(join(repoRoot, file), "utf8")) as CpuProfile;
  return { file, summary: formatSummary(summarizeProfile(profile, sourceMapResolver(repoRoot)), 15) };
}
