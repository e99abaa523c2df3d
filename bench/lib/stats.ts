/**
 * Small statistics for benchmark samples (pure): the median of several runs with its min and max,
 * and percentiles of latency samples.
 */

/** A figure measured several times: the median is what the table shows, min/max the spread. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** How many runs the figure is made of. */
  runs: number;
}

/** The p-th percentile (0..100) by the nearest-rank method; `NaN` for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  if (p < 0 || p > 100) throw new RangeError(`percentile must be within 0..100 (got ${p})`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Median (the mean of the middle two for an even count), min and max of `samples`. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: sorted.length };
}

/** Runs `once` `runs` times, one after the other, and summarizes what it returned. */
export async function repeat(
  runs: number,
  once: (run: number) => Promise<number> | number,
): Promise<Summary> {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) samples.push(await once(run));
  return summarize(samples);
}
