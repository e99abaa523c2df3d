/**
 * The resume back-off (src/datachannel/resume.ts) on a ManualClock with the jitter fixed through
 * the injected entropy: which delays come, where they stop, and what ends the retrying.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ChannelError } from "@aws-runas/wire/errors.js";
import { systemEntropy } from "../../packages/aws-runas/src/datachannel/clock.js";
import {
  MAX_RECONNECT_DELAY_MS,
  type RetryPolicy,
  retryResume,
} from "../../packages/aws-runas/src/datachannel/resume.js";
import { ManualClock } from "../helpers/manual-clock.js";

/** Runs retryResume with every attempt failing as `fail(n)` says, until `succeedAt` (if any). */
async function run(
  policy: RetryPolicy,
  jitter: number,
  options: { succeedAt?: number; fail?: () => Error } = {},
) {
  const clock = new ManualClock();
  const attemptsAt: number[] = [];
  const retries: Array<{ attempt: number; first: boolean }> = [];
  const outcomeP = retryResume(policy, {
    clock,
    entropy: { ...systemEntropy, random: () => jitter },
    stopped: () => false,
    attempt: async () => {
      attemptsAt.push(clock.now());
      if (attemptsAt.length === options.succeedAt) return;
      throw options.fail?.() ?? new ChannelError("CHANNEL_CONNECT", "gateway down", { retryable: true });
    },
    onRetry: (_error, attempt, first) => retries.push({ attempt, first }),
  });
  let done = false;
  void outcomeP.then(() => {
    done = true;
  });
  // Virtual time in 1 ms steps; microtasks run between steps so each attempt settles.
  for (let i = 0; i < 20 * 60 * 1000 && !done; i += 1) {
    for (let k = 0; k < 3; k++) await Promise.resolve();
    if (!done) clock.advance(1);
  }
  return { outcome: await outcomeP, attemptsAt, retries };
}

const gaps = (at: number[]) => at.slice(1).map((t, i) => t - at[i]!);

describe("resume back-off", () => {
  test("no jitter: 100 ms doubling to the cap; the jitter doubles the first delay", async () => {
    const low = await run({ maxAttempts: 10 }, 0);
    assert.deepEqual(gaps(low.attemptsAt), [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    assert.equal(MAX_RECONNECT_DELAY_MS, 5000);
    const high = await run({ maxAttempts: 4 }, 0.5);
    assert.deepEqual(gaps(high.attemptsAt), [150, 300, 600]);
    assert.equal(low.outcome.kind, "gave-up");
    assert.deepEqual(
      low.retries.map((r) => r.first),
      [true, false, false, false, false, false, false, false, false, false],
      "only the first failure announces the loss",
    );
  });

  test("the window bounds the waiting; the last delay is cut to what is left", async () => {
    const { outcome, attemptsAt } = await run({ windowMs: 1000 }, 0);
    assert.deepEqual(attemptsAt, [0, 100, 300, 700, 1000]);
    assert.equal(outcome.kind, "gave-up");
    if (outcome.kind === "gave-up") {
      assert.equal(outcome.waitedMs, 1000);
      assert.equal(outcome.announced, true);
      assert.match(outcome.lastError?.message ?? "", /gateway down/);
    }
  });

  test("success after failures reports the time it took; a definite answer stops at once", async () => {
    const back = await run({}, 0, { succeedAt: 3 });
    assert.deepEqual(back.outcome, { kind: "connected", announced: true, afterMs: 300 });
    const first = await run({}, 0, { succeedAt: 1 });
    assert.deepEqual(first.outcome, { kind: "connected", announced: false, afterMs: 0 });
    const refused = await run({}, 0, {
      fail: () => new ChannelError("CHANNEL_CONNECT", "no such session", { retryable: false }),
    });
    assert.deepEqual(refused.attemptsAt, [0]);
    assert.equal(refused.outcome.kind, "gave-up");
    if (refused.outcome.kind === "gave-up") assert.equal(refused.outcome.announced, false);
  });
});
