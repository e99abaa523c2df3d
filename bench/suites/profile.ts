/**
 * `--profile forward`: the forward data path under `node --cpu-prof` (the client process only),
 * uploads and downloads at full speed against an unpaced emulator, then a summary of where the
 * client's CPU time went. The profile is written when the forwarder exits after SIGINT.
 */
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { EmulatorProcess } from "../../test/e2e/helpers/harness.js";
import { forwardPath } from "../lib/paths.js";
import { download, upload } from "../lib/service.js";
import { ours } from "../lib/tools.js";
import { type CpuProfile, formatSummary, sourceMapResolver, summarizeProfile } from "../profile-summary.js";

export interface ProfileResult {
  /** Where the profile was written (relative to the repository root). */
  file: string;
  summary: string;
  /** Throughput seen while profiling (the profiler slows the client down a little). */
  uploadMiBps: number;
  downloadMiBps: number;
}

const MiB = 1024 * 1024;

export async function profileForward(options: {
  emulator: EmulatorProcess;
  servicePort: number;
  repoRoot: string;
  mib: number;
  log: (line: string) => void;
}): Promise<ProfileResult> {
  const { emulator, servicePort, repoRoot, mib, log } = options;
  const relativeDir = join("bench", ".profile-tmp");
  const dir = join(repoRoot, relativeDir);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  try {
    const path = await forwardPath(ours, emulator, servicePort, ["--cpu-prof", "--cpu-prof-dir", dir]);
    let up = 0;
    let down = 0;
    try {
      log(`profiling the forward client: ${mib} MiB up, ${mib} MiB down`);
      up = mib / (await upload(path.connector, mib * MiB, { stallMs: 8000 }));
      down = mib / (await download(path.connector, mib * MiB, { stallMs: 8000 }));
    } finally {
      await path.close();
    }
    const written = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
    if (written.length === 0) throw new Error("the forwarder exited without writing a CPU profile");
    const file = join("bench", "forward-client.cpuprofile");
    await rename(join(dir, written[0]!), join(repoRoot, file));
    const profile = JSON.parse(await readFile(join(repoRoot, file), "utf8")) as CpuProfile;
    const summary = formatSummary(summarizeProfile(profile, sourceMapResolver(repoRoot)), 15);
    return { file, summary, uploadMiBps: up, downloadMiBps: down };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
