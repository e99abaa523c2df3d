// stopDetached's decisions with a scripted process table (the real one is in e2e/emulator-detach).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RunasError, UsageError } from "@aws-runas/wire/errors.js";
import {
  EMULATOR_VARIABLES,
  type StopDeps,
  stopDetached,
  unsetLine,
} from "../../packages/emulator/src/program/detach.js";

/** A process table where `pid` runs `cmdline` and turns into `after` once it got SIGTERM. */
function table(cmdline: string, after: "gone" | "zombie" | "alive") {
  const signals: (NodeJS.Signals | 0)[] = [];
  const deps: StopDeps = {
    kill: (_pid, signal) => {
      signals.push(signal);
    },
    inspect: () => {
      if (signals.length === 0) return { cmdline, zombie: false };
      if (after === "gone") return undefined;
      return { cmdline, zombie: after === "zombie" };
    },
    sleep: async () => {},
  };
  return { deps, signals };
}

describe("stopDetached", () => {
  test("SIGTERM, then done once the process is gone or a zombie", async () => {
    for (const after of ["gone", "zombie"] as const) {
      const { deps, signals } = table("node /x/bin/aws-runas-emulator.js --ready-fd 3", after);
      assert.equal(await stopDetached("4242", deps), undefined);
      assert.deepEqual(signals, ["SIGTERM"]);
    }
  });
  test("a process that ignores SIGTERM is an error naming kill -KILL", async () => {
    const { deps } = table("node aws-runas-emulator.js", "alive");
    await assert.rejects(stopDetached("4242", deps, 200), (error: unknown) => {
      assert.ok(error instanceof RunasError);
      assert.match(error.message, /did not stop/);
      assert.equal(error.hint, "kill -KILL 4242");
      return true;
    });
  });
  test("a pid that is not an emulator is never signalled", async () => {
    const { deps, signals } = table("sleep 30", "gone");
    await assert.rejects(stopDetached("4242", deps), /not an aws-runas-emulator process/);
    assert.deepEqual(signals, []);
  });
  test("nothing to stop is a note, not an error", async () => {
    const deps: StopDeps = {
      kill: () => assert.fail("no signal"),
      inspect: () => undefined,
      sleep: async () => {},
    };
    assert.match((await stopDetached("4242", deps)) ?? "", /already stopped/);
  });
  test("a missing or malformed RUNAS_EMULATOR_PID is a usage error", async () => {
    for (const value of [undefined, "", "0", "12a", "-3"])
      await assert.rejects(stopDetached(value, table("x", "gone").deps), UsageError);
  });
  test("--stop unsets every variable the emulator exports", () => {
    assert.equal(unsetLine(), `unset ${EMULATOR_VARIABLES.join(" ")}\n`);
    assert.ok(EMULATOR_VARIABLES.includes("RUNAS_EMULATOR_PID"));
  });
});
