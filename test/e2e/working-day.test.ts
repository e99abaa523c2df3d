/**
 * Issue 15 acceptance, CI variant (< 60 s): the working day of test/e2e/helpers/day.ts with
 * everything closer together — the websocket recycled every 2 s, the emulator clock at 100×
 * (15-minute role credentials expire about every 9 s), two 5-second outages mid-transfer, then
 * the idle timeout and a forward that heals. The full run (10+ minutes, recycling every 30 s,
 * credentials expiring every 2 minutes, two 60-second outages) is `bench/day.ts`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runWorkingDay } from "./helpers/day.js";

test("a working day, compressed: forward + shell through recycles, expiring credentials, outages, idle timeout", async (t) => {
  const figures = await runWorkingDay({
    seconds: 30,
    recycleSeconds: 2,
    speed: 100,
    outages: [
      { at: 8, seconds: 5 },
      { at: 20, seconds: 5 },
    ],
    echoBytes: 16 * 1024,
    tickMs: 500,
  });
  assert.ok(figures.assumeRoles >= 3, `role credentials re-assumed as they expired (${figures.assumeRoles})`);
  assert.ok(figures.resumeSessions >= 10, `${figures.resumeSessions} resumes`);
  assert.ok(figures.roundTrips > 0 && figures.shellLines > 0);
  t.diagnostic(JSON.stringify(figures));
});
