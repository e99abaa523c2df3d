/**
 * The forward and start-up suites end to end with tiny plans: the built CLI and emulator as
 * processes, the official tools declared absent. Checks the shape of the rows, not the figures.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { type BenchService, startBenchService } from "../../bench/lib/service.js";
import { formatCell, type Row } from "../../bench/lib/table.js";
import { runForwardSuite } from "../../bench/suites/forward.js";
import { runStartupSuite } from "../../bench/suites/startup.js";
import { CLI, EMULATOR, type EmulatorProcess, startEmulatorProcess } from "../e2e/helpers/harness.js";

const built = existsSync(CLI) && existsSync(EMULATOR);
const log = () => {};

function row(rows: Row[], what: RegExp): Row[] {
  const found = rows.filter((r) => what.test(r.what));
  assert.ok(found.length > 0, `no row matches ${what}: ${rows.map((r) => r.what).join(" / ")}`);
  return found;
}

describe("bench suites against the built programs", { skip: !built && "run npm run build first" }, () => {
  let emulator: EmulatorProcess;
  let service: BenchService;
  before(async () => {
    service = await startBenchService();
    emulator = await startEmulatorProcess(["--pacing", "none"]);
  });
  after(async () => {
    await emulator?.close();
    await service?.close();
  });

  test("forward: ours, the ceiling, loopback and the absent plugin side by side", async () => {
    const rows = await runForwardSuite({
      pacing: "none",
      emulator,
      service,
      plan: { runs: 1, uploadMiB: 1, downloadMiB: 0.5, echo: { runs: 1, trips: 20 }, resources: true },
      official: "not installed",
      log,
    });
    const upload = row(rows, /^forward upload \(client → sink\), pacing none$/);
    assert.deepEqual(
      upload.map((r) => r.reference?.label),
      ["emulator ceiling (in-process client)", "direct loopback", "session-manager-plugin"],
    );
    assert.equal(upload[0]!.ours.kind, "measured", formatCell(upload[0]!.ours));
    assert.equal(upload[0]!.goal, "≥ 150 MiB/s (stretch)");
    assert.equal(upload[1]!.reference!.cell.kind, "measured");
    assert.equal(formatCell(upload[2]!.reference!.cell), "not installed");
    assert.equal(row(rows, /^forward download/)[0]!.ours.kind, "measured");
    const p50 = row(rows, /echo round trip p50/)[0]!;
    assert.equal(p50.ours.kind, "measured");
    assert.equal(p50.reference?.label, "direct loopback");
    assert.equal(typeof p50.met, "boolean");
    const rss = row(rows, /peak RSS/)[0]!;
    assert.ok(rss.ours.kind === "measured" && rss.ours.unit === "MiB" && rss.ours.summary.median > 10);
    for (const what of [/^forwarder CPU per GiB, upload/, /^emulator process CPU/, /^whole machine CPU/]) {
      const cpu = row(rows, what)[0]!;
      assert.ok(cpu.ours.kind === "measured" && cpu.ours.summary.median > 0, formatCell(cpu.ours));
      assert.match(formatCell(cpu.ours), /busy \d+% of (a core|\d+ cores) over 1 MiB/);
    }
  });

  test("start-up: ssh first byte, forward ready, shell prompt and keystroke echo", async () => {
    const rows = await runStartupSuite({
      emulator,
      plan: { runs: 1, keystrokes: 3, keystrokeRuns: 1 },
      official: "not installed",
      pacing: "none",
      log,
    });
    for (const what of [/^ssm ssh ProxyCommand/, /^ssm forward/, /first prompt byte/, /keystroke echo p50/]) {
      const [head, floor] = row(rows, what);
      assert.equal(head!.ours.kind, "measured", `${what}: ${formatCell(head!.ours)}`);
      assert.equal(head!.reference?.label, "session-manager-plugin");
      assert.equal(formatCell(head!.reference!.cell), "not installed");
      if (/keystroke/.test(String(what))) {
        // Start-up of a process is no reference for a keystroke inside a session.
        assert.equal(floor, undefined);
      } else {
        assert.match(floor!.reference?.label ?? "", /^node start-up/);
        assert.equal(floor!.continued, true);
      }
    }
    assert.equal(row(rows, /^ssm ssh/)[0]!.goal, "≤ 250 ms");
  });
});
