import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  compareRows,
  formatCell,
  formatNumber,
  measured,
  medianAtMost,
  missing,
  ratioOf,
  renderTable,
} from "../../bench/lib/table.js";

const figure = (median: number, min = median, max = median, runs = 3) => ({ median, min, max, runs });

describe("bench table", () => {
  test("a goal against a reference: met, not met, not met without ours, undecided without the reference", () => {
    const ms = (median: number) => measured(figure(median), "ms");
    const plugin = ms(1.76);
    assert.equal(
      medianAtMost(ms(1.11), plugin, (b) => 0.9 * b),
      true,
    );
    assert.equal(
      medianAtMost(ms(1.6), plugin, (b) => 0.9 * b),
      false,
    );
    assert.equal(
      medianAtMost(ms(3.1), ms(2.2), (forward) => forward + 2),
      true,
    );
    assert.equal(
      medianAtMost(missing("stalled"), plugin, (b) => b),
      false,
    );
    assert.equal(
      medianAtMost(ms(1), missing("not installed"), (b) => b),
      undefined,
    );
  });

  test("numbers keep about three significant digits; op/s above 10k in thousands", () => {
    assert.equal(formatNumber(1234.5), "1235");
    assert.equal(formatNumber(42.345), "42.3");
    assert.equal(formatNumber(4.5678), "4.57");
    assert.equal(formatNumber(0.01234), "0.012");
    assert.equal(formatNumber(202_345, "op/s"), "202k");
    assert.equal(formatNumber(9_999, "op/s"), "9999");
    assert.equal(formatNumber(Number.NaN), "n/a");
  });

  test("a cell shows median, unit, the spread of several runs and a note", () => {
    assert.equal(formatCell(measured(figure(20.5, 18.25, 22.75), "MiB/s")), "20.5 MiB/s (18.3–22.8)");
    assert.equal(formatCell(measured(figure(3, 3, 3, 1), "ms")), "3.00 ms");
    assert.equal(
      formatCell(measured(figure(120, 100, 130), "MiB/s", "1 of 5 runs stalled")),
      "120 MiB/s (100–130); 1 of 5 runs stalled",
    );
    assert.equal(formatCell(missing("not installed")), "not installed");
  });

  test("ratio is ours ÷ reference, only for two measured figures of one unit", () => {
    const ours = measured(figure(30), "MiB/s");
    assert.equal(
      ratioOf({ what: "x", ours, reference: { label: "r", cell: measured(figure(60), "MiB/s") } }),
      0.5,
    );
    assert.equal(
      ratioOf({ what: "x", ours, reference: { label: "r", cell: measured(figure(60), "ms") } }),
      undefined,
    );
    assert.equal(
      ratioOf({ what: "x", ours, reference: { label: "r", cell: missing("not installed") } }),
      undefined,
    );
    assert.equal(
      ratioOf({ what: "x", ours, reference: { label: "r", cell: measured(figure(0), "MiB/s") } }),
      undefined,
    );
    assert.equal(ratioOf({ what: "x", ours }), undefined);
  });

  test("compareRows puts the goal on the first reference and ditto rows after it", () => {
    const ours = measured(figure(10), "MiB/s");
    const rows = compareRows(
      "upload",
      ours,
      [
        { label: "ceiling", cell: measured(figure(20), "MiB/s") },
        { label: "plugin", cell: missing("not installed") },
      ],
      { text: "≥ 20 MiB/s", met: false },
    );
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0], {
      what: "upload",
      ours,
      reference: { label: "ceiling", cell: measured(figure(20), "MiB/s") },
      goal: "≥ 20 MiB/s",
      met: false,
    });
    assert.equal(rows[1]!.continued, true);
    assert.equal(rows[1]!.goal, undefined);
    assert.equal(compareRows("alone", ours, []).length, 1);
  });

  test("renderTable prints a markdown table with ratios, ditto marks and escaped pipes", () => {
    const ours = measured(figure(10, 9, 11), "MiB/s");
    const text = renderTable([
      ...compareRows("a|b", ours, [
        { label: "loopback", cell: measured(figure(100), "MiB/s") },
        { label: "plugin", cell: missing("not installed") },
      ]),
      { what: "latency", ours: measured(figure(0.3), "ms"), goal: "≤ 0.5 ms", met: true },
      { what: "miss", ours: measured(figure(1), "ms"), goal: "≤ 0.5 ms", met: false },
    ]);
    const lines = text.split("\n");
    assert.equal(lines[0], "| what | ours | limit/reference | ratio | goal | met? |");
    assert.equal(lines[1], "|---|---|---|---|---|---|");
    assert.equal(
      lines[2],
      "| a\\|b | 10.0 MiB/s (9.00–11.0) | loopback: 100 MiB/s (100–100) | 0.10× |  |  |",
    );
    assert.equal(lines[3], "| 〃 | 〃 | plugin: not installed |  |  |  |");
    assert.equal(lines[4], "| latency | 0.300 ms (0.300–0.300) |  |  | ≤ 0.5 ms | yes |");
    assert.equal(lines[5], "| miss | 1.00 ms (1.00–1.00) |  |  | ≤ 0.5 ms | **no** |");
    assert.equal(lines.length, 6);
  });
});
