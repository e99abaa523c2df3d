import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, test } from "node:test";
import {
  childrenOf,
  findDescendant,
  parseMachineBusySeconds,
  parseStatCpuSeconds,
  parseStatus,
  readProcessUsage,
} from "../../bench/lib/procstat.js";

const linux = process.platform === "linux";

describe("bench /proc readers", () => {
  test("parseStatus reads VmHWM and VmRSS in MiB", () => {
    const text = "Name:\tnode\nVmPeak:\t  999 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t7\n";
    assert.deepEqual(parseStatus(text), { peakRssMiB: 200, rssMiB: 100 });
    assert.throws(() => parseStatus("Name:\tnode\n"), /no VmHWM line/);
  });

  test("parseStatCpuSeconds adds utime and stime after a command name with spaces and parens", () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const text = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 1 0";
    assert.equal(parseStatCpuSeconds(text), 3);
    assert.equal(parseStatCpuSeconds(text, 1000), 0.3);
    assert.throws(() => parseStatCpuSeconds("1 (x) S"), /cannot parse/);
  });

  test("parseMachineBusySeconds counts everything but idle and iowait", () => {
    const text = "cpu  100 20 30 400 50 6 4 0 0 0\ncpu0 50 10 15 200 25 3 2 0 0 0\nintr 1\n";
    assert.equal(parseMachineBusySeconds(text), 1.6);
    assert.throws(() => parseMachineBusySeconds("intr 1\n"), /no cpu line/);
  });

  test("readProcessUsage and findDescendant on live processes", {
    skip: !linux && "Linux only",
  }, async (t) => {
    const own = readProcessUsage(process.pid);
    assert.ok(own.peakRssMiB >= own.rssMiB && own.rssMiB > 1);
    assert.ok(own.cpuSeconds > 0);
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    t.after(() => child.kill());
    await once(child, "spawn");
    assert.ok(childrenOf(process.pid).includes(child.pid!));
    assert.equal(findDescendant(process.pid, "node"), child.pid);
    assert.equal(findDescendant(process.pid, "session-manager-plugin"), undefined);
    assert.throws(() => readProcessUsage(2 ** 22 + 1));
  });
});
