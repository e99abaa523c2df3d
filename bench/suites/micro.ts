/**
 * In-process figures of the lead's micro benchmarks: the protocol codec and the data channel
 * uploading to a peer that acks at once (`bench/codec.bench.ts`, `bench/datachannel.bench.ts`).
 */
import { benchCodec } from "../codec.bench.js";
import { benchDataChannel } from "../datachannel.bench.js";
import { cellOf, runRepeated } from "../lib/runs.js";
import { summarize } from "../lib/stats.js";
import { compareRows, measured, type Row } from "../lib/table.js";

/** Sizes and run counts of the micro suite. */
export interface MicroPlan {
  runs: number;
  codecSeconds: number;
  /** MiB uploaded per run with 1 KiB and with 64 KiB payloads. */
  smallPayloadMiB: number;
  largePayloadMiB: number;
}

export async function runMicroSuite(plan: MicroPlan, log: (line: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  log(`codec: ${plan.runs} × ${plan.codecSeconds} s`);
  benchCodec(1024, 0.3); // untimed warm-up: let the JIT settle before the first measured run
  const codec = await runRepeated(
    { runs: plan.runs },
    async () => benchCodec(1024, plan.codecSeconds).opsPerSecond,
  );
  const codecCell = cellOf(codec, "op/s");
  rows.push(
    ...compareRows("codec encode+decode, 1 KiB messages (digest on both sides)", codecCell, [], {
      text: "≥ 300k/s",
      met: codecCell.kind === "measured" && codecCell.summary.median >= 300_000,
    }),
  );

  for (const [payload, mib, goal] of [
    [1024, plan.smallPayloadMiB, 60],
    [65536, plan.largePayloadMiB, 300],
  ] as const) {
    log(`data channel, ${payload} B payloads: ${plan.runs} × ${mib} MiB`);
    const rss: Array<{ start: number; peak: number }> = [];
    const result = await runRepeated({ runs: plan.runs }, async () => {
      const r = await benchDataChannel(payload, mib);
      rss.push({ start: r.rssStartMiB, peak: r.rssPeakMiB });
      return r.mibPerSecond;
    });
    const cell = cellOf(result, "MiB/s");
    rows.push(
      ...compareRows(`data channel upload, ${payload / 1024} KiB payloads, peer acks at once`, cell, [], {
        text: `≥ ${goal} MiB/s`,
        met: cell.kind === "measured" && cell.summary.median >= goal,
      }),
    );
    if (rss.length > 0) {
      const growth = summarize(rss.map((r) => r.peak - r.start));
      rows.push(
        ...compareRows(
          `data channel RSS growth over ${mib} MiB, ${payload / 1024} KiB payloads`,
          measured(growth, "MiB", `start ${summarize(rss.map((r) => r.start)).median.toFixed(0)} MiB`),
          [],
          { text: "flat (< 64 MiB growth)", met: growth.median < 64 },
        ),
      );
    }
  }
  return rows;
}
