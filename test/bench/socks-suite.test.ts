/**
 * The socks bench suite end to end with a tiny plan (built CLI and emulator as processes):
 * checks the rows' shape, not the figures.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { runSocksSuite } from "../../bench/suites/socks.js";
import { CLI, EMULATOR, startEmulatorProcess } from "../e2e/helpers/harness.js";

test("socks suite: pooled and new-destination setup beside a plain forward's connection", {
  skip: !(existsSync(CLI) && existsSync(EMULATOR)) && "run npm run build first",
}, async (t) => {
  const emulator = await startEmulatorProcess(["--pacing", "realistic"]);
  t.after(() => emulator.close());
  const rows = await runSocksSuite({
    emulator,
    pacing: "realistic",
    plan: { connections: 3, newDestinations: 2 },
    log: () => {},
  });
  assert.deepEqual(
    rows.map((r) => [
      r.what.replace(/ \(.*$/, ""),
      r.reference?.label.replace(/ \(.*$/, ""),
      r.continued ?? false,
    ]),
    [
      ["SOCKS connection setup p50, pooled destination", "ssm forward connection", false],
      ["SOCKS connection setup p50, new destination", "one session start in-process", false],
      ["SOCKS connection setup p50, new destination", "ssm forward connection", true],
      [
        "SOCKS connection setup p50, new destination, client speaks first",
        "one session start in-process",
        false,
      ],
    ],
  );
  for (const r of rows) {
    assert.equal(r.ours.kind, "measured", JSON.stringify(r.ours));
    assert.equal(r.reference?.cell.kind, "measured");
  }
  assert.equal(rows[0]!.goal, "≤ forward + 2 ms");
  assert.equal(typeof rows[0]!.met, "boolean");
});
