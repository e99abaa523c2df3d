/**
 * Sizes and run counts. The full plan keeps the whole run under 5 minutes on a 2-core machine;
 * `--quick` trades precision for a run of about a minute.
 */
import type { ForwardPlan } from "./suites/forward.js";
import type { MicroPlan } from "./suites/micro.js";
import type { SocksPlan } from "./suites/socks.js";
import type { StartupPlan } from "./suites/startup.js";

export interface BenchPlan {
  micro: MicroPlan;
  forwardRealistic: ForwardPlan;
  forwardNone: ForwardPlan;
  startup: StartupPlan;
  socks: SocksPlan;
}

export const FULL_PLAN: BenchPlan = {
  micro: { runs: 3, codecSeconds: 1, smallPayloadMiB: 64, largePayloadMiB: 256 },
  // The agent's 1 KiB-per-ms pace makes downloads slow by design: 1 MiB takes about a second.
  // The echo row shows the round trip a user feels through the agent's paced read loops.
  // Transfers are time-boxed at 5 s: a path too slow for the planned size (the plugin uploads at
  // ≈1 MiB/s) reports MiB/s from the bytes it moved instead of running into the 12 s deadline.
  forwardRealistic: {
    runs: 5,
    uploadMiB: 32,
    downloadMiB: 1,
    echo: { runs: 3, trips: 100 },
    timeBoxMs: 5000,
  },
  forwardNone: {
    runs: 5,
    uploadMiB: 64,
    downloadMiB: 64,
    concurrency: { connections: [1, 8, 64], totalMiB: 32, runs: 3 },
    echo: { runs: 5, trips: 200 },
    resources: true,
    timeBoxMs: 5000,
    memory: { connections: 64, totalMiB: 64 },
  },
  startup: { runs: 7, keystrokes: 30, keystrokeRuns: 3 },
  socks: { connections: 40, newDestinations: 10 },
};

export const QUICK_PLAN: BenchPlan = {
  micro: { runs: 1, codecSeconds: 0.5, smallPayloadMiB: 16, largePayloadMiB: 64 },
  forwardRealistic: {
    runs: 2,
    uploadMiB: 8,
    downloadMiB: 0.25,
    echo: { runs: 1, trips: 50 },
    timeBoxMs: 3000,
  },
  forwardNone: {
    runs: 2,
    uploadMiB: 16,
    downloadMiB: 16,
    concurrency: { connections: [1, 8, 64], totalMiB: 8, runs: 1 },
    echo: { runs: 2, trips: 100 },
    resources: true,
    timeBoxMs: 3000,
    memory: { connections: 64, totalMiB: 16 },
  },
  startup: { runs: 3, keystrokes: 10, keystrokeRuns: 1 },
  socks: { connections: 15, newDestinations: 4 },
};

/** MiB moved through the forward profile run, per direction. */
export const PROFILE_MIB = 128;
