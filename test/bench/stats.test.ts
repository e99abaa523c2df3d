import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { percentile, repeat, summarize } from "../../bench/lib/stats.js";

describe("bench stats", () => {
  test("summarize gives the median (mean of the middle two for even counts), min and max", () => {
    assert.deepEqual(summarize([5, 1, 3]), { median: 3, min: 1, max: 5, runs: 3 });
    assert.deepEqual(summarize([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, runs: 4 });
    assert.deepEqual(summarize([7]), { median: 7, min: 7, max: 7, runs: 1 });
  });

  test("summarize of nothing is NaN with zero runs", () => {
    const s = summarize([]);
    assert.equal(s.runs, 0);
    assert.ok(Number.isNaN(s.median) && Number.isNaN(s.min) && Number.isNaN(s.max));
  });

  test("percentile uses the nearest rank and leaves its input alone", () => {
    const samples = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    assert.equal(percentile(samples, 50), 5);
    assert.equal(percentile(samples, 99), 10);
    assert.equal(percentile(samples, 10), 1);
    assert.equal(percentile(samples, 0), 1);
    assert.equal(percentile(samples, 100), 10);
    assert.deepEqual(samples, [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]);
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.throws(() => percentile([1], 101), RangeError);
  });

  test("repeat runs one after the other and summarizes the results", async () => {
    const seen: number[] = [];
    let running = 0;
    const s = await repeat(4, async (run) => {
      running++;
      assert.equal(running, 1, "runs must not overlap");
      seen.push(run);
      await new Promise((r) => setImmediate(r));
      running--;
      return run * 10;
    });
    assert.deepEqual(seen, [0, 1, 2, 3]);
    assert.deepEqual(s, { median: 15, min: 0, max: 30, runs: 4 });
  });
});
