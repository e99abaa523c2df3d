import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cellOf, runRepeated, skippedRuns } from "../../bench/lib/runs.js";
import { StallError } from "../../bench/lib/service.js";
import { formatCell } from "../../bench/lib/table.js";

describe("bench repeated runs", () => {
  test("a stalled run is counted, recovered from, and left out of the figure", async () => {
    const outcomes = [
      () => 2,
      () => {
        throw new StallError("no progress");
      },
      () => 4,
      () => 3,
    ];
    let recovered = 0;
    const result = await runRepeated({ runs: 4, recover: async () => void recovered++ }, async () =>
      outcomes.shift()!(),
    );
    assert.deepEqual(result, { samples: [2, 4, 3], stalls: 1, attempted: 4, problem: "no progress" });
    assert.equal(recovered, 1);
    assert.equal(
      formatCell(cellOf(result, "MiB/s", (s) => 12 / s)),
      "4.00 MiB/s (3.00–6.00); 1 of 4 runs stalled",
    );
  });

  test("it gives up after maxStalls stalls; no finished run makes a 'stalled' cell", async () => {
    let attempts = 0;
    const result = await runRepeated({ runs: 5, maxStalls: 2 }, async () => {
      attempts++;
      throw new StallError("wedged");
    });
    assert.equal(attempts, 2);
    assert.deepEqual(cellOf(result, "ms"), { kind: "missing", reason: "stalled: wedged" });
  });

  test("a skipped measurement says why", () => {
    assert.deepEqual(cellOf(skippedRuns("skipped: stalled 4 times"), "ms"), {
      kind: "missing",
      reason: "skipped: stalled 4 times",
    });
  });

  test("any other error ends the runs and is reported", async () => {
    let attempts = 0;
    const result = await runRepeated({ runs: 5 }, async () => {
      attempts++;
      if (attempts === 2) throw new Error("exited with 1");
      return 10;
    });
    assert.equal(attempts, 2);
    assert.equal(formatCell(cellOf(result, "ms")), "10.0 ms; then failed: exited with 1");
    const none = await runRepeated({ runs: 3 }, async () => {
      throw new Error("boom");
    });
    assert.deepEqual(cellOf(none, "ms"), { kind: "missing", reason: "failed: boom" });
  });
});
