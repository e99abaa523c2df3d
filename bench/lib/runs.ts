/**
 * Repeated runs of one measurement, robust to a wedged data path: a run that stalls (see
 * {@link StallError}) is counted, the caller's `recover` restarts whatever wedged, and the figure
 * is made of the runs that finished. Other errors end the measurement with the error as its cell.
 */

import { StallError } from "./service.js";
import { summarize } from "./stats.js";
import { type Cell, measured, missing, type Unit } from "./table.js";

export interface RunsOptions {
  runs: number;
  /** Called after a stalled run, before the next one (restart the forwarder, reopen a session). */
  recover?: (stall: StallError) => Promise<void>;
  /** Stop after this many stalls (default 2): each one costs the stall timeout. */
  maxStalls?: number;
}

/** The outcome of several runs: the samples of the runs that finished, and what went wrong. */
export interface RunsResult {
  samples: number[];
  stalls: number;
  attempted: number;
  /** The last stall or error message. */
  problem?: string;
  /** Set when a run failed with something other than a stall (then no more runs were made). */
  failed?: boolean;
  /** Set when no run was attempted at all, saying why. */
  skipped?: string;
}

/** A result with no runs, e.g. because its path already used up its stall budget. */
export function skippedRuns(reason: string): RunsResult {
  return { samples: [], stalls: 0, attempted: 0, skipped: reason };
}

export async function runRepeated(options: RunsOptions, once: () => Promise<number>): Promise<RunsResult> {
  const result: RunsResult = { samples: [], stalls: 0, attempted: 0 };
  const maxStalls = options.maxStalls ?? 2;
  while (result.attempted < options.runs) {
    result.attempted++;
    try {
      result.samples.push(await once());
    } catch (error) {
      result.problem = (error as Error).message;
      if (!(error instanceof StallError)) {
        result.failed = true;
        break;
      }
      result.stalls++;
      if (options.recover) await options.recover(error);
      if (result.stalls >= maxStalls) break;
    }
  }
  return result;
}

/** The table cell for a set of runs, `transform` turning each sample into the shown value. */
export function cellOf(
  result: RunsResult,
  unit: Unit,
  transform: (sample: number) => number = (x) => x,
): Cell {
  if (result.skipped !== undefined) return missing(result.skipped);
  if (result.samples.length === 0) {
    const what = result.stalls > 0 ? "stalled" : "failed";
    return missing(`${what}: ${result.problem ?? "no run finished"}`);
  }
  const notes: string[] = [];
  if (result.stalls > 0) notes.push(`${result.stalls} of ${result.attempted} runs stalled`);
  if (result.failed) notes.push(`then failed: ${result.problem}`);
  return measured(
    summarize(result.samples.map(transform)),
    unit,
    notes.length > 0 ? notes.join("; ") : undefined,
  );
}
