/**
 * Resource use of another process from `/proc` (Linux only), read while it is still running:
 * peak resident set size (`VmHWM`) and CPU time (utime + stime). No IPC with the process needed.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Kernel clock ticks per second for /proc/<pid>/stat times; 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;

export interface ProcessUsage {
  /** Peak resident set size so far, MiB. */
  peakRssMiB: number;
  /** Current resident set size, MiB. */
  rssMiB: number;
  /** User + system CPU seconds so far. */
  cpuSeconds: number;
}

/** Parses the `VmHWM:` and `VmRSS:` lines of /proc/<pid>/status (values in kB). */
export function parseStatus(text: string): { peakRssMiB: number; rssMiB: number } {
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(text);
    if (!m) throw new Error(`/proc status has no ${name} line`);
    return Number(m[1]) / 1024;
  };
  return { peakRssMiB: kb("VmHWM"), rssMiB: kb("VmRSS") };
}

/** utime + stime from /proc/<pid>/stat, in seconds; the command name may hold spaces and parens. */
export function parseStatCpuSeconds(text: string, ticksPerSecond = CLOCK_TICKS): number {
  const afterName = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // Fields after the name start at field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(afterName[14 - 3]);
  const stime = Number(afterName[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error("cannot parse /proc stat");
  return (utime + stime) / ticksPerSecond;
}

/** Reads the usage of a live process; throws when the process is gone or /proc is missing. */
export function readProcessUsage(pid: number): ProcessUsage {
  const status = parseStatus(readFileSync(`/proc/${pid}/status`, "utf8"));
  const cpuSeconds = parseStatCpuSeconds(readFileSync(`/proc/${pid}/stat`, "utf8"));
  return { ...status, cpuSeconds };
}

/** Child process ids of `pid` (all threads' children), from /proc; empty when it has none or is gone. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
      if (text !== "") out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // The process ended meanwhile.
  }
  return out;
}

/** The first descendant of `pid` whose command name (`comm`) starts with `name`, if any. */
export function findDescendant(pid: number, name: string): number | undefined {
  const queue = childrenOf(pid);
  while (queue.length > 0) {
    const next = queue.shift()!;
    try {
      // comm is cut at 15 characters ("session-manage").
      const comm = readFileSync(`/proc/${next}/comm`, "utf8").trim();
      if (comm === name || (comm.length >= 15 && name.startsWith(comm))) return next;
    } catch {
      continue;
    }
    queue.push(...childrenOf(next));
  }
  return undefined;
}

/** Busy CPU seconds of the whole machine (all cores) from the `cpu` line of /proc/stat. */
export function parseMachineBusySeconds(text: string, ticksPerSecond = CLOCK_TICKS): number {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("/proc/stat has no cpu line");
  // user nice system idle iowait irq softirq steal ...: everything but idle and iowait is busy.
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / ticksPerSecond;
}

/** Busy CPU seconds of the whole machine so far. */
export function readMachineBusySeconds(): number {
  return parseMachineBusySeconds(readFileSync("/proc/stat", "utf8"));
}
